//! What a new message becomes in the outbox: one Web Push notice per device and one webhook
//! event per webhook of the account's owner, each as much as that target asked for (`detail`).
//!
//! Bodies are made here, at enqueue time, inside the announcement's transaction: a Web Push
//! body is already encrypted to its device (RFC 8291, padded), a webhook body sealed with the
//! master key, so the database never holds a sender or subject in clear.

use anyhow::Result;
use pushmail_core::event::NewMail;
use serde_json::{Value, json};
use tokio_postgres::Transaction;

use crate::crypto::Key;

/// How much a notice may say (`device.detail`, `webhook.detail`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Detail {
    /// "New mail in Work", nothing about the message.
    None,
    /// Who sent it.
    Sender,
    /// Who sent it and its subject.
    Subject,
}

impl Detail {
    /// From the stored text; anything unknown says the least.
    pub fn parse(s: &str) -> Detail {
        match s {
            "sender" => Detail::Sender,
            "subject" => Detail::Subject,
            _ => Detail::None,
        }
    }
}

/// The notification tag: the same message always has the same tag, so a device that gets a
/// notice twice (the one retry a takeover can cause) shows it once.
pub fn tag(mail: &NewMail) -> String {
    format!(
        "{}/{}/{}/{}",
        mail.account, mail.folder, mail.uidvalidity, mail.uid
    )
}

/// The longest sender or subject a notice carries, in characters. A notification shows far
/// less, and a Web Push message holds at most ~4 KB: anyone can send mail with a 30 KB display
/// name, which must not make the notice impossible to encrypt.
const FIELD_MAX_CHARS: usize = 200;

fn cut(text: &str) -> String {
    match text.char_indices().nth(FIELD_MAX_CHARS) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_owned(),
    }
}

fn sender(mail: &NewMail) -> String {
    cut(
        match (mail.from_name.is_empty(), mail.from_address.is_empty()) {
            (false, _) => &mail.from_name,
            (true, false) => &mail.from_address,
            (true, true) => "",
        },
    )
}

/// The Web Push payload the service worker (`ui/public/relay-sw.js`) shows.
pub fn push_payload(mail: &NewMail, account_name: &str, detail: Detail) -> Value {
    let t = tag(mail);
    let mut v = json!({
        "v": 1,
        "kind": "mail",
        "tag": t,
        "account": account_name,
        "title": account_name,
        "body": "",
        "url": "/",
    });
    match detail {
        Detail::None => {}
        Detail::Sender => {
            v["from"] = json!(sender(mail));
            v["body"] = json!(sender(mail));
        }
        Detail::Subject => {
            v["from"] = json!(sender(mail));
            v["subject"] = json!(cut(&mail.subject));
            v["body"] = json!(format!("{}\n{}", sender(mail), cut(&mail.subject)));
        }
    }
    v
}

/// The webhook event (Standard Webhooks payload: `type`, `timestamp`, `data`).
pub fn webhook_payload(mail: &NewMail, account_name: &str, detail: Detail) -> Value {
    let mut data = json!({
        "account": mail.account,
        "account_name": account_name,
        "folder": mail.folder,
        "uidvalidity": mail.uidvalidity,
        "uid": mail.uid,
        "tag": tag(mail),
        "catch_up": mail.catch_up,
    });
    if detail != Detail::None {
        data["from_name"] = json!(mail.from_name);
        data["from_address"] = json!(mail.from_address);
    }
    if detail == Detail::Subject {
        data["subject"] = json!(mail.subject);
        data["date"] = json!(mail.date);
        data["message_id"] = json!(mail.message_id);
    }
    json!({
        "type": "mail.received",
        "timestamp": now_rfc3339(),
        "data": data,
    })
}

fn now_rfc3339() -> String {
    // Whole seconds, UTC: `2026-12-07T19:40:13Z`.
    jiff::Timestamp::from_second(jiff::Timestamp::now().as_second())
        .map(|t| t.to_string())
        .unwrap_or_default()
}

