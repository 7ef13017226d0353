//! One relay process: the engine with the accounts of the buckets it leases, the lease loop,
//! the event loop that hands new mail to the sync store, and the senders.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use anyhow::{Context, Result};
use pushmail_core::config::{Account, PasswordSource, Protocol, Security, Timing};
use pushmail_core::secret::{SecretError, Vault, VaultFuture};
use pushmail_core::{Config as CoreConfig, Engine, Event, Store};
use secrecy::SecretString;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use crate::config::Config;
use crate::crypto::{self, Key};
use crate::db::Db;
use crate::lease::{self, Leases};
use crate::store::{Held, PgStore, Shared};

/// This process's name in the database: host, pid and a random part (a restarted process
/// with the same pid is another owner).
pub fn owner_name() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .unwrap_or_else(|_| "relay".to_owned());
    format!(
        "{host}:{}:{:08x}",
        std::process::id(),
        rand::random::<u32>()
    )
}

/// Account secrets for the engine, opened from the database on each use: passwords at each
/// login, sign-ins' refresh tokens at each refresh (and stored again when rotated).
struct RelayVault {
    db: Db,
    master: Key,
    /// The refresh locks' own connections (see [`refresh_lock`]), at most
    /// [`REFRESH_LOCKS`] at once.
    lock_pg: tokio_postgres::Config,
    lock_tls: tokio_postgres_rustls::MakeRustlsConnect,
    locks: Arc<tokio::sync::Semaphore>,
    /// How long a refresh may hold the grant's lock (a process frozen while holding it loses
    /// it after this): twice the token request's own timeout.
    lock_limit: Duration,
}

fn unavailable(e: impl std::fmt::Display) -> SecretError {
    SecretError::Keyring(format!("the relay's database: {e}"))
}

impl RelayVault {
    /// The account's secret, only if it is of kind `auth`: a refresh token is never handed
    /// out as a password, nor a password as a refresh token.
    async fn secret(&self, account: &str, auth: &str) -> Result<SecretString, SecretError> {
        let client = self.db.get().await.map_err(unavailable)?;
        let row = client
            .query_opt(
                "SELECT sealed_key, sealed_secret FROM account WHERE id = $1 AND auth = $2",
                &[&account, &auth],
            )
            .await
            .map_err(unavailable)?
            .ok_or_else(|| SecretError::Missing(account.to_owned()))?;
        let key: Vec<u8> = row.get(0);
        let secret: Vec<u8> = row.get(1);
        crypto::open_account_secret(&self.master, account, &key, &secret).map_err(unavailable)
    }
}

impl Vault for RelayVault {
    fn password(&self, account: &str) -> VaultFuture<'_, SecretString> {
        let account = account.to_owned();
        Box::pin(async move { self.secret(&account, "password").await })
    }

    fn refresh_token(&self, account: &str) -> VaultFuture<'_, SecretString> {
        let account = account.to_owned();
        Box::pin(async move { self.secret(&account, "oauth2").await })
    }

    fn store_refresh_token(&self, account: &str, token: SecretString) -> VaultFuture<'_, ()> {
        let account = account.to_owned();
        Box::pin(async move {
            // A fresh account key with every token: an old backup's key opens no newer token.
            let (sealed_key, sealed_secret) =
                crypto::seal_account_secret(&self.master, &account, &token).map_err(unavailable)?;
            let client = self.db.get().await.map_err(unavailable)?;
            let n = client
                .execute(
                    "UPDATE account SET sealed_key = $2, sealed_secret = $3
                     WHERE id = $1 AND auth = 'oauth2'",
                    &[&account, &sealed_key, &sealed_secret],
                )
                .await
                .map_err(unavailable)?;
            if n == 0 {
                return Err(SecretError::Missing(account));
            }
            Ok(())
        })
    }

    fn lock_refresh(&self, account: &str) -> VaultFuture<'_, Box<dyn Send + Sync>> {
        let account = account.to_owned();
        Box::pin(async move {
            let permit = self
                .locks
                .clone()
                .acquire_owned()
                .await
                .map_err(unavailable)?;
            let held = refresh_lock(
                &self.lock_pg,
                self.lock_tls.clone(),
                &account,
                self.lock_limit,
                permit,
            )
            .await
            .map_err(unavailable)?;
            Ok(Box::new(held) as Box<dyn Send + Sync>)
        })
    }
}

