//! go-zero's JWT section (`Auth: {AccessSecret, AccessExpire}` by convention; the name is
//! whatever `@server(jwt: Name)` says).

use rzero_conf::Secret;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The secrets a group's tokens are signed with.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct JwtConf {
    /// The HS256 secret tokens are signed and verified with.
    #[serde(default)]
    pub access_secret: Secret,
    /// Seconds a token issued by [`JwtConf::issue`] lives (default 0 = go-zero's
    /// convention of leaving it to the login handler; `issue` then sets no `exp`).
    #[serde(default)]
    pub access_expire: u64,
    /// The previous secret, still accepted while tokens signed with it live.
    #[serde(default)]
    pub prev_secret: Secret,
}

impl JwtConf {
    /// Signs `claims` with `AccessSecret`, adding `iat`, and `exp` when `AccessExpire` is
    /// set: what a login handler returns.
    pub fn issue(
        &self,
        mut claims: Map<String, Value>,
    ) -> Result<String, jsonwebtoken::errors::Error> {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        claims.insert("iat".into(), now.into());
        if self.access_expire > 0 {
            claims.insert("exp".into(), (now + self.access_expire).into());
        }
        jsonwebtoken::encode(
            &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
            &claims,
            &jsonwebtoken::EncodingKey::from_secret(self.access_secret.expose().as_bytes()),
        )
    }
}
