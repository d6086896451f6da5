//! A real etcd on free loopback ports, plain or with TLS, client certificates and auth.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use rzero_conf::{EtcdConf, Secret};

use super::CertFiles;
use crate::discovery::etcd::pb::auth_client::AuthClient;
use crate::discovery::etcd::pb::permission::Type as PermissionType;
use crate::discovery::etcd::pb::{
    AuthEnableRequest, AuthRoleAddRequest, AuthRoleGrantPermissionRequest, AuthUserAddRequest,
    AuthUserGrantRoleRequest, Permission, PutRequest, RangeRequest,
};
use crate::discovery::etcd::{Client, Settings};

static INSTALL: Mutex<()> = Mutex::new(());

/// The etcd binary, installed once if missing.
fn binary() -> PathBuf {
    let _guard = INSTALL.lock().unwrap_or_else(|p| p.into_inner());
    let find = || {
        std::env::var_os("PATH")
            .into_iter()
            .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
            .chain([PathBuf::from("/usr/bin")])
            .map(|d| d.join("etcd"))
            .find(|p| p.is_file())
    };
    if let Some(p) = find() {
        return p;
    }
    let _ = Command::new("apt-get").args(["update", "-qq"]).status();
    let status = Command::new("apt-get")
        .args(["install", "-y", "-qq", "etcd-server"])
        .status()
        .expect("run apt-get");
    assert!(status.success(), "apt-get install -y etcd-server failed");
    find().expect("etcd installed by etcd-server")
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// etcd's TLS on its client port.
#[derive(Clone, Debug)]
pub struct EtcdTls {
    /// etcd's certificate (for `127.0.0.1`) and key.
    pub server: CertFiles,
    /// The CA that signed it, which etcd also trusts for client certificates.
    pub ca_file: PathBuf,
    /// `--client-cert-auth`: refuse clients without a certificate signed by `ca_file`.
    pub client_cert_auth: bool,
    /// The client certificate [`Etcd::conf`] hands out (and the set-up presents) when
    /// `client_cert_auth` is on; required then.
    pub client: Option<CertFiles>,
}

/// How to start an [`Etcd`]: `Etcd::builder().tls(..).auth(..).start()`.
#[derive(Clone, Debug, Default)]
pub struct EtcdBuilder {
    tls: Option<EtcdTls>,
    auth: Option<(String, String)>,
    auth_token_ttl: Option<u64>,
    progress_notify_interval: Option<Duration>,
}

/// A running etcd, killed on drop.
#[derive(Debug)]
pub struct Etcd {
    child: Child,
    /// `127.0.0.1:<port>` of its client API.
    pub endpoint: String,
    base: EtcdConf,
    dir: tempfile::TempDir,
}

// === impl EtcdBuilder ===

impl EtcdBuilder {
    /// Serve clients over TLS.
    pub fn tls(mut self, tls: EtcdTls) -> Self {
        self.tls = Some(tls);
        self
    }

    /// Turn auth on, with `user` (read-write on every key) and `pass`; `root` gets the
    /// same password.
    pub fn auth(mut self, user: &str, pass: &str) -> Self {
        self.auth = Some((user.to_owned(), pass.to_owned()));
        self
    }

    /// `--auth-token-ttl`: how long an unused auth token lives (etcd's default 300 s).
    pub fn auth_token_ttl(mut self, secs: u64) -> Self {
        self.auth_token_ttl = Some(secs);
        self
    }

    /// `--experimental-watch-progress-notify-interval` (etcd's default 10 minutes).
    pub fn progress_notify_interval(mut self, every: Duration) -> Self {
        self.progress_notify_interval = Some(every);
        self
    }

    /// Starts etcd and waits until it answers (blocking: call from `spawn_blocking` in
    /// async tests). A port taken between picking it and etcd binding it (another test's
    /// server) makes etcd exit: it is started again on other ports, up to three times.
    pub fn start(self) -> Etcd {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime for the set-up");
        let mut attempt = 1;
        let mut etcd = loop {
            let mut etcd = self.spawn();
            match runtime.block_on(etcd.wait_ready()) {
                Ok(()) => break etcd,
                Err(_) if attempt < 3 => attempt += 1,
                Err(why) => panic!("{why}; its log:\n{}", etcd.log()),
            }
        };
        if let Some((user, pass)) = &self.auth {
            runtime.block_on(etcd.enable_auth(user, pass));
            etcd.base.user = user.clone();
            etcd.base.pass = Secret(pass.clone());
        }
        etcd
    }

    fn spawn(&self) -> Etcd {
        let bin = binary();
        let dir = tempfile::tempdir().expect("temp dir");
        let (client, peer) = (free_port(), free_port());
        let endpoint = format!("127.0.0.1:{client}");
        let scheme = if self.tls.is_some() { "https" } else { "http" };
        let mut args: Vec<String> = [
            "--name",
            "test",
            "--data-dir",
            dir.path().to_str().expect("utf-8 path"),
            "--listen-client-urls",
            &format!("{scheme}://{endpoint}"),
            "--advertise-client-urls",
            &format!("{scheme}://{endpoint}"),
            "--listen-peer-urls",
            &format!("http://127.0.0.1:{peer}"),
            "--initial-advertise-peer-urls",
            &format!("http://127.0.0.1:{peer}"),
            "--initial-cluster",
            &format!("test=http://127.0.0.1:{peer}"),
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
        let path = |p: &PathBuf| p.to_str().expect("utf-8 path").to_owned();
        let mut base = EtcdConf {
            hosts: vec![endpoint.clone()],
            ..EtcdConf::default()
        };
        if let Some(tls) = &self.tls {
            assert!(
                !tls.client_cert_auth || tls.client.is_some(),
                "EtcdTls: client_cert_auth needs a client certificate for the set-up"
            );
            args.extend(["--cert-file".into(), path(&tls.server.cert)]);
            args.extend(["--key-file".into(), path(&tls.server.key)]);
            base.ca_cert_file = path(&tls.ca_file);
            if tls.client_cert_auth {
                args.extend(["--client-cert-auth".into(), "--trusted-ca-file".into()]);
                args.push(path(&tls.ca_file));
                if let Some(client) = &tls.client {
                    base.cert_file = path(&client.cert);
                    base.cert_key_file = path(&client.key);
                }
            }
        }
        if self.auth.is_some() {
            // bcrypt's cheapest cost: etcd's default makes each Authenticate cost tens of
            // milliseconds of CPU, which a loaded test machine stretches past deadlines.
            args.extend(["--bcrypt-cost".into(), "4".into()]);
        }
        if let Some(ttl) = self.auth_token_ttl {
            args.extend(["--auth-token-ttl".into(), ttl.to_string()]);
        }
        if let Some(every) = self.progress_notify_interval {
            args.push("--experimental-watch-progress-notify-interval".into());
            args.push(format!("{}ms", every.as_millis()));
        }
        let log = std::fs::File::create(dir.path().join("etcd.log")).expect("etcd log");
        let child = Command::new(bin)
            .args(&args)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start etcd");
        Etcd {
            child,
            endpoint,
            base,
            dir,
        }
    }
}

// === impl Etcd ===

impl Etcd {
    /// Starts a plain one (blocking: call from `spawn_blocking` in async tests).
    pub fn start() -> Etcd {
        Etcd::builder().start()
    }

    /// A builder for one with TLS or auth.
    pub fn builder() -> EtcdBuilder {
        EtcdBuilder::default()
    }

    /// A config that reaches this etcd under `key`: its endpoint, and its CA, client
    /// certificate and user when it has them.
    pub fn conf(&self, key: &str) -> EtcdConf {
        EtcdConf {
            key: key.to_owned(),
            ..self.base.clone()
        }
    }

    /// Puts `value` under `key` (as `etcdctl put`), as this etcd's user when it has auth.
    pub async fn put(&self, key: &str, value: &str) {
        let put = PutRequest {
            key: key.into(),
            value: value.into(),
            lease: 0,
        };
        let client = self.setup_client(&self.conf(key));
        if let Err(e) = client.put(put).await {
            panic!("put {key} in the test etcd: {e}");
        }
    }

    /// Deletes `key` (as `etcdctl del`).
    pub async fn delete(&self, key: &str) {
        let client = self.setup_client(&self.conf(key));
        if let Err(e) = client.delete(key.as_bytes()).await {
            panic!("delete {key} in the test etcd: {e}");
        }
    }

    fn setup_client(&self, conf: &EtcdConf) -> Client {
        let mut settings = Settings::from_conf(conf);
        settings.request_timeout = Duration::from_secs(2);
        Client::with_settings(conf, settings).expect("a client of the test etcd")
    }

    /// Listening is not enough: a one-node cluster answers once it elected itself.
    async fn wait_ready(&mut self) -> Result<(), String> {
        let client = self.setup_client(&self.conf("ready"));
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let probe = RangeRequest {
                key: b"ready".to_vec(),
                ..RangeRequest::default()
            };
            match client.range(probe).await {
                Ok(_) => return Ok(()),
                Err(e) => {
                    if let Ok(Some(status)) = self.child.try_wait() {
                        return Err(format!("etcd at {} exited ({status})", self.endpoint));
                    }
                    if Instant::now() > deadline {
                        return Err(format!(
                            "etcd at {} did not answer within 30 s: {e}",
                            self.endpoint
                        ));
                    }
                    client.reset();
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }
    }

    /// The end of etcd's log, for a failure message.
    fn log(&self) -> String {
        let text = std::fs::read_to_string(self.dir.path().join("etcd.log")).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }

    /// What `etcdctl user add root; role add root; user grant-role root root; auth
    /// enable` does, plus `user` with a read-write role on every key.
    async fn enable_auth(&self, user: &str, pass: &str) {
        let channel = crate::discovery::etcd::setup_channel(&self.conf("setup"))
            .expect("a channel to the test etcd");
        let mut auth = AuthClient::new(channel);
        let add_user = |name: &str| AuthUserAddRequest {
            name: name.to_owned(),
            password: pass.to_owned(),
        };
        let grant = |user: &str, role: &str| AuthUserGrantRoleRequest {
            user: user.to_owned(),
            role: role.to_owned(),
        };
        let role = |name: &str| AuthRoleAddRequest {
            name: name.to_owned(),
        };
        step("role add root", auth.role_add(role("root"))).await;
        step("user add root", auth.user_add(add_user("root"))).await;
        step("grant root", auth.user_grant_role(grant("root", "root"))).await;
        if user != "root" {
            step("role add", auth.role_add(role("rzero-rw"))).await;
            let every_key = Permission {
                perm_type: PermissionType::Readwrite as i32,
                key: vec![0],
                range_end: vec![0],
            };
            let permission = AuthRoleGrantPermissionRequest {
                name: "rzero-rw".into(),
                perm: Some(every_key),
            };
            step("grant permission", auth.role_grant_permission(permission)).await;
            step("user add", auth.user_add(add_user(user))).await;
            step("grant role", auth.user_grant_role(grant(user, "rzero-rw"))).await;
        }
        step("auth enable", auth.auth_enable(AuthEnableRequest {})).await;
    }

    /// Kills etcd now.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One call of the set-up, bounded.
async fn step<T>(
    what: &str,
    call: impl std::future::Future<Output = Result<tonic::Response<T>, tonic::Status>>,
) {
    match tokio::time::timeout(Duration::from_secs(5), call).await {
        Ok(Ok(_)) => {}
        Ok(Err(e)) => panic!("etcd auth set-up, {what}: {e}"),
        Err(_) => panic!("etcd auth set-up, {what}: no answer within 5 s"),
    }
}

impl Drop for Etcd {
    fn drop(&mut self) {
        self.kill();
    }
}
