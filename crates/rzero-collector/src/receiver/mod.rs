//! The OTLP receiver: gRPC on 4317 and HTTP (protobuf and JSON) on 4318.

pub(crate) mod grpc;
pub(crate) mod http;