/// At most this many refreshes hold their lock (and its connection) at once per process: a
/// start or takeover refreshes every sign-in mailbox, and they must not take the database's
/// connections from everything else.
const REFRESH_LOCKS: usize = 8;

/// Dropping it releases the grant's lock (its transaction ends, its connection closes).
struct RefreshLockHeld(
    #[allow(dead_code)] tokio::sync::oneshot::Sender<()>,
    #[allow(dead_code)] tokio::sync::OwnedSemaphorePermit,
);

/// Takes the account's refresh lock: a transaction-scoped advisory lock on a connection of its
/// own (not the pool's: the refresher loads and stores the token through the pool while it
/// holds the lock, and a slow provider must never starve the lease rounds), held by a task
/// until the returned value is dropped. Brief (one token request) and only around refreshes,
/// unlike a lease. The transaction's idle limit frees it if this process freezes while
/// holding it.
async fn refresh_lock(
    pg: &tokio_postgres::Config,
    tls: tokio_postgres_rustls::MakeRustlsConnect,
    account: &str,
    limit: Duration,
    permit: tokio::sync::OwnedSemaphorePermit,
) -> Result<RefreshLockHeld> {
    let (client, connection) = pg.connect(tls).await?;
    let driver = tokio::spawn(connection);
    let (locked_tx, locked_rx) = tokio::sync::oneshot::channel::<Result<(), String>>();
    let (release_tx, release_rx) = tokio::sync::oneshot::channel::<()>();
    let account = account.to_owned();
    let ms = limit.as_millis().max(1000).to_string();
    tokio::spawn(async move {
        let mut client = client;
        {
            let result = async {
                let tx = client.transaction().await?;
                tx.batch_execute(&format!(
                    "SET LOCAL idle_in_transaction_session_timeout = {ms}"
                ))
                .await?;
                // Namespace 0x504d ("PM") and the id's hash: a lock of this kind only.
                tx.execute(
                    "SELECT pg_advisory_xact_lock(20557, hashtext($1))",
                    &[&account],
                )
                .await?;
                Ok::<_, tokio_postgres::Error>(tx)
            }
            .await;
            match result {
                Ok(tx) => {
                    if locked_tx.send(Ok(())).is_ok() {
                        let _ = release_rx.await;
                    }
                    let _ = tx.rollback().await;
                }
                Err(e) => {
                    let _ = locked_tx.send(Err(e.to_string()));
                }
            }
        }
        drop(client);
        let _ = driver.await;
    });
    match locked_rx.await {
        Ok(Ok(())) => Ok(RefreshLockHeld(release_tx, permit)),
        Ok(Err(e)) => anyhow::bail!("cannot lock the sign-in for a refresh: {e}"),
        Err(_) => anyhow::bail!("cannot lock the sign-in for a refresh: the task ended"),
    }
}

/// Watcher timings for every account from the config's `[watch]` table (seconds).
pub fn timing(config: &Config) -> Result<Timing> {
    let mut t = Timing::DEFAULT;
    for (key, value) in &config.watch {
        let secs = value
            .as_float()
            .or_else(|| value.as_integer().map(|i| i as f64))
            .filter(|v| v.is_finite() && *v > 0.0)
            .with_context(|| format!("watch.{key} must be a positive number of seconds"))?;
        let d = Duration::from_secs_f64(secs);
        match key.as_str() {
            "idle_refresh" => t.idle_refresh = d,
            "dead_after" => t.dead_after = d,
            "poll_interval" => t.poll_interval = d,
            "backoff_min" => t.backoff_min = d,
            "backoff_max" => t.backoff_max = d,
            "connect_timeout" => t.connect_timeout = d,
            "command_timeout" => t.command_timeout = d,
            "done_timeout" => t.done_timeout = d,
            "push_wait" => t.push_wait = d,
            other => anyhow::bail!("watch.{other} is not a watcher setting"),
        }
    }
    Ok(t)
}

