//! The relay's one config file (TOML). Every timing is a setting (so tests run in seconds);
//! no secret lives in it: the master key is a file (or a systemd credential) it names.
//!
//! ```toml
//! database = "host=/run/postgresql dbname=pushmail user=pushmail"
//! listen = "127.0.0.1:8470"
//! public_url = "https://relay.example.com"
//! master_key_file = "/etc/pushmail-relay/master.key"
//! vapid_subject = "mailto:postmaster@example.com"
//! ```

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use serde::Deserialize;

/// What the file holds, with defaults filled in.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// PostgreSQL connection string (key=value or a postgresql:// URL). No password in it:
    /// use peer authentication on the socket, or `PGPASSFILE`-style `password_file`.
    pub database: String,
    /// A file holding the database password, if it needs one.
    #[serde(default)]
    pub database_password_file: Option<PathBuf>,
    /// Extra CA certificate(s) in PEM the database server's certificate may chain to, besides
    /// the system's (with `sslmode=require` in `database`).
    #[serde(default)]
    pub database_ca_file: Option<PathBuf>,
    /// Where the HTTP API and the web app listen.
    #[serde(default = "default_listen")]
    pub listen: SocketAddr,
    /// The address users open (for links; the web app works without it).
    #[serde(default)]
    pub public_url: Option<String>,
    /// The master key (64 hex digits, mode 600). Default: `$CREDENTIALS_DIRECTORY/master.key`
    /// (systemd `LoadCredential=`).
    #[serde(default)]
    pub master_key_file: Option<PathBuf>,
    /// VAPID `sub`: a `mailto:` or `https:` contact push services can reach (Apple requires a
    /// real one).
    pub vapid_subject: String,
    /// Where the web app's files are (the `relay` build of `ui/`).
    #[serde(default)]
    pub web_dir: Option<PathBuf>,
    /// Number of buckets accounts are spread over. Fixed once the database has accounts.
    #[serde(default = "default_buckets")]
    pub buckets: u32,
    /// How long a bucket lease lasts without renewal; a process renews at a third of it.
    #[serde(default = "default_lease", with = "secs")]
    pub lease: Duration,
    /// At most this many buckets per process (0: no limit). Lets an operator spread load
    /// before all processes are up.
    #[serde(default)]
    pub max_buckets: u32,
    /// Senders: how many deliveries run at once, and the first retry delay (doubles, ≤ 1 h).
    #[serde(default = "default_senders")]
    pub senders: usize,
    #[serde(default = "default_retry", with = "secs")]
    pub retry_first: Duration,
    /// Give up on a delivery after this many attempts.
    #[serde(default = "default_attempts")]
    pub max_attempts: u32,
    /// Web Push `TTL`: how long the push service keeps a notice for an offline device.
    #[serde(default = "default_ttl", with = "secs")]
    pub push_ttl: Duration,
    /// Timeout of one outgoing HTTP request (push service, webhook).
    #[serde(default = "default_http_timeout", with = "secs")]
    pub http_timeout: Duration,
    /// Addresses outgoing requests and IMAP connections may reach although private or
    /// loopback (CIDR, e.g. `["127.0.0.1/32"]`): for a lab or a mail server on the LAN. Empty
    /// by default: user-supplied URLs and hosts that resolve to such addresses are refused.
    #[serde(default)]
    pub allow_private: Vec<String>,
    /// Reverse proxies in front of the relay (CIDR, e.g. `["127.0.0.1/32"]`): for a request
    /// from one of them, the client's address is taken from `X-Forwarded-For` (the last
    /// address in it that is not itself one of these), so that requests without a token are
    /// limited per client and not all in the proxy's one bucket. Empty: the header is ignored.
    #[serde(default)]
    pub trusted_proxies: Vec<String>,
    /// Extra CA certificate(s) in PEM that IMAP servers' certificates may chain to, besides the
    /// system's: for a lab or a LAN mail server with a private CA. Applies to every account the
    /// relay connects to (the API takes no CA from users, who could otherwise vouch for any
    /// server they like).
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// The most mailboxes, devices and webhooks one user may have (each new mail fans out
    /// to one delivery per device and webhook).
    #[serde(default = "default_max_accounts")]
    pub max_accounts_per_user: u32,
    #[serde(default = "default_max_devices")]
    pub max_devices_per_user: u32,
    #[serde(default = "default_max_webhooks")]
    pub max_webhooks_per_user: u32,
    /// API requests per minute per token (and per address before sign-in).
    #[serde(default = "default_rate")]
    pub rate_per_minute: u32,
    /// Watcher timings for every account, as the desktop's `[defaults]` (`idle_refresh`,
    /// `reconnect_min`, …); see docs/configuration.md.
    #[serde(default)]
    pub watch: toml::Table,
    /// Sign-in providers users may sign in with instead of giving a password (OAuth2), by
    /// id: a built-in one (`google`, `microsoft`, `yahoo`, `aol`, `fastmail`) with the
    /// operator's own client registration, or any other id for an OpenID/OAuth2 provider
    /// described in full. Empty: sign-in is not offered.
    #[serde(default)]
    pub signin: std::collections::BTreeMap<String, SignInClient>,
    /// How long a user has between "Sign in with …" and coming back from the provider.
    #[serde(default = "default_signin_timeout", with = "secs")]
    pub signin_timeout: Duration,
}

