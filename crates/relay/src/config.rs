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
        let config: Config = toml::from_str(&text)
            .with_context(|| format!("The relay config {} is not valid", path.display()))?;
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
        for cidr in &self.allow_private {
            crate::guard::Cidr::parse(cidr)
                .with_context(|| format!("allow_private: `{cidr}` is not an address range"))?;
        }
        Ok(())
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
