//! What the handlers share (go-zero's `internal/svc.ServiceContext`).

use order_proto::order::order_client::OrderClient;
use rzero_rpc::RpcClient;

/// The order-rpc client; cheap to clone.
#[derive(Clone, Debug)]
pub struct ServiceContext {
    /// Calls to order-rpc, traced, balanced and behind a breaker.
    pub order_rpc: OrderClient<RpcClient>,
}