/// The relay's registration at one sign-in provider (`[signin.<id>]`). A web application
/// client: its redirect URI is `<public_url>/oauth/callback`, registered at the provider.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignInClient {
    /// Shown as "Sign in with <name>"; built-in providers have theirs.
    #[serde(default)]
    pub name: Option<String>,
    pub client_id: String,
    /// A file holding the client secret (a web client's is a real secret, so it is not in
    /// this file); none for a public client.
    #[serde(default)]
    pub client_secret_file: Option<PathBuf>,
    /// Microsoft only: the organisation's tenant instead of `common`.
    #[serde(default)]
    pub tenant: Option<String>,
    /// Required for a provider that is not built in; optional overrides otherwise.
    #[serde(default)]
    pub authorization_endpoint: Option<String>,
    #[serde(default)]
    pub token_endpoint: Option<String>,
    #[serde(default)]
    pub issuer: Option<String>,
    #[serde(default)]
    pub scopes: Option<Vec<String>>,
    /// `oauthbearer` (default for other providers) or `xoauth2`.
    #[serde(default)]
    pub sasl: Option<String>,
    /// Read from `client_secret_file` when the config is loaded.
    #[serde(skip)]
    pub client_secret: Option<secrecy::SecretString>,
}

impl std::fmt::Debug for SignInClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the secret: a config printed in a log must not carry it.
        f.debug_struct("SignInClient")
            .field("name", &self.name)
            .field("client_id", &self.client_id)
            .field("client_secret_file", &self.client_secret_file)
            .field("authorization_endpoint", &self.authorization_endpoint)
            .field("token_endpoint", &self.token_endpoint)
            .finish_non_exhaustive()
    }
}

/// The sign-in providers pushmail-core has built in.
const BUILT_IN: [&str; 5] = ["google", "microsoft", "yahoo", "aol", "fastmail"];

impl SignInClient {
    /// The core's sign-in settings for provider `id`: what the watchers and the sign-in use.
    pub fn settings(&self, id: &str) -> pushmail_core::config::OAuthSettings {
        use secrecy::ExposeSecret;
        let builtin = BUILT_IN.contains(&id);
        pushmail_core::config::OAuthSettings {
            provider: if builtin { id } else { "custom" }.to_owned(),
            tenant: self.tenant.clone(),
            client_id: Some(self.client_id.clone()),
            client_secret: self
                .client_secret
                .as_ref()
                .map(|s| s.expose_secret().to_owned()),
            authorization_endpoint: self.authorization_endpoint.clone(),
            token_endpoint: self.token_endpoint.clone(),
            scopes: self.scopes.clone(),
            issuer: self.issuer.clone(),
            sasl: match self.sasl.as_deref() {
                Some("xoauth2") => Some(pushmail_core::oauth::SaslMechanism::XOAuth2),
                Some("oauthbearer") => Some(pushmail_core::oauth::SaslMechanism::OAuthBearer),
                _ => None,
            },
        }
    }

    /// "Google", "Microsoft", or the configured name.
    pub fn display_name(&self, id: &str) -> String {
        match &self.name {
            Some(n) => n.clone(),
            None if BUILT_IN.contains(&id) => pushmail_core::oauth::Provider::display_name(id),
            None => id.to_owned(),
        }
    }
}

fn default_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 8470))
}
fn default_buckets() -> u32 {
    1024
}
fn default_lease() -> Duration {
    Duration::from_secs(15)
}
fn default_senders() -> usize {
    16
}
fn default_retry() -> Duration {
    Duration::from_secs(5)
}
fn default_attempts() -> u32 {
    12
}
fn default_ttl() -> Duration {
    Duration::from_secs(24 * 3600)
}
fn default_http_timeout() -> Duration {
    Duration::from_secs(10)
}
fn default_max_accounts() -> u32 {
    50
}
fn default_max_devices() -> u32 {
    20
}
fn default_max_webhooks() -> u32 {
    10
}
fn default_rate() -> u32 {
    120
}
fn default_signin_timeout() -> Duration {
    Duration::from_secs(600)
}

