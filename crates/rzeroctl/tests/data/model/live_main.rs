//! The program `tests/model_live.rs` builds around the models rzeroctl generated from
//! `shop.sql`: `model_live run <db>` creates database `<db>` on the local MariaDB,
//! applies the generated migrations (`schema.rs`) and exercises every generated method,
//! plain (`plain/`) and cache-aside over the local Redis (`cache/`), then does the same
//! on an in-memory SQLite with the SQLite migrations and an in-process cache;
//! `model_live drop <db>` drops the database.

mod cache;
mod hostile;
mod orders;
mod plain;

use std::time::Duration;

use rzero::conf::RedisConf;
use rzero::stores::StoreError;
use rzero::stores::cache::{Cache, CacheConf, CachedConn};
use rzero::stores::redis::RedisStore;
use rzero::stores::sql::{SqlPool, SqlPoolConf};

const SERVER: &str = "mysql://root@127.0.0.1:3306";

/// The same checks on the plain and the cached models (their types differ).
macro_rules! exercise {
    ($m:ident, $users:expr, $stock:expr) => {{
        let users = $users;
        let ann = $m::User {
            name: "ann".into(),
            mobile: Some("555-0100".into()),
            tenant: 1,
            email: "ann@example.com".into(),
            nickname: "Ann".into(),
            r#type: 200,
            active: true,
            balance: "12.50".into(),
            score: Some(4.5),
            bio: Some("a long text ✓".into()),
            avatar: Some(vec![0, 159, 255]),
            settings: Some(r#"{"theme": "dark"}"#.into()),
            birthday: Some("1990-01-31".into()),
            ..Default::default()
        };
        let id = users.insert(&ann).await?;
        assert!(id > 0);
        let mut got = users.find_one(id).await?;
        assert_eq!(got.id, id);
        assert_eq!((got.name.as_str(), got.mobile.as_deref()), ("ann", Some("555-0100")));
        assert_eq!((got.r#type, got.active, got.balance.as_str()), (200, true, "12.50"));
        assert_eq!((got.score, got.bio.as_deref()), (Some(4.5), Some("a long text ✓")));
        assert_eq!(got.avatar.as_deref(), Some(&[0u8, 159, 255][..]));
        assert!(got.settings.as_deref().is_some_and(|s| s.contains("dark")), "{got:?}");
        assert_eq!(got.birthday.as_deref(), Some("1990-01-31"));
        assert!(got.create_time.starts_with("20"), "{got:?}");
        assert_eq!(users.find_one(id).await?, got);
        assert_eq!(users.find_one_by_name("ann").await?, got);
        assert_eq!(users.find_one_by_mobile("555-0100").await?, got);
        assert_eq!(users.find_one_by_tenant_email(1, "ann@example.com").await?, got);
        assert_eq!(users.find_one_by_name("nobody").await, Err(StoreError::NotFound));

        // A duplicate unique key is a conflict; NULL in a unique column is not.
        let dup = users.insert(&ann).await;
        assert!(matches!(dup, Err(StoreError::Conflict(_))), "{dup:?}");
        let bob = $m::User {
            name: "bob".into(),
            tenant: 1,
            email: "bob@example.com".into(),
            balance: "0".into(),
            ..Default::default()
        };
        let bob_id = users.insert(&bob).await?;
        let bob_row = users.find_one(bob_id).await?;
        assert_eq!((bob_row.mobile, bob_row.bio, bob_row.active), (None, None, false));

        // Update, then every lookup sees the new row.
        got.name = "annie".into();
        got.nickname = "Annie".into();
        got.balance = "99.99".into();
        got.active = false;
        users.update(&got).await?;
        let after = users.find_one(id).await?;
        assert_eq!((after.nickname.as_str(), after.balance.as_str(), after.active), ("Annie", "99.99", false));
        assert_eq!(users.find_one_by_name("annie").await?.id, id);
        assert_eq!(users.find_one_by_name("ann").await, Err(StoreError::NotFound));
        assert_eq!(users.find_one_by_mobile("555-0100").await?.nickname, "Annie");

        // Delete, then NotFound everywhere.
        users.delete(id).await?;
        assert_eq!(users.find_one(id).await, Err(StoreError::NotFound));
        assert_eq!(users.find_one_by_name("annie").await, Err(StoreError::NotFound));
        assert_eq!(users.find_one_by_tenant_email(1, "ann@example.com").await, Err(StoreError::NotFound));
        assert_eq!(users.delete(id).await, Err(StoreError::NotFound));
        users.delete(bob_id).await?;

        // A natural, composite primary key and a column-level UNIQUE.
        let stock = $stock;
        let item = $m::ProductStock {
            sku: "sku-1".into(),
            warehouse: 2,
            barcode: "4006381333931".into(),
            quantity: 3_000_000_000,
            price: "19.90".into(),
            restocked_at: Some("2024-05-01 10:00:00.250".into()),
        };
        assert_eq!(stock.find_one("sku-1", 2).await, Err(StoreError::NotFound));
        stock.insert(&item).await?;
        assert_eq!(stock.find_one("sku-1", 2).await?, item);
        assert_eq!(stock.find_one_by_barcode("4006381333931").await?, item);
        let moved = $m::ProductStock { quantity: 7, ..item.clone() };
        stock.update(&moved).await?;
        assert_eq!(stock.find_one("sku-1", 2).await?.quantity, 7);
        assert_eq!(stock.find_one_by_barcode("4006381333931").await?.quantity, 7);
        let clash = $m::ProductStock { warehouse: 3, ..item.clone() };
        assert!(matches!(stock.insert(&clash).await, Err(StoreError::Conflict(_))));
        stock.delete("sku-1", 2).await?;
        assert_eq!(stock.find_one_by_barcode("4006381333931").await, Err(StoreError::NotFound));
    }};
}

#[tokio::main]
async fn main() -> Result<(), StoreError> {
    let args: Vec<String> = std::env::args().collect();
    let [_, cmd, db] = &args[..] else {
        panic!("usage: model_live run|drop <db>");
    };
    let admin = SqlPool::connect(&SqlPoolConf::new(format!("{SERVER}/test"))).await?;
    if cmd == "drop" {
        for name in [db.to_owned(), format!("{db}_hostile"), format!("{db}_orders")] {
            let sql = format!("DROP DATABASE IF EXISTS `{name}`");
            admin.query(&sql).execute().await?;
        }
        return Ok(());
    }
    let sql = format!("CREATE DATABASE `{db}` CHARACTER SET utf8mb4");
    admin.query(&sql).execute().await?;
    let pool = SqlPool::connect(&SqlPoolConf::new(format!("{SERVER}/{db}"))).await?;
    migrated(&pool).await?;

    exercise!(plain, plain::UserModel::new(pool.clone()), plain::ProductStockModel::new(pool.clone()));
    println!("plain models: ok");

    let redis = RedisStore::connect(&RedisConf {
        host: "127.0.0.1:6379".into(),
        ..RedisConf::default()
    })
    .await?;
    redis.ping().await?;
    let conf = CacheConf {
        expiry: Duration::from_secs(60),
        not_found_expiry: Duration::from_secs(60),
        ..CacheConf::default()
    };
    let conn = CachedConn::new(pool.clone(), redis.clone(), conf);
    exercise!(cache, cache::UserModel::new(conn.clone()), cache::ProductStockModel::new(conn.clone()));
    cache_specifics(&pool, &conn, &redis, db).await?;
    println!("cached models: ok");

    // The embedded default: the same models on SQLite, migrated with its translation.
    let lite = SqlPool::connect(&SqlPoolConf::new("sqlite::memory:")).await?;
    migrated(&lite).await?;
    exercise!(plain, plain::UserModel::new(lite.clone()), plain::ProductStockModel::new(lite.clone()));
    let memory = CachedConn::new(lite.clone(), Cache::memory(&CacheConf::default()), CacheConf::default());
    exercise!(cache, cache::UserModel::new(memory.clone()), cache::ProductStockModel::new(memory.clone()));
    println!("sqlite models: ok");
    // A database of its own: each schema's migration 1 is its own.
    let sql = format!("CREATE DATABASE `{db}_hostile` CHARACTER SET utf8mb4");
    admin.query(&sql).execute().await?;
    hostile_schema(&format!("{SERVER}/{db}_hostile")).await?;
    hostile_schema("sqlite::memory:").await?;
    println!("hostile model: ok");
    let sql = format!("CREATE DATABASE `{db}_orders` CHARACTER SET utf8mb4");
    admin.query(&sql).execute().await?;
    order_schema(&format!("{SERVER}/{db}_orders")).await?;
    order_schema("sqlite::memory:").await?;
    println!("order-rpc schema: ok");
    Ok(())
}

/// The model of `hostile.sql` on MariaDB and SQLite: names with quotes, backquotes, `*/`
/// and line breaks, and seed strings with all of them, read and written back unchanged.
async fn hostile_schema(dsn: &str) -> Result<(), StoreError> {
    let pool = SqlPool::connect(&SqlPoolConf::new(dsn)).await?;
    pool.migrate(&hostile::schema::migrations(pool.system())).await?;
    let conn = CachedConn::new(pool, Cache::memory(&CacheConf::default()), CacheConf::default());
    let model = hostile::WeIrdTableFnEvilModel::new(conn);
    let seed = model.find_one_by_na_me("a'b\nc */").await?;
    assert_eq!(seed.column, Some(1));
    let other = model.find_one_by_na_me("\");fn evil(){//").await?;
    assert_eq!(other.column, None);
    let row = hostile::WeIrdTableFnEvil { na_me: "x'y\\z".into(), column: Some(7), ..Default::default() };
    let id = model.insert(&row).await?;
    let mut got = model.find_one(id).await?;
    assert_eq!((got.na_me.as_str(), got.column), ("x'y\\z", Some(7)));
    got.column = None;
    model.update(&got).await?;
    assert_eq!(model.find_one_by_na_me("x'y\\z").await?.column, None);
    model.delete(id).await?;
    assert_eq!(model.find_one(id).await, Err(StoreError::NotFound));
    Ok(())
}

/// Applies the generated migrations, twice (the second run has nothing to do), and
/// checks the seed rows arrived with their values.
async fn migrated(pool: &SqlPool) -> Result<(), StoreError> {
    let migrations = plain::schema::migrations(pool.system());
    pool.migrate(&migrations).await?;
    pool.migrate(&migrations).await?;
    let stock = plain::ProductStockModel::new(pool.clone());
    let seed = stock.find_one("seed-1", 1).await?;
    assert_eq!((seed.quantity, seed.price.as_str()), (5, "9.99"));
    // `'it''s a \\ "seed"'` in MySQL's syntax; the same string in SQLite's.
    let odd = stock.find_one("it's a \\ \"seed\"", 1).await?;
    assert_eq!(odd.price, "0.10", "{odd:?}");
    Ok(())
}

/// What only the cache shows: reads are served from Redis under goctl's keys, and
/// writes through the model drop them.
async fn cache_specifics(
    pool: &SqlPool,
    conn: &CachedConn,
    redis: &RedisStore,
    db: &str,
) -> Result<(), StoreError> {
    let users = cache::UserModel::new(conn.clone());
    let carol = cache::User {
        name: "carol".into(),
        email: "carol@example.com".into(),
        balance: "1".into(),
        ..Default::default()
    };
    let id = users.insert(&carol).await?;
    users.find_one_by_name("carol").await?;
    let id_key = format!("cache:{db}:user:id:{id}");
    let name_key = format!("cache:{db}:user:name:carol");
    assert!(redis.get(&id_key).await?.is_some(), "{id_key} not cached");
    assert_eq!(redis.get(&name_key).await?, Some(id.to_string()));

    // A write behind the model's back is not seen: the row comes from the cache.
    let cached = users.find_one(id).await?;
    pool.query("UPDATE `user` SET `create_time` = '2000-01-01 00:00:00' WHERE `id` = ?")
        .bind(id)
        .execute()
        .await?;
    assert_eq!(users.find_one(id).await?, cached);
    // A write through the model (which leaves `create_time` to the database) drops the
    // keys: the next read sees the database.
    let mut row = cached.clone();
    row.email = "carol@example.org".into();
    users.update(&row).await?;
    assert_eq!(redis.get(&id_key).await?, None);
    assert_eq!(redis.get(&name_key).await?, None);
    let fresh = users.find_one(id).await?;
    assert_eq!(fresh.email, "carol@example.org");
    assert_eq!(fresh.create_time, "2000-01-01 00:00:00");

    // An absent row is remembered, and an insert of it clears the placeholder.
    let stock = cache::ProductStockModel::new(conn.clone());
    assert_eq!(stock.find_one("sku-9", 1).await, Err(StoreError::NotFound));
    let absent = format!("cache:{db}:product_stock:sku:warehouse:sku-9:1");
    assert_eq!(redis.get(&absent).await?.as_deref(), Some("*"));
    let item = cache::ProductStock {
        sku: "sku-9".into(),
        warehouse: 1,
        barcode: "0000000000009".into(),
        price: "1.00".into(),
        ..Default::default()
    };
    stock.insert(&item).await?;
    assert_eq!(stock.find_one("sku-9", 1).await?.barcode, "0000000000009");

    users.delete(id).await?;
    assert_eq!(redis.get(&id_key).await?, None);
    assert_eq!(users.find_one(id).await, Err(StoreError::NotFound));
    redis.del(&[&id_key, &name_key, &absent]).await?;
    Ok(())
}

/// order-rpc's two migrations (the second an `ALTER TABLE ... ADD COLUMN` and a unique
/// index) on MariaDB and SQLite: the seed products, an order found by its id and by its
/// idempotency key, a second order with the same key refused.
async fn order_schema(dsn: &str) -> Result<(), StoreError> {
    let pool = SqlPool::connect(&SqlPoolConf::new(dsn)).await?;
    let migrations = orders::schema::migrations(pool.system());
    pool.migrate(&migrations).await?;
    pool.migrate(&migrations).await?;
    let conn = CachedConn::new(pool, Cache::memory(&CacheConf::default()), CacheConf::default());
    let products = orders::ProductsModel::new(conn.clone());
    assert_eq!(products.find_one(1).await?.name, "keyboard");
    let orders = orders::OrdersModel::new(conn);
    let order = orders::Orders {
        user_id: 1,
        product_id: 1,
        amount_cents: 9999,
        status: "created".into(),
        created_at: 1_700_000_000,
        idempotency_key: Some("key-1".into()),
        ..Default::default()
    };
    let id = orders.insert(&order).await?;
    assert_eq!(orders.find_one(id).await?.amount_cents, 9999);
    assert_eq!(orders.find_one_by_idempotency_key("key-1").await?.id, id);
    assert!(matches!(orders.insert(&order).await, Err(StoreError::Conflict(_))));
    let unknown = orders::Orders { product_id: 99, idempotency_key: None, ..order };
    assert!(orders.insert(&unknown).await.is_err(), "the foreign key holds on {dsn}");
    Ok(())
}
