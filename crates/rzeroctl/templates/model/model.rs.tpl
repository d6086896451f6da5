//! Your queries on the `{{ table | comment }}` table. rzeroctl wrote this file once and never
//! rewrites it: add methods to [`{{ model }}`] below, next to the generated ones in
//! `{{ stem }}_model_gen.rs` (whose `{{ upper }}_TABLE` and `{{ upper }}_ROWS` help write SQL).

use super::{{ stem }}_model_gen::{{ model }};

impl {{ model }} {
    // pub async fn find_all(&self) -> Result<Vec<{{ row }}>, StoreError> { ... }
}
