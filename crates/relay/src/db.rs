//! The PostgreSQL pool and schema. Every process of a relay shares one database.

use anyhow::{Context, Result};
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};

use crate::config::Config;

/// The connection pool (cheap to clone).
pub type Db = Pool;

/// Connects (a pool of `size` connections; a connection is made on first use) and applies the
/// schema. The schema is applied under a transaction-scoped advisory lock so that processes
/// starting together do not race on `CREATE … IF NOT EXISTS`.
pub async fn connect(config: &Config, size: usize) -> Result<Db> {
    let pg = pg_config(config)?;
    let manager = Manager::from_config(
        pg,
        tls(config)?,
        ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        },
    );
    // Bounded waits: a watcher's store call waits for a connection at most a third of the
    // lease and then fails as a store error (it blocks its thread meanwhile: unbounded, a burst
    // of store calls could hold every thread the connections need to come back).
    let wait = config.lease / 3;
    let pool = Pool::builder(manager)
        .max_size(size)
        .runtime(deadpool_postgres::Runtime::Tokio1)
        .wait_timeout(Some(wait))
        .create_timeout(Some(std::time::Duration::from_secs(10)))
        .recycle_timeout(Some(std::time::Duration::from_secs(5)))
        .build()
        .context("Cannot set up the database pool")?;
    migrate(&pool).await?;
    Ok(pool)
}

/// TLS to the database, for a connection string with `sslmode=require`: the server's
/// certificate is verified against the system's roots and `database_ca_file`, and its name
/// against the `host` it was reached by (unlike libpq's `require`, which checks neither; this
/// is libpq's `verify-full`). Any other `sslmode` means no TLS ([`pg_config`]): a Unix
/// socket, or a private network the operator trusts.
pub fn tls(config: &Config) -> Result<tokio_postgres_rustls::MakeRustlsConnect> {
    use std::sync::Arc;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut extra = Vec::new();
    if let Some(path) = &config.database_ca_file {
        let pem = std::fs::read(path)
            .with_context(|| format!("database_ca_file: cannot read {}", path.display()))?;
        for cert in rustls_pemfile::certs(&mut pem.as_slice()) {
            extra.push(cert.with_context(|| {
                format!(
                    "database_ca_file: {} is not PEM certificates",
                    path.display()
                )
            })?);
        }
        anyhow::ensure!(
            !extra.is_empty(),
            "database_ca_file: {} holds no certificate",
            path.display()
        );
    }
    let verifier =
        rustls_platform_verifier::Verifier::new_with_extra_roots(extra, provider.clone())
            .context("Cannot set up TLS certificate verification for the database")?;
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .context("Cannot set up TLS for the database")?
        .dangerous() // not dangerous: the platform verifier checks chain and host name
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    Ok(tokio_postgres_rustls::MakeRustlsConnect::new(tls))
}

/// The connection settings from the relay's config (password from its file, if any).
pub fn pg_config(config: &Config) -> Result<tokio_postgres::Config> {
    let lower = config.database.to_ascii_lowercase();
    // libpq's words, for what this relay does or cannot do.
    if lower.contains("sslmode=verify-ca") {
        anyhow::bail!(
            "`database`: sslmode=verify-ca checks the certificate but not the server's name; the relay does not offer that: use sslmode=require, which checks both (libpq's verify-full)"
        );
    }
    if lower.contains("sslrootcert") {
        anyhow::bail!(
            "`database`: sslrootcert is not read here; name the CA file in the relay's database_ca_file, with sslmode=require"
        );
    }
    // libpq's verify-full is what `require` means here ([`tls`]).
    let text = config
        .database
        .replace("sslmode=verify-full", "sslmode=require");
    let mut pg: tokio_postgres::Config = text
        .parse()
        .context("`database` is not a PostgreSQL connection string")?;
    let tls_asked = pg.get_ssl_mode() == tokio_postgres::config::SslMode::Require;
    if config.database_ca_file.is_some() && !tls_asked {
        anyhow::bail!(
            "database_ca_file is set but `database` does not say sslmode=require: the connection would not use TLS; add sslmode=require (or remove database_ca_file)"
        );
    }
    if !tls_asked && !lower.contains("sslmode=disable") {
        let remote = pg.get_hosts().iter().any(|h| match h {
            tokio_postgres::config::Host::Tcp(name) => {
                !matches!(name.as_str(), "localhost" | "127.0.0.1" | "::1" | "[::1]")
            }
            tokio_postgres::config::Host::Unix(_) => false,
        });
        if remote {
            tracing::warn!(
                "the database is reached over the network without TLS: add sslmode=require to `database` (or sslmode=disable to say it is meant)"
            );
        }
    }
    if let Some(file) = &config.database_password_file {
        let password = std::fs::read_to_string(file)
            .with_context(|| format!("Cannot read {}", file.display()))?;
        pg.password(password.trim_end_matches(['\r', '\n']));
    }
    // `require` is TLS with a verified certificate ([`tls`]); anything else (libpq's default
    // `prefer` included, which would try TLS and then go on in the clear) is no TLS, so the
    // choice is the operator's and never a silent downgrade.
    if pg.get_ssl_mode() != tokio_postgres::config::SslMode::Require {
        pg.ssl_mode(tokio_postgres::config::SslMode::Disable);
    }
    pg.application_name("pushmail-relay");
    if pg.get_connect_timeout().is_none() {
        pg.connect_timeout(std::time::Duration::from_secs(10));
    }
    Ok(pg)
}

/// Applies `schema.sql` (idempotent).
pub async fn migrate(pool: &Db) -> Result<()> {
    let mut client = pool.get().await.context("Cannot reach the database")?;
    let tx = client.transaction().await?;
    // An arbitrary constant: the relay's schema lock.
    tx.execute("SELECT pg_advisory_xact_lock(7370812)", &[])
        .await?;
    tx.batch_execute(include_str!("db/schema.sql"))
        .await
        .context("Cannot apply the relay's database schema")?;
    tx.commit().await?;
    Ok(())
}

/// Makes sure buckets `0..n` exist (new ones unowned). Run at start by every process. The
/// number is recorded by the first process and fixed: an account's bucket is its id's hash
/// modulo this number, so processes (or a restart) with another value would leave accounts in
/// buckets nobody claims.
pub async fn ensure_buckets(pool: &Db, n: u32) -> Result<()> {
    let client = pool.get().await?;
    client
        .execute(
            "INSERT INTO relay_meta (key, value) VALUES ('buckets', $1) ON CONFLICT DO NOTHING",
            &[&n.to_string().into_bytes()],
        )
        .await?;
    let stored: Vec<u8> = client
        .query_one("SELECT value FROM relay_meta WHERE key = 'buckets'", &[])
        .await?
        .get(0);
    let stored = String::from_utf8_lossy(&stored).into_owned();
    if stored != n.to_string() {
        anyhow::bail!(
            "This database's accounts are spread over {stored} buckets, and the config says buckets = {n}: set buckets = {stored} (the number cannot change once set)"
        );
    }
    let n = i32::try_from(n)?;
    client
        .execute(
            "INSERT INTO bucket (bucket) SELECT g FROM generate_series(0, $1 - 1) g
             ON CONFLICT DO NOTHING",
            &[&n],
        )
        .await?;
    Ok(())
}
