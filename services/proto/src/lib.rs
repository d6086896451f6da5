//! The order system's gRPC contracts, generated at build time: [`order`] (the guide's
//! `order.proto`) and [`user`] (`user.proto`), each with its client and server.

/// `package order`: service `Order` (`CreateOrder`, `GetOrder`).
#[allow(missing_docs, clippy::all, unreachable_pub)]
pub mod order {
    tonic::include_proto!("order");
}

/// `package user`: service `User` (`GetUser`).
#[allow(missing_docs, clippy::all, unreachable_pub)]
pub mod user {
    tonic::include_proto!("user");
}

/// The encoded descriptors of both packages, for gRPC reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] = tonic::include_file_descriptor_set!("orders_descriptor");
