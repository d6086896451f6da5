//! `user.User`: GetUser. Store errors map to gRPC codes once, here: NotFound is
//! NOT_FOUND, Unavailable is UNAVAILABLE (order-rpc answers 503 for it), the rest
//! INTERNAL.

use order_proto::user::user_server::User;
use order_proto::user::{GetUserRequest, GetUserResponse};
use rzero_stores::StoreError;
use rzero_stores::cache::CachedConn;
use tonic::{Request, Response, Status};

use crate::model;

/// The service.
#[derive(Clone, Debug)]
pub struct UserService {
    conn: CachedConn,
}

impl UserService {
    /// The service over `conn`.
    pub fn new(conn: CachedConn) -> Self {
        UserService { conn }
    }
}

fn status(e: StoreError, what: &str) -> Status {
    match e {
        StoreError::NotFound => Status::not_found(format!("{what} does not exist")),
        StoreError::Unavailable(m) => {
            Status::unavailable(format!("user database unavailable, retry later: {m}"))
        }
        StoreError::Conflict(m) => Status::already_exists(m),
        other => Status::internal(format!("reading {what} failed: {other}")),
    }
}

#[tonic::async_trait]
impl User for UserService {
    async fn get_user(
        &self,
        request: Request<GetUserRequest>,
    ) -> Result<Response<GetUserResponse>, Status> {
        let id = request.into_inner().user_id;
        if id <= 0 {
            return Err(Status::invalid_argument(format!(
                "user_id must be positive, got {id}"
            )));
        }
        let user = model::find_one(&self.conn, id)
            .await
            .map_err(|e| status(e, &format!("user {id}")))?;
        Ok(Response::new(GetUserResponse {
            user_id: user.id,
            name: user.name,
            status: user.status,
        }))
    }
}