/// What a user gives for a mailbox (and the relay stores).
#[derive(Clone, Debug)]
pub struct Fields {
    pub id: String,
    pub name: String,
    /// Empty when not given.
    pub email: String,
    pub host: String,
    pub port: u16,
    pub security: Security,
    pub username: String,
    /// The `[signin.<id>]` the mailbox signs in with; `None`: a password.
    pub signin: Option<String>,
}

/// A mailbox as the relay's watchers and its connection test both use it: IMAP, the password
/// from the relay's vault, the relay's `ca_file` and its `[watch]` timings. The one place these
/// are decided.
pub fn account(config: &Config, timing: &Timing, f: Fields) -> Account {
    let mut a = Account::new(f.id, f.host, f.username);
    a.name = f.name;
    a.email = (!f.email.is_empty()).then_some(f.email);
    a.protocol = Protocol::Imap;
    a.port = f.port;
    a.security = f.security;
    a.password = match &f.signin {
        None => PasswordSource::Vault,
        Some(id) => PasswordSource::OAuth2(Box::new(match config.signin.get(id) {
            Some(client) => client.settings(id),
            // Taken out of the config since: a name no provider has, so the login stops with
            // "unknown provider" before any token request (a built-in name would fall back to
            // the desktop's client id and send the relay's refresh token under it).
            None => pushmail_core::config::OAuthSettings {
                provider: format!("{id} (no longer in the relay's [signin] tables)"),
                ..Default::default()
            },
        })),
    };
    a.ca_file = config.ca_file.clone();
    a.timing = timing.clone();
    a
}

/// Loads the accounts of `leases` as the engine wants them.
async fn accounts(
    db: &Db,
    leases: &Leases,
    config: &Config,
    t: &Timing,
) -> Result<Vec<(Account, i32, i32)>> {
    let buckets: Vec<i32> = leases.keys().copied().collect();
    let client = db.get().await?;
    let rows = client
        .query(
            "SELECT id, name, email, host, port, security, username, folders, bucket,
                    auth, signin_provider, secret_version
             FROM account WHERE bucket = ANY($1) ORDER BY id",
            &[&buckets],
        )
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let security = match r.get::<_, &str>(5) {
            "starttls" => Security::Starttls,
            _ => Security::Tls,
        };
        let mut a = account(
            config,
            t,
            Fields {
                id: r.get(0),
                name: r.get(1),
                email: r.get(2),
                host: r.get(3),
                port: u16::try_from(r.get::<_, i32>(4)).unwrap_or(993),
                security,
                username: r.get(6),
                signin: (r.get::<_, &str>(9) == "oauth2").then(|| r.get(10)),
            },
        );
        let folders: Vec<String> = r.get(7);
        if !folders.is_empty() {
            a.folders = folders;
        }
        out.push((a, r.get(8), r.get(11)));
    }
    Ok(out)
}

