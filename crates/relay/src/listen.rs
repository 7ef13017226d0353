//! `LISTEN` on a connection of its own (a pooled connection cannot hold one): a notification
//! on the channel wakes whoever waits on the [`Notify`]. On a lost connection it reconnects
//! after a second and wakes once (something may have been missed), so a listener is a
//! latency shortcut and never the only way work is found.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Result;
use futures::StreamExt;
use tokio::sync::Notify;
use tokio::task::JoinHandle;
use tokio_postgres::AsyncMessage;
use tokio_util::sync::CancellationToken;
use tracing::{debug, warn};

use crate::config::Config;

/// Listens on `channel` until `cancel`.
pub async fn spawn(
    config: &Config,
    channel: &'static str,
    wake: Arc<Notify>,
    cancel: CancellationToken,
) -> Result<JoinHandle<()>> {
    let pg = crate::db::pg_config(config)?;
    let tls = crate::db::tls(config)?;
    Ok(tokio::spawn(async move {
        loop {
            match pg.connect(tls.clone()).await {
                Ok((client, mut connection)) => {
                    let mut messages =
                        futures::stream::poll_fn(move |cx| connection.poll_message(cx));
                    let sql = format!("LISTEN {channel}");
                    let listen = client.batch_execute(&sql);
                    // The LISTEN needs the connection polled while it runs.
                    let mut listen = std::pin::pin!(listen);
                    let ok = loop {
                        tokio::select! {
                            r = &mut listen => break r.is_ok(),
                            m = messages.next() => if m.is_none() { break false },
                        }
                    };
                    if ok {
                        debug!(channel, "listening");
                        wake.notify_one();
                        loop {
                            tokio::select! {
                                () = cancel.cancelled() => return,
                                m = messages.next() => match m {
                                    Some(Ok(AsyncMessage::Notification(_))) => wake.notify_one(),
                                    Some(Ok(_)) => {}
                                    Some(Err(e)) => { warn!(channel, error = %e, "listen connection lost"); break }
                                    None => break,
                                },
                            }
                        }
                    }
                }
                Err(e) => warn!(channel, error = %e, "cannot connect to listen"),
            }
            tokio::select! {
                () = cancel.cancelled() => return,
                () = tokio::time::sleep(Duration::from_secs(1)) => {}
            }
            wake.notify_one();
        }
    }))
}
