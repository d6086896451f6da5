//! etcd with auth and with TLS: the right password and certificates work, the wrong
//! ones are refused with an error that says what to check.

use rzero_conf::{EtcdConf, Secret};
use rzero_rpc::discovery::Discovery;
use rzero_rpc::discovery::etcd::{EtcdError, Registration};
use rzero_rpc::testing::{Etcd, EtcdTls, TestCa};

use crate::common::within;
use crate::{start, wait_list};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auth_takes_the_right_password_and_refuses_a_wrong_one() {
    let etcd = start(Etcd::builder().auth("rzero", "s3cret")).await;
    let conf = etcd.conf("echo.rpc");
    let registration = within(10, Registration::start(&conf, "10.0.0.1:1".into()))
        .await
        .expect("the right password");
    let mut seen = Discovery::Etcd(conf.clone()).watch();
    wait_list(&mut seen, &["10.0.0.1:1"]).await;

    let wrong = EtcdConf {
        pass: Secret("hunter2".into()),
        ..conf.clone()
    };
    let e = within(10, Registration::start(&wrong, "10.0.0.2:1".into()))
        .await
        .expect_err("a wrong password");
    assert!(matches!(e, EtcdError::Auth { .. }), "{e}");
    let text = e.to_string();
    assert!(text.contains("authenticating as `rzero` failed"), "{text}");
    assert!(text.contains("check Etcd.User and Etcd.Pass"), "{text}");
    assert!(!text.contains("hunter2"), "{text}");

    let stranger = EtcdConf {
        user: "nobody".into(),
        ..conf.clone()
    };
    let e = within(10, Registration::start(&stranger, "10.0.0.2:1".into()))
        .await
        .expect_err("an unknown user");
    assert!(matches!(e, EtcdError::Auth { .. }), "{e}");

    let anonymous = EtcdConf {
        user: String::new(),
        pass: Secret::default(),
        ..conf.clone()
    };
    let e = within(10, Registration::start(&anonymous, "10.0.0.2:1".into()))
        .await
        .expect_err("no user where auth is on");
    assert!(matches!(e, EtcdError::Call { .. }), "{e}");
    assert!(e.to_string().contains("set Etcd.User and Etcd.Pass"), "{e}");

    registration.deregister().await;
    wait_list(&mut seen, &[]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_needs_the_right_ca_and_a_client_certificate() {
    let dir = tempfile::tempdir().expect("dir");
    let ca = TestCa::new(dir.path(), "etcd");
    let other = TestCa::new(dir.path(), "other");
    let client = ca.issue("client", &["rzero-client"]);
    let stranger = other.issue("stranger", &["rzero-client"]);
    let tls = EtcdTls {
        server: ca.issue("server", &["127.0.0.1", "localhost"]),
        ca_file: ca.file().to_owned(),
        client_cert_auth: true,
        client: Some(client),
    };
    let etcd = start(Etcd::builder().tls(tls)).await;
    let path = |p: &std::path::Path| p.to_str().expect("utf-8").to_owned();

    // The right CA and a client certificate it signed.
    let good = etcd.conf("echo.rpc");
    assert!(!good.ca_cert_file.is_empty() && !good.cert_file.is_empty());
    let registration = within(10, Registration::start(&good, "10.0.0.1:1".into()))
        .await
        .expect("mutual TLS");
    let mut seen = Discovery::Etcd(good.clone()).watch();
    wait_list(&mut seen, &["10.0.0.1:1"]).await;

    // InsecureSkipVerify: etcd's certificate is not checked, the client's still is.
    let skip = EtcdConf {
        ca_cert_file: String::new(),
        insecure_skip_verify: true,
        ..good.clone()
    };
    within(10, Registration::start(&skip, "10.0.0.2:1".into()))
        .await
        .expect("InsecureSkipVerify")
        .deregister()
        .await;

    let refused = |conf: EtcdConf, why: &'static str| async move {
        let e = within(10, Registration::start(&conf, "10.0.0.3:1".into()))
            .await
            .expect_err(why);
        assert!(
            matches!(e, EtcdError::Call { .. } | EtcdError::Timeout { .. }),
            "{why}: {e}"
        );
        e.to_string()
    };
    let e = refused(
        EtcdConf {
            ca_cert_file: path(other.file()),
            ..good.clone()
        },
        "etcd's certificate from a CA we do not trust",
    )
    .await;
    assert!(
        e.contains("UnknownIssuer") && e.contains("check Etcd.CACertFile"),
        "{e}"
    );
    // TLS 1.3: the client's handshake may end before etcd checks for a certificate, so
    // the client sees etcd's alert or only the connection closed; either way the error
    // points at the client certificate.
    let e = refused(
        EtcdConf {
            cert_file: String::new(),
            cert_key_file: String::new(),
            ..good.clone()
        },
        "no client certificate",
    )
    .await;
    assert!(e.contains("Etcd.CertFile"), "{e}");
    let e = refused(
        EtcdConf {
            cert_file: path(&stranger.cert),
            cert_key_file: path(&stranger.key),
            ..good.clone()
        },
        "a client certificate from another CA",
    )
    .await;
    assert!(e.contains("Etcd.CertFile"), "{e}");
    refused(
        EtcdConf {
            hosts: vec![format!("http://{}", etcd.endpoint)],
            ca_cert_file: String::new(),
            cert_file: String::new(),
            cert_key_file: String::new(),
            ..good.clone()
        },
        "plain HTTP/2 to a TLS port",
    )
    .await;

    registration.deregister().await;
    wait_list(&mut seen, &[]).await;
}
