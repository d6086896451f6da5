//! A config value following a real etcd key: good revisions are taken and announced,
//! bad ones are rejected with the reason while the last good one stays.

use rzero_rpc::configcenter::{ConfigError, ConfigValue};
use rzero_rpc::testing::Etcd;
use serde::{Deserialize, Serialize};

use crate::common::within;
use crate::start;

#[derive(Debug, Deserialize, Serialize, PartialEq)]
struct Limits {
    #[serde(rename = "MaxOrders")]
    max_orders: u32,
    #[serde(rename = "Region", default)]
    region: String,
}

const KEY: &str = "order-api/limits";

async fn limits(etcd: &Etcd) -> Result<ConfigValue<Limits>, ConfigError> {
    ConfigValue::<Limits>::builder(&etcd.conf(KEY))
        .validate(|l| match l.max_orders {
            0 => Err("MaxOrders: must be more than 0".into()),
            _ => Ok(()),
        })
        .start()
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_config_value_keeps_the_last_good_revision() {
    let etcd = start(Etcd::builder()).await;
    let e = limits(&etcd).await.expect_err("no key yet");
    assert!(matches!(e, ConfigError::Missing { .. }), "{e}");
    etcd.put(KEY, "MaxOrders: 0\n").await;
    let e = limits(&etcd).await.expect_err("a bad first value");
    assert!(
        e.to_string().contains("MaxOrders: must be more than 0"),
        "{e}"
    );

    etcd.put(KEY, "MaxOrders: 10\n").await;
    let value = limits(&etcd).await.expect("a good value");
    assert_eq!(
        *value.get(),
        Limits {
            max_orders: 10,
            region: String::new()
        }
    );
    let good = value.revision();
    let mut changes = value.subscribe();
    let mut rejections = value.rejections();

    // Each bad revision is rejected, says why, and leaves the value alone.
    let oversized = format!("MaxOrders: 5\nRegion: {}\n", "x".repeat(1 << 20));
    for (bad, why) in [
        ("MaxOrders: [5\n", "etcd:order-api/limits@"),
        ("MaxOrders: five\n", "MaxOrders: invalid type"),
        ("MaxOrders: 5\nMaxOrdrs: 6\n", "MaxOrdrs: unknown key"),
        ("MaxOrders: 0\n", "MaxOrders: must be more than 0"),
        (oversized.as_str(), "bytes is more than"),
    ] {
        etcd.put(KEY, bad).await;
        within(10, rejections.changed())
            .await
            .expect("follower running");
        let rejected = rejections.borrow_and_update().clone().expect("a rejection");
        assert!(rejected.revision > good, "{rejected:?}");
        assert!(rejected.reason.contains(why), "{why}: {}", rejected.reason);
        assert_eq!(value.get().max_orders, 10);
        assert_eq!(value.revision(), good);
    }
    assert!(
        !changes.has_changed().expect("open"),
        "no good revision yet"
    );

    // A good one (JSON is YAML too) is taken, announced, and clears the rejection.
    etcd.put(KEY, r#"{"MaxOrders": 20, "Region": "eu"}"#).await;
    within(10, changes.changed())
        .await
        .expect("follower running");
    assert_eq!(
        *changes.borrow_and_update().value,
        Limits {
            max_orders: 20,
            region: "eu".into()
        }
    );
    assert!(value.revision() > good);
    within(10, rejections.changed())
        .await
        .expect("follower running");
    assert_eq!(*rejections.borrow_and_update(), None);

    // Deleted: reported, the value stays; put back: taken.
    etcd.delete(KEY).await;
    within(10, rejections.changed())
        .await
        .expect("follower running");
    let rejected = rejections.borrow_and_update().clone().expect("a rejection");
    assert!(rejected.reason.contains("deleted"), "{rejected:?}");
    assert_eq!(value.get().max_orders, 20);
    etcd.put(KEY, "MaxOrders: 30\n").await;
    within(10, changes.changed())
        .await
        .expect("follower running");
    assert_eq!(value.get().max_orders, 30);
}
