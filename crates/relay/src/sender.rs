//! The outbox senders: take due deliveries from the `outbox` table, send them (Web Push or
//! webhook), and record what came of it.
//!
//! Every process runs one sender loop; they share the table through `FOR UPDATE SKIP
//! LOCKED`, so a delivery is in flight in one process at a time, and a process that dies
//! mid-send releases its rows (its transaction rolls back) for another to send again: a
//! notice is delivered at least once. Whoever inserts into `outbox` runs `NOTIFY outbox` in
//! the same transaction; the loop listens on its own connection and also wakes every few
//! seconds and at the earliest `next_at`, so a lost notification only delays.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use futures::StreamExt;
use tokio_postgres::AsyncMessage;
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

use crate::config::Config;
use crate::crypto::Key;
use crate::db::Db;
use crate::guard;
use crate::webpush::{self, Notice, Outcome, Vapid};

/// Wake at least this often, whatever the notifications say.
const SAFETY_NET: Duration = Duration::from_secs(5);
/// The longest backoff between two attempts.
const MAX_DELAY: Duration = Duration::from_secs(3600);
/// After a database error, wait this long before the next round.
const ERROR_PAUSE: Duration = Duration::from_secs(1);

/// What the senders need.
pub struct SenderCtx {
    /// The longest a round may keep its rows locked: 3 × `http_timeout`.
    pub round_limit: std::time::Duration,
    /// The guarded HTTP client.
    pub client: guard::Client,
    /// The relay's VAPID key pair.
    pub vapid: Vapid,
    /// VAPID `sub`.
    pub vapid_subject: String,
    /// Opens webhook secrets and bodies.
    pub master: Key,
    /// Deliveries in flight at once.
    pub senders: usize,
    /// First retry delay (doubles per attempt, ≤ 1 h).
    pub retry_first: Duration,
    /// Give up after this many attempts.
    pub max_attempts: u32,
    /// Web Push TTL (counted from when the notice was queued).
    pub push_ttl: Duration,
    /// The database, for the `LISTEN outbox` connection (the pool's connections do not
    /// pass notifications on). None: no listening, the loop polls.
    pub listen: Option<(
        tokio_postgres::Config,
        tokio_postgres_rustls::MakeRustlsConnect,
    )>,
}

impl SenderCtx {
    /// From the config: the guarded client (`allow_private`, `http_timeout`), the sender
    /// settings, and the database's connection settings for `LISTEN`.
    pub fn new(config: &Config, vapid: Vapid, master: Key) -> Result<SenderCtx> {
        let allow = guard::parse_allow(&config.allow_private)?;
        let client = guard::client(allow, config.http_timeout)?;
        let mut pg = crate::db::pg_config(config)?;
        pg.application_name("pushmail-relay-sender");
        Ok(SenderCtx {
            round_limit: config.http_timeout * 3,
            client,
            vapid,
            vapid_subject: config.vapid_subject.clone(),
            master,
            senders: config.senders.max(1),
            retry_first: config.retry_first,
            max_attempts: config.max_attempts.max(1),
            push_ttl: config.push_ttl,
            listen: Some((pg, crate::db::tls(config)?)),
        })
    }
}

/// Runs the sender loop until `cancel`.
pub async fn run(db: Db, ctx: Arc<SenderCtx>, cancel: CancellationToken) {
    let wake = Arc::new(tokio::sync::Notify::new());
    let listener = ctx
        .listen
        .clone()
        .map(|(pg, tls)| tokio::spawn(listen(pg, tls, wake.clone(), cancel.clone())));
    loop {
        if cancel.is_cancelled() {
            break;
        }
        let pause = match round(&db, &ctx).await {
            // A full batch: there may be more due at once.
            Ok(Round { full: true, .. }) => continue,
            Ok(Round { next_due, .. }) => next_due.map_or(SAFETY_NET, |d| d.min(SAFETY_NET)),
            Err(e) => {
                warn!(error = %format!("{e:#}"), "outbox round failed");
                ERROR_PAUSE
            }
        };
        tokio::select! {
            _ = cancel.cancelled() => break,
            _ = wake.notified() => {}
            _ = tokio::time::sleep(pause) => {}
        }
    }
    if let Some(task) = listener {
        task.abort();
    }
}