/// Runs the watching side of one relay process until `cancel`.
pub async fn run(config: Config, db: Db, master: Key, cancel: CancellationToken) -> Result<()> {
    let owner = owner_name();
    info!(%owner, "relay process starting");
    let t = timing(&config)?;
    crate::db::ensure_buckets(&db, config.buckets).await?;
    if pushmail_core::secret::install_vault(Box::new(RelayVault {
        db: db.clone(),
        master: master.clone(),
        lock_pg: {
            let mut pg = crate::db::pg_config(&config)?;
            pg.application_name("pushmail-relay-refresh");
            pg
        },
        lock_tls: crate::db::tls(&config)?,
        locks: Arc::new(tokio::sync::Semaphore::new(REFRESH_LOCKS)),
        lock_limit: pushmail_core::oauth::http_client::TOKEN_REQUEST_TIMEOUT * 2,
    }))
    .is_err()
    {
        anyhow::bail!("a vault is already installed in this process");
    }
    let shared = Arc::new(Shared {
        owner: owner.clone(),
        held: RwLock::new(HashMap::new()),
        pending: Mutex::new(HashMap::new()),
        master,
        write_limit: config.lease / 3,
    });
    let store = Store::from_backend(Arc::new(PgStore::new(db.clone(), shared.clone())));
    let (engine, mut events) = Engine::new(store);

    // New mail goes to the pending table just before the watcher records it (the watcher
    // waits for this loop to drop the event); states go to the account row for the app.
    let ev_shared = shared.clone();
    let ev_db = db.clone();
    let ev_owner = owner.clone();
    let (states_tx, mut states_rx) =
        tokio::sync::mpsc::unbounded_channel::<(String, &'static str, String)>();
    let state_task = tokio::spawn(async move {
        while let Some(first) = states_rx.recv().await {
            // Only each account's latest state of a burst is written.
            let mut latest: HashMap<String, (&'static str, String)> = HashMap::new();
            latest.insert(first.0, (first.1, first.2));
            while let Ok((a, st, d)) = states_rx.try_recv() {
                latest.insert(a, (st, d));
            }
            let Ok(client) = ev_db.get().await else {
                continue;
            };
            for (account, (state, detail)) in latest {
                let _ = client
                    .execute(
                        // Only while the account is ours: a watcher stopping after a
                        // takeover must not overwrite what the new owner reports.
                        "UPDATE account SET state = $2, state_detail = $3 WHERE id = $1
                           AND bucket IN (SELECT bucket FROM bucket
                                          WHERE owner = $4 AND lease_until > now())",
                        &[&account, &state, &detail, &ev_owner],
                    )
                    .await;
            }
        }
    });
    let ev_task = tokio::spawn(async move {
        while let Some(incoming) = events.recv().await {
            match incoming.event() {
                Event::NewMail(m) => {
                    if let Ok(mut p) = ev_shared.pending.lock() {
                        p.insert(
                            (m.account.clone(), m.folder.clone(), m.uidvalidity, m.uid),
                            m.clone(),
                        );
                    }
                }
                Event::State {
                    account,
                    state,
                    detail,
                    ..
                } => {
                    // Written by a task of its own, so new mail never waits behind them.
                    let _ = states_tx.send((
                        account.clone(),
                        state.as_str(),
                        detail.clone().unwrap_or_default(),
                    ));
                }
                _ => {}
            }
            drop(incoming);
        }
    });

    // Account changes from the API (`NOTIFY accounts`) cut the wait short.
    let changed = Arc::new(tokio::sync::Notify::new());
    let listener =
        crate::listen::spawn(&config, "accounts", changed.clone(), cancel.clone()).await?;

    let mut last: Leases = Leases::new();
    // Each watched account's secret version, as last read.
    let mut versions: HashMap<String, i32> = HashMap::new();
    // Until when the leases of the last good round hold: a failed round (a database blip)
    // stops nothing before then, so one bad statement is not a reconnect storm.
    let mut valid_until = tokio::time::Instant::now();
    loop {
        let started = tokio::time::Instant::now();
        let limit = config.renew_every();
        let round = tokio::time::timeout(
            limit,
            lease::round(
                &db,
                &owner,
                config.lease,
                config.buckets,
                config.max_buckets,
            ),
        )
        .await
        .unwrap_or_else(|_| {
            Err(anyhow::anyhow!(
                "the lease round took longer than {limit:?}"
            ))
        });
        match round {
            Ok(leases) => {
                if leases != last {
                    let gained = leases.keys().filter(|b| !last.contains_key(b)).count();
                    let lost = last.keys().filter(|b| !leases.contains_key(b)).count();
                    info!(held = leases.len(), gained, lost, "buckets changed");
                }
                match accounts(&db, &leases, &config, &t).await {
                    Ok(list) => {
                        let now: HashMap<String, Held> = list
                            .iter()
                            .filter_map(|(a, b, _)| {
                                leases.get(b).map(|e| {
                                    (
                                        a.id.clone(),
                                        Held {
                                            bucket: *b,
                                            epoch: *e,
                                        },
                                    )
                                })
                            })
                            .collect();
                        // Lost accounts are unfenced first (their writes fail at once), gained
                        // ones fenced before their watcher starts.
                        if let Ok(mut h) = shared.held.write() {
                            *h = now.clone();
                        }
                        // New mail of an account no longer ours was never recorded here (the
                        // fence refused it) and never will be: the new owner announces it.
                        if let Ok(mut p) = shared.pending.lock() {
                            p.retain(|key, _| now.contains_key(&key.0));
                        }
                        // An account re-claimed at a new epoch keeps its watcher: its writes carry
                        // the new epoch, and anything another process recorded meanwhile is a
                        // no-op for it (the unique key), so nothing is delivered twice.
                        // A new sign-in (the secret's version went up) restarts a watcher
                        // that waits for one; the account's settings are unchanged, so
                        // `apply` alone would leave it waiting.
                        let renewed: Vec<String> = list
                            .iter()
                            .filter(|(a, _, v)| {
                                versions
                                    .insert(a.id.clone(), *v)
                                    .is_some_and(|old| old != *v)
                            })
                            .map(|(a, _, _)| a.id.clone())
                            .collect();
                        // Accounts no longer watched here: their sign-in tokens leave this
                        // process's memory too (the new owner, or nobody, has them now).
                        versions.retain(|id, _| {
                            let kept = now.contains_key(id);
                            if !kept {
                                pushmail_core::oauth::account::forget(id);
                            }
                            kept
                        });
                        let core = CoreConfig {
                            accounts: list.into_iter().map(|(a, _, _)| a).collect(),
                            ..CoreConfig::default()
                        };
                        engine.apply(&core);
                        for id in renewed {
                            info!(account = %id, "signed in again; restarting its watcher");
                            engine.restart(&id);
                        }
                        valid_until = started + config.lease;
                        last = leases;
                    }
                    Err(e) => warn!(error = %format!("{e:#}"), "cannot read accounts"),
                }
            }
            Err(e) => {
                warn!(error = %format!("{e:#}"), "lease round failed");
                // Past the lease the writes are refused anyway: stop watching rather than hold
                // IMAP connections nobody may record from.
                if tokio::time::Instant::now() >= valid_until && !last.is_empty() {
                    warn!("the leases have run out; no watching until the database answers");
                    if let Ok(mut h) = shared.held.write() {
                        h.clear();
                    }
                    if let Ok(mut p) = shared.pending.lock() {
                        p.clear();
                    }
                    engine.apply(&CoreConfig::default());
                    last.clear();
                    versions.clear();
                }
            }
        }
        tokio::select! {
            () = cancel.cancelled() => break,
            () = tokio::time::sleep(config.renew_every()) => {}
            () = changed.notified() => {}
        }
    }
    info!("relay process stopping");
    engine.shutdown().await;
    if let Ok(mut h) = shared.held.write() {
        h.clear();
    }
    if let Err(e) = lease::release_all(&db, &owner).await {
        warn!(error = %format!("{e:#}"), "cannot give the buckets back; others take over after the lease");
    }
    drop(engine);
    listener.abort();
    let _ = tokio::time::timeout(Duration::from_secs(2), ev_task).await;
    state_task.abort();
    Ok(())
}