/// Queues the deliveries of `mail` in `tx` (the announcement's transaction) and wakes the
/// senders (`NOTIFY outbox`, delivered at commit).
pub async fn enqueue(tx: &Transaction<'_>, master: &Key, mail: &NewMail) -> Result<usize> {
    let Some(row) = tx
        .query_opt(
            "SELECT user_id, name FROM account WHERE id = $1",
            &[&mail.account],
        )
        .await?
    else {
        // Removed while its watcher was stopping: nothing to tell anyone.
        return Ok(0);
    };
    let user: i64 = row.get(0);
    let name: String = row.get(1);
    let t = tag(mail);
    let mut queued = 0;
    let devices = tx
        .query(
            "SELECT id, p256dh, auth, detail FROM device WHERE user_id = $1",
            &[&user],
        )
        .await?;
    for d in devices {
        let id: i64 = d.get(0);
        let p256dh: Vec<u8> = d.get(1);
        let auth: Vec<u8> = d.get(2);
        let detail = Detail::parse(d.get::<_, &str>(3));
        let plain = serde_json::to_vec(&push_payload(mail, &name, detail))?;
        // One device's trouble never fails the announcement (that would stop the account:
        // the watcher retries the same message forever): it is logged and skipped.
        let body = match crate::webpush::encrypt(&p256dh, &auth, &plain) {
            Ok(body) => body,
            Err(e) => {
                tracing::warn!(device = id, error = %format!("{e:#}"), "cannot encrypt a notice for this device; skipped");
                continue;
            }
        };
        tx.execute(
            "INSERT INTO outbox (kind, target, account, tag, body, urgency)
             VALUES ('webpush', $1, $2, $3, $4, 'high')",
            &[&id, &mail.account, &t, &body],
        )
        .await?;
        queued += 1;
    }
    let hooks = tx
        .query(
            "SELECT id, detail FROM webhook WHERE user_id = $1 AND disabled_at IS NULL",
            &[&user],
        )
        .await?;
    for h in hooks {
        let id: i64 = h.get(0);
        let detail = Detail::parse(h.get::<_, &str>(1));
        let plain = serde_json::to_vec(&webhook_payload(mail, &name, detail))?;
        let body = match master.seal(&format!("webhook-body:{id}:{t}"), &plain) {
            Ok(body) => body,
            Err(e) => {
                tracing::warn!(webhook = id, error = %format!("{e:#}"), "cannot seal a webhook event; skipped");
                continue;
            }
        };
        tx.execute(
            "INSERT INTO outbox (kind, target, account, tag, body, urgency)
             VALUES ('webhook', $1, $2, $3, $4, 'normal')",
            &[&id, &mail.account, &t, &body],
        )
        .await?;
        queued += 1;
    }
    if queued > 0 {
        tx.execute("NOTIFY outbox", &[]).await?;
    }
    Ok(queued)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mail() -> NewMail {
        NewMail {
            account: "a1".into(),
            folder: "INBOX".into(),
            uidvalidity: 7,
            uid: 42,
            from_name: "Ana".into(),
            from_address: "ana@example.com".into(),
            subject: "Quarterly numbers".into(),
            date: String::new(),
            message_id: "<m@x>".into(),
            catch_up: false,
            unreadable: false,
            received_at: None,
            delay_ms: None,
        }
    }

    #[test]
    fn a_notice_says_only_what_the_device_asked_for() {
        let none = push_payload(&mail(), "Work", Detail::None).to_string();
        assert!(
            !none.contains("Ana") && !none.contains("Quarterly"),
            "{none}"
        );
        assert!(none.contains("a1/INBOX/7/42"));
        let sender = push_payload(&mail(), "Work", Detail::Sender).to_string();
        assert!(
            sender.contains("Ana") && !sender.contains("Quarterly"),
            "{sender}"
        );
        let subject = push_payload(&mail(), "Work", Detail::Subject).to_string();
        assert!(subject.contains("Quarterly"), "{subject}");
        let hook = webhook_payload(&mail(), "Work", Detail::Sender).to_string();
        assert!(
            hook.contains("ana@example.com") && !hook.contains("Quarterly"),
            "{hook}"
        );
        assert_eq!(Detail::parse("bogus"), Detail::None);
    }

    #[test]
    fn a_huge_sender_or_subject_still_fits_a_web_push_message() {
        let mut m = mail();
        m.from_name = "A".repeat(32 * 1024);
        m.subject = "S".repeat(32 * 1024);
        let plain = serde_json::to_vec(&push_payload(&m, "Work", Detail::Subject)).unwrap();
        assert!(plain.len() < 1024, "{}", plain.len());
        // And it encrypts (a real P-256 public key and auth secret of a subscriber).
        use web_push_native::p256::elliptic_curve::sec1::ToEncodedPoint;
        let mut scalar = [0u8; 32];
        rand::RngCore::fill_bytes(&mut rand::rng(), &mut scalar);
        let ua = web_push_native::p256::SecretKey::from_slice(&scalar).unwrap();
        let point = ua.public_key().as_affine().to_encoded_point(false);
        assert!(crate::webpush::encrypt(point.as_bytes(), &[7u8; 16], &plain).is_ok());
    }

    #[test]
    fn timestamps_are_rfc3339_utc() {
        let t = now_rfc3339();
        assert_eq!(t.len(), 20, "{t}");
        assert!(t.starts_with("20") && t.ends_with('Z'), "{t}");
    }
}