/// Keeps a connection with `LISTEN outbox`, waking the loop at each notification (and after
/// each reconnection, for what may have been missed).
async fn listen(
    pg: tokio_postgres::Config,
    tls: tokio_postgres_rustls::MakeRustlsConnect,
    wake: Arc<tokio::sync::Notify>,
    cancel: CancellationToken,
) {
    loop {
        match pg.connect(tls.clone()).await {
            Ok((client, mut connection)) => {
                let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
                // The connection must be polled for the LISTEN to be sent and notifications
                // to arrive; its messages go to this task.
                let driver = tokio::spawn(async move {
                    let mut stream =
                        futures::stream::poll_fn(move |cx| connection.poll_message(cx));
                    while let Some(message) = stream.next().await {
                        match message {
                            Ok(m) => {
                                if tx.send(m).is_err() {
                                    break;
                                }
                            }
                            Err(e) => {
                                debug!(error = %e, "outbox listener connection closed");
                                break;
                            }
                        }
                    }
                });
                if let Err(e) = client.batch_execute("LISTEN outbox").await {
                    warn!(error = %e, "cannot LISTEN outbox; polling");
                } else {
                    wake.notify_one();
                    loop {
                        tokio::select! {
                            _ = cancel.cancelled() => {
                                driver.abort();
                                return;
                            }
                            m = rx.recv() => match m {
                                Some(AsyncMessage::Notification(_)) => wake.notify_one(),
                                Some(_) => {}
                                None => break,
                            },
                        }
                    }
                }
                driver.abort();
            }
            Err(e) => debug!(error = %e, "outbox listener cannot connect"),
        }
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = tokio::time::sleep(ERROR_PAUSE) => {}
        }
    }
}

/// What a round found.
struct Round {
    /// It took as many rows as it could: go again at once.
    full: bool,
    /// When the next delivery is due, if any is queued.
    next_due: Option<Duration>,
}

/// A delivery taken from the outbox, with its target.
struct Item {
    id: i64,
    kind: String,
    target: i64,
    tag: String,
    body: Vec<u8>,
    urgency: String,
    attempts: i32,
    /// Seconds since it was queued.
    age: f64,
    endpoint: Option<String>,
    webhook_url: Option<String>,
    webhook_secret: Option<Vec<u8>>,
    webhook_disabled: bool,
}

/// Takes due deliveries, sends them, records the outcomes, all in one transaction (so the
/// rows stay locked while in flight).
async fn round(db: &Db, ctx: &SenderCtx) -> Result<Round> {
    let mut conn = db.get().await.context("Cannot reach the database")?;
    let tx = conn.transaction().await?;
    // A process frozen mid-round (SIGSTOP, a VM pause) would hold these rows locked for as
    // long as it is frozen; the server ends such a transaction after the longest a round can
    // legitimately take (two waves of sends, each bounded by http_timeout), and another sender
    // sends them: the one documented repeat, collapsed by tag.
    tx.batch_execute(&format!(
        "SET LOCAL idle_in_transaction_session_timeout = {}",
        ctx.round_limit.as_millis()
    ))
    .await?;
    let batch = i64::try_from(ctx.senders.saturating_mul(2)).unwrap_or(i64::MAX);
    let rows = tx
        .query(
            "SELECT o.id, o.kind, o.target, o.tag, o.body, o.urgency, o.attempts,
                    EXTRACT(EPOCH FROM now() - o.created_at)::float8,
                    d.endpoint, w.url, w.sealed_secret, w.disabled_at IS NOT NULL
             FROM outbox o
             LEFT JOIN device d ON o.kind = 'webpush' AND d.id = o.target
             LEFT JOIN webhook w ON o.kind = 'webhook' AND w.id = o.target
             WHERE o.next_at <= now()
             ORDER BY o.id
             LIMIT $1
             FOR UPDATE OF o SKIP LOCKED",
            &[&batch],
        )
        .await?;
    let full = i64::try_from(rows.len()).unwrap_or(i64::MAX) >= batch;
    let items: Vec<Item> = rows
        .iter()
        .map(|r| Item {
            id: r.get(0),
            kind: r.get(1),
            target: r.get(2),
            tag: r.get(3),
            body: r.get(4),
            urgency: r.get(5),
            attempts: r.get(6),
            age: r.get::<_, Option<f64>>(7).unwrap_or(0.0),
            endpoint: r.get(8),
            webhook_url: r.get(9),
            webhook_secret: r.get(10),
            webhook_disabled: r.get::<_, Option<bool>>(11).unwrap_or(false),
        })
        .collect();
    let results: Vec<(Item, Outcome)> = futures::stream::iter(items)
        .map(|item| async move {
            let outcome = deliver(ctx, &item).await;
            (item, outcome)
        })
        .buffer_unordered(ctx.senders)
        .collect()
        .await;
    for (item, outcome) in &results {
        record(&tx, ctx, item, outcome).await?;
    }
    tx.commit().await?;
    let next: Option<f64> = conn
        .query_one(
            "SELECT EXTRACT(EPOCH FROM min(next_at) - now())::float8 FROM outbox",
            &[],
        )
        .await?
        .get(0);
    let next_due = next.map(|s| Duration::from_secs_f64(s.clamp(0.0, 3600.0)));
    Ok(Round { full, next_due })
}

