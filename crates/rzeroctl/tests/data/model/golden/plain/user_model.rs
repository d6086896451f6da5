//! Your queries on the `user` table. rzeroctl wrote this file once and never
//! rewrites it: add methods to [`UserModel`] below, next to the generated ones in
//! `user_model_gen.rs` (whose `USER_TABLE` and `USER_ROWS` help write SQL).

use super::user_model_gen::UserModel;

impl UserModel {
    // pub async fn find_all(&self) -> Result<Vec<User>, StoreError> { ... }
}
