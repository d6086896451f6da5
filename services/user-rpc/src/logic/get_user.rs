//! `user.User/GetUser`: the user, or NOT_FOUND; order-rpc's ValidateUser checks its
//! `status`. Store errors map to gRPC codes here, once: NotFound is NOT_FOUND,
//! Unavailable is UNAVAILABLE (order-api answers 503 for it), the rest INTERNAL with a
//! message that names no table, query or address (the span and the log have those).

use rzero::stores::StoreError;
use tonic::{Request, Response, Status};

use crate::pb;
use crate::svc::ServiceContext;

/// `rpc GetUser(GetUserRequest) returns (GetUserResponse)`.
pub async fn get_user(
    ctx: &ServiceContext,
    request: Request<pb::user::GetUserRequest>,
) -> Result<Response<pb::user::GetUserResponse>, Status> {
    let id = request.into_inner().user_id;
    if id <= 0 {
        return Err(Status::invalid_argument(format!(
            "user_id must be positive, got {id}"
        )));
    }
    let user = ctx.users.find_one(id).await.map_err(|e| status(e, id))?;
    Ok(Response::new(pb::user::GetUserResponse {
        user_id: user.id,
        name: user.name,
        status: user.status,
    }))
}

fn status(e: StoreError, id: i64) -> Status {
    match e {
        StoreError::NotFound => Status::not_found(format!("user {id} does not exist")),
        StoreError::Unavailable(_) => {
            Status::unavailable("the user database is unavailable, retry later")
        }
        other => {
            tracing::error!(error = %other, user_id = id, "reading a user failed");
            Status::internal(format!("reading user {id} failed"))
        }
    }
}