/// Durations are written as seconds (fractions allowed: `lease = 1.5`).
mod secs {
    use serde::{Deserialize, Deserializer};
    use std::time::Duration;
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let v = f64::deserialize(d)?;
        if !(v.is_finite() && v > 0.0 && v < 1e7) {
            return Err(serde::de::Error::custom(
                "must be a positive number of seconds",
            ));
        }
        Ok(Duration::from_secs_f64(v))
    }
}

impl Config {
    /// Reads and checks the file.
    pub fn load(path: &Path) -> Result<Config> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("Cannot read the relay config {}", path.display()))?;
        let mut config: Config = toml::from_str(&text)
            .with_context(|| format!("The relay config {} is not valid", path.display()))?;
        for (id, client) in &mut config.signin {
            if let Some(file) = &client.client_secret_file {
                let secret = std::fs::read_to_string(file).with_context(|| {
                    format!(
                        "signin.{id}: cannot read client_secret_file {}",
                        file.display()
                    )
                })?;
                client.client_secret = Some(secrecy::SecretString::from(secret.trim().to_owned()));
            }
        }
        config
            .check()
            .with_context(|| format!("The relay config {} is not valid", path.display()))?;
        Ok(config)
    }

    fn check(&self) -> Result<()> {
        if self.buckets == 0 || self.buckets > 65_536 {
            bail!("buckets must be between 1 and 65536");
        }
        if !(self.vapid_subject.starts_with("mailto:")
            || self.vapid_subject.starts_with("https://"))
        {
            bail!("vapid_subject must be a mailto: or https: contact (push services require one)");
        }
        if self.senders == 0 {
            bail!("senders must be at least 1");
        }
        self.check_signin()?;
        for cidr in &self.trusted_proxies {
            crate::guard::Cidr::parse(cidr)
                .with_context(|| format!("trusted_proxies: `{cidr}` is not an address range"))?;
        }
        for cidr in &self.allow_private {
            crate::guard::Cidr::parse(cidr)
                .with_context(|| format!("allow_private: `{cidr}` is not an address range"))?;
        }
        Ok(())
    }

    /// The `[signin.*]` tables: ids, what a provider that is not built in must say, and a
    /// `public_url` the providers can send browsers back to.
    fn check_signin(&self) -> Result<()> {
        if self.signin.is_empty() {
            return Ok(());
        }
        let Some(url) = &self.public_url else {
            bail!(
                "[signin.*] needs public_url: the providers send the browser back to <public_url>/oauth/callback"
            );
        };
        let parsed = url::Url::parse(url).with_context(|| format!("public_url `{url}`"))?;
        let loopback = matches!(parsed.host_str(), Some("127.0.0.1" | "[::1]" | "localhost"));
        if parsed.scheme() != "https" && !(parsed.scheme() == "http" && loopback) {
            bail!("public_url must be https:// (http:// only on loopback, for a lab)");
        }
        if parsed.path() != "/" || parsed.query().is_some() {
            bail!(
                "public_url must be the relay's origin, without a path (it serves /oauth/callback and the web app at its root)"
            );
        }
        for (id, c) in &self.signin {
            if id.is_empty()
                || id.len() > 32
                || !id
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            {
                bail!("signin.{id}: an id is 1 to 32 of a-z, 0-9 and -");
            }
            if c.client_id.trim().is_empty() {
                bail!("signin.{id}: client_id is empty");
            }
            if let Some(m) = &c.sasl
                && m != "oauthbearer"
                && m != "xoauth2"
            {
                bail!("signin.{id}: sasl must be \"oauthbearer\" or \"xoauth2\"");
            }
            if !BUILT_IN.contains(&id.as_str()) {
                for (key, v) in [
                    ("authorization_endpoint", &c.authorization_endpoint),
                    ("token_endpoint", &c.token_endpoint),
                ] {
                    if v.is_none() {
                        bail!(
                            "signin.{id}: `{key}` is required for a provider that is not built in ({})",
                            BUILT_IN.join(", ")
                        );
                    }
                }
                if c.scopes.as_ref().is_none_or(Vec::is_empty) {
                    bail!("signin.{id}: `scopes` is required for a provider that is not built in");
                }
                // Every provider answers at the one callback: the `iss` of the answer is what
                // tells them apart (RFC 9207, the mix-up defence).
                if c.issuer.as_deref().is_none_or(str::is_empty) {
                    bail!(
                        "signin.{id}: `issuer` is required for a provider that is not built in (its answers are told apart by it)"
                    );
                }
            }
            // The core's own checks (https endpoints, a known built-in name).
            c.settings(id)
                .provider("imap.invalid", 993)
                .and_then(|p| p.validate().map(|()| p))
                .map_err(|e| anyhow::anyhow!("signin.{id}: {e}"))?;
        }
        Ok(())
    }

    /// Where providers send the browser back: `<public_url>/oauth/callback`.
    pub fn signin_redirect_uri(&self) -> Option<String> {
        self.public_url
            .as_deref()
            .map(|u| format!("{}/oauth/callback", u.trim_end_matches('/')))
    }

    /// The master key file: the setting, else systemd's credential directory.
    pub fn master_key_path(&self) -> Result<PathBuf> {
        if let Some(p) = &self.master_key_file {
            return Ok(p.clone());
        }
        match std::env::var_os("CREDENTIALS_DIRECTORY") {
            Some(dir) => Ok(PathBuf::from(dir).join("master.key")),
            None => bail!(
                "No master key: set master_key_file in the config, or start the relay with systemd's LoadCredential=master.key:…"
            ),
        }
    }

    /// How often a process renews its leases and looks for free buckets.
    pub fn renew_every(&self) -> Duration {
        self.lease / 3
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str =
        "database = \"host=/run/postgresql\"\nvapid_subject = \"mailto:a@example.org\"\n";

    fn parse(extra: &str) -> Result<Config> {
        let config: Config = toml::from_str(&format!("{BASE}{extra}"))?;
        config.check()?;
        Ok(config)
    }

    fn error(extra: &str) -> String {
        format!("{:#}", parse(extra).expect_err("refused"))
    }

    #[test]
    fn a_built_in_provider_needs_only_its_client_and_a_public_url() {
        let c = parse(
            "public_url = \"https://relay.example.com/\"\n[signin.google]\nclient_id = \"x.apps.googleusercontent.com\"\n",
        )
        .unwrap();
        assert_eq!(
            c.signin_redirect_uri().as_deref(),
            Some("https://relay.example.com/oauth/callback")
        );
        let s = c.signin["google"].settings("google");
        assert_eq!(s.provider, "google");
        assert_eq!(c.signin["google"].display_name("google"), "Google");
    }

    #[test]
    fn sign_in_settings_are_checked_key_by_key() {
        let google = "[signin.google]\nclient_id = \"x\"\n";
        assert!(error(google).contains("needs public_url"));
        assert!(
            error(&format!(
                "public_url = \"http://relay.example.com\"\n{google}"
            ))
            .contains("must be https://")
        );
        // A lab on loopback may use http.
        parse(&format!("public_url = \"http://127.0.0.1:8470\"\n{google}")).unwrap();
        assert!(
            error(&format!(
                "public_url = \"https://example.com/relay\"\n{google}"
            ))
            .contains("without a path")
        );
        let url = "public_url = \"https://r.example.com\"\n";
        assert!(error(&format!("{url}[signin.Bad_Id]\nclient_id = \"x\"\n")).contains("an id is"));
        assert!(error(&format!("{url}[signin.google]\nclient_id = \" \"\n")).contains("client_id"));
        let custom = format!("{url}[signin.lab]\nclient_id = \"x\"\n");
        assert!(error(&custom).contains("`authorization_endpoint` is required"));
        let endpoints = "authorization_endpoint = \"https://id.example.com/a\"\ntoken_endpoint = \"https://id.example.com/t\"\n";
        assert!(error(&format!("{custom}{endpoints}")).contains("`scopes` is required"));
        let scoped = format!("{custom}{endpoints}scopes = [\"openid\", \"imap\"]\n");
        assert!(error(&scoped).contains("`issuer` is required"));
        let full = format!("{scoped}issuer = \"https://id.example.com\"\n");
        let c = parse(&full).unwrap();
        assert_eq!(c.signin["lab"].settings("lab").provider, "custom");
        assert_eq!(c.signin["lab"].display_name("lab"), "lab");
        // The core's own rule: endpoints are https.
        let plain = full.replace("https://id.example.com/t", "http://id.example.com/t");
        assert!(error(&plain).contains("signin.lab"), "{}", error(&plain));
        assert!(error(&format!("{full}sasl = \"plain\"\n")).contains("sasl must be"));
    }

    #[test]
    fn a_client_secret_is_never_in_debug_output() {
        let mut c =
            parse("public_url = \"https://r.example.com\"\n[signin.google]\nclient_id = \"x\"\n")
                .unwrap();
        c.signin.get_mut("google").unwrap().client_secret =
            Some(secrecy::SecretString::from("s3cr3t-value"));
        assert!(!format!("{c:?}").contains("s3cr3t-value"));
        let settings = c.signin["google"].settings("google");
        assert!(!format!("{settings:?}").contains("s3cr3t-value"));
        assert!(format!("{settings:?}").contains("REDACTED"));
    }
}
