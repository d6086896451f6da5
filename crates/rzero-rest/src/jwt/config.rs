//! go-zero's JWT section (`Auth: {AccessSecret, AccessExpire}` by convention; the name is
//! whatever `@server(jwt: Name)` says).

use rzero_conf::Secret;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The secrets a group's tokens are signed with.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct JwtConf {
    /// The HS256 secret tokens are signed and verified with: at least
    /// [`MIN_SECRET_LEN`] bytes (go-zero refuses shorter ones), refused at load otherwise.
    #[serde(default, deserialize_with = "secret")]
    pub access_secret: Secret,
    /// Seconds a token issued by [`JwtConf::issue`] lives: its `exp` (default 86400, the
    /// value go-zero's examples use).
    #[serde(default = "default_access_expire")]
    pub access_expire: u64,
    /// The previous secret, still accepted while tokens signed with it live.
    #[serde(default, deserialize_with = "secret")]
    pub prev_secret: Secret,
    /// Tokens without `exp` are refused (default true): a token that never expires
    /// cannot be revoked by waiting. Off only for tokens another issuer makes that way.
    #[serde(default = "yes")]
    pub require_exp: bool,
}

/// The shortest secret accepted, in bytes: go-zero's `rest` refuses shorter ones.
pub const MIN_SECRET_LEN: usize = 8;

impl Default for JwtConf {
    fn default() -> Self {
        JwtConf {
            access_secret: Secret::default(),
            access_expire: default_access_expire(),
            prev_secret: Secret::default(),
            require_exp: true,
        }
    }
}

fn default_access_expire() -> u64 {
    86_400
}
fn yes() -> bool {
    true
}

/// A secret is empty (not set) or at least [`MIN_SECRET_LEN`] bytes.
pub(crate) fn check_secret(secret: &Secret) -> Result<(), String> {
    let len = secret.expose().len();
    if len > 0 && len < MIN_SECRET_LEN {
        return Err(format!(
            "a JWT secret must be at least {MIN_SECRET_LEN} bytes, this one has {len}: \
             set a secret of 32 or more random bytes"
        ));
    }
    Ok(())
}

fn secret<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Secret, D::Error> {
    let s = Secret::deserialize(d)?;
    check_secret(&s).map_err(serde::de::Error::custom)?;
    Ok(s)
}

impl JwtConf {
    /// Signs `claims` with `AccessSecret`, adding `iat`, and `exp` = now + `AccessExpire`
    /// unless the claims carry their own: what a login handler returns. With neither (an
    /// `AccessExpire` of 0), it fails with `MissingRequiredClaim("exp")`.
    pub fn issue(
        &self,
        mut claims: Map<String, Value>,
    ) -> Result<String, jsonwebtoken::errors::Error> {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        claims.insert("iat".into(), now.into());
        if !claims.contains_key("exp") {
            if self.access_expire == 0 {
                return Err(
                    jsonwebtoken::errors::ErrorKind::MissingRequiredClaim("exp".into()).into(),
                );
            }
            claims.insert("exp".into(), now.saturating_add(self.access_expire).into());
        }
        jsonwebtoken::encode(
            &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
            &claims,
            &jsonwebtoken::EncodingKey::from_secret(self.access_secret.expose().as_bytes()),
        )
    }
}
