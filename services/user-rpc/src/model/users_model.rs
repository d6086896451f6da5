//! Your queries on the `users` table. rzeroctl wrote this file once and never
//! rewrites it: add methods to [`UsersModel`] below, next to the generated ones in
//! `users_model_gen.rs` (whose `USERS_TABLE` and `USERS_ROWS` help write SQL).

use super::users_model_gen::UsersModel;

impl UsersModel {
    // pub async fn find_all(&self) -> Result<Vec<Users>, StoreError> { ... }
}
