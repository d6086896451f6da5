//! Your queries on the `product_stock` table. rzeroctl wrote this file once and never
//! rewrites it: add methods to [`ProductStockModel`] below, next to the generated ones in
//! `product_stock_model_gen.rs` (whose `PRODUCT_STOCK_TABLE` and `PRODUCT_STOCK_ROWS` help write SQL).

use super::product_stock_model_gen::ProductStockModel;

impl ProductStockModel {
    // pub async fn find_all(&self) -> Result<Vec<ProductStock>, StoreError> { ... }
}