/// Sends one delivery.
async fn deliver(ctx: &SenderCtx, item: &Item) -> Outcome {
    match item.kind.as_str() {
        "webpush" => {
            let Some(endpoint) = &item.endpoint else {
                return Outcome::Rejected("its device was removed".into());
            };
            let remaining = ctx.push_ttl.as_secs_f64() - item.age.max(0.0);
            if remaining < 1.0 {
                return Outcome::Rejected("expired before it could be delivered (TTL)".into());
            }
            let notice = Notice {
                endpoint,
                body: item.body.clone(),
                ttl: Duration::from_secs_f64(remaining),
                urgency: &item.urgency,
                tag: Some(&item.tag),
            };
            webpush::send(&ctx.client, &ctx.vapid, &ctx.vapid_subject, notice).await
        }
        "webhook" => {
            let (Some(url), Some(sealed)) = (&item.webhook_url, &item.webhook_secret) else {
                return Outcome::Rejected("its webhook was removed".into());
            };
            if item.webhook_disabled {
                return Outcome::Rejected("its webhook is disabled".into());
            }
            let secret = match ctx
                .master
                .open(&format!("webhook-secret:{}", item.target), sealed)
                .and_then(|s| String::from_utf8(s).context("the webhook secret is not text"))
            {
                Ok(s) => secrecy::SecretString::from(s),
                Err(e) => return Outcome::Rejected(format!("{e:#}")),
            };
            let body = match ctx.master.open(
                &format!("webhook-body:{}:{}", item.target, item.tag),
                &item.body,
            ) {
                Ok(b) => b,
                Err(e) => return Outcome::Rejected(format!("{e:#}")),
            };
            let id = crate::webhook::message_id(item.target, &item.tag);
            use secrecy::ExposeSecret;
            crate::webhook::send(&ctx.client, url, secret.expose_secret(), &id, body).await
        }
        other => Outcome::Rejected(format!("unknown kind `{other}`")),
    }
}

/// The host a delivery goes to, for the log (never the path).
fn host_of(item: &Item) -> String {
    match (&item.endpoint, &item.webhook_url) {
        (Some(u), _) | (None, Some(u)) => guard::log_host(u),
        _ => "-".into(),
    }
}

/// The delay before attempt `attempts + 1`: `retry_first · 2^attempts`, or the receiver's
/// `Retry-After`; at most an hour.
pub fn backoff(retry_first: Duration, attempts: u32, after: Option<Duration>) -> Duration {
    let delay = after.unwrap_or_else(|| {
        retry_first
            .checked_mul(1u32.checked_shl(attempts.min(31)).unwrap_or(u32::MAX))
            .unwrap_or(MAX_DELAY)
    });
    delay.min(MAX_DELAY)
}

