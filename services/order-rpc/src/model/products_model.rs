//! Your queries on the `products` table. rzeroctl wrote this file once and never
//! rewrites it: add methods to [`ProductsModel`] below, next to the generated ones in
//! `products_model_gen.rs` (whose `PRODUCTS_TABLE` and `PRODUCTS_ROWS` help write SQL).

use super::products_model_gen::ProductsModel;

impl ProductsModel {
    // pub async fn find_all(&self) -> Result<Vec<Products>, StoreError> { ... }
}