/// Records what came of one delivery, in the round's transaction.
async fn record(
    tx: &tokio_postgres::Transaction<'_>,
    ctx: &SenderCtx,
    item: &Item,
    outcome: &Outcome,
) -> Result<()> {
    let host = host_of(item);
    let attempt = item.attempts + 1;
    let (id, kind, target) = (item.id, item.kind.as_str(), item.target);
    match outcome {
        Outcome::Delivered => {
            info!(outbox = id, kind, target, host, attempt, "delivered");
            tx.execute("DELETE FROM outbox WHERE id = $1", &[&id])
                .await?;
        }
        Outcome::Gone if kind == "webpush" => {
            info!(
                outbox = id,
                kind, target, host, attempt, "subscription gone; device removed"
            );
            // Its other queued deliveries go with it (no cascade: outbox.target is not a
            // foreign key, it names a device or a webhook).
            // Only rows no other sender holds: two senders meeting the same gone device
            // would otherwise wait on each other's rows (a deadlock aborts one batch, already
            // sent). Rows another sender holds find the device gone when it settles them.
            tx.execute(
                "DELETE FROM outbox WHERE id IN (SELECT id FROM outbox
                   WHERE kind = 'webpush' AND target = $1 FOR UPDATE SKIP LOCKED)",
                &[&target],
            )
            .await?;
            tx.execute("DELETE FROM device WHERE id = $1", &[&target])
                .await?;
        }
        Outcome::Gone => {
            info!(
                outbox = id,
                kind, target, host, attempt, "webhook gone; disabled"
            );
            tx.execute(
                "UPDATE webhook SET disabled_at = now() WHERE id = $1 AND disabled_at IS NULL",
                &[&target],
            )
            .await?;
            tx.execute(
                "DELETE FROM outbox WHERE id IN (SELECT id FROM outbox
                   WHERE kind = 'webhook' AND target = $1 FOR UPDATE SKIP LOCKED)",
                &[&target],
            )
            .await?;
        }
        Outcome::Retry { after, why } => {
            let attempts = u32::try_from(attempt).unwrap_or(u32::MAX);
            if attempts >= ctx.max_attempts {
                warn!(outbox = id, kind, target, host, attempt, why = %why, "giving up");
                tx.execute("DELETE FROM outbox WHERE id = $1", &[&id])
                    .await?;
            } else {
                let delay = backoff(ctx.retry_first, attempts - 1, *after);
                info!(
                    outbox = id, kind, target, host, attempt, why = %why,
                    retry_in = format!("{:.1}s", delay.as_secs_f64()),
                    "will retry"
                );
                // clock_timestamp(), not now(): now() is when the round's transaction began,
                // before the sends, and the delay counts from the answer.
                tx.execute(
                    "UPDATE outbox SET attempts = $2,
                        next_at = clock_timestamp() + make_interval(secs => $3)
                     WHERE id = $1",
                    &[&id, &attempt, &delay.as_secs_f64()],
                )
                .await?;
            }
        }
        Outcome::Rejected(why) => {
            warn!(outbox = id, kind, target, host, attempt, why = %why, "rejected; dropped");
            tx.execute("DELETE FROM outbox WHERE id = $1", &[&id])
                .await?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_an_hour_and_honours_retry_after() {
        let first = Duration::from_secs(5);
        assert_eq!(backoff(first, 0, None), Duration::from_secs(5));
        assert_eq!(backoff(first, 1, None), Duration::from_secs(10));
        assert_eq!(backoff(first, 3, None), Duration::from_secs(40));
        assert_eq!(backoff(first, 20, None), MAX_DELAY);
        assert_eq!(backoff(first, 200, None), MAX_DELAY);
        assert_eq!(
            backoff(first, 3, Some(Duration::from_secs(2))),
            Duration::from_secs(2)
        );
        assert_eq!(
            backoff(first, 0, Some(Duration::from_secs(99_999))),
            MAX_DELAY
        );
    }
}
