//! Signed webhooks, as Standard Webhooks (<https://www.standardwebhooks.com>) define them:
//! a `whsec_` secret, and headers `webhook-id`, `webhook-timestamp` and
//! `webhook-signature: v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`, so receivers
//! can verify with any of the spec's libraries.

use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::guard;
pub use crate::webpush::Outcome;

/// The prefix of a Standard Webhooks secret.
const PREFIX: &str = "whsec_";

/// A new signing secret: `whsec_` + base64 of 32 random bytes. Shown once to the user,
/// stored sealed.
pub fn new_secret() -> String {
    let mut key = [0u8; 32];
    rand::rng().fill_bytes(&mut key);
    format!("{PREFIX}{}", STANDARD.encode(key))
}

/// The key bytes of a secret (the `whsec_` prefix is optional, as the libraries have it).
fn key_of(secret: &str) -> Result<Vec<u8>> {
    let b64 = secret.strip_prefix(PREFIX).unwrap_or(secret);
    STANDARD
        .decode(b64)
        .context("a webhook secret must be `whsec_` followed by base64")
}

/// The `webhook-signature` value: `v1,` + base64(HMAC-SHA256(key, "{id}.{timestamp}.{body}")).
pub fn sign(secret: &str, msg_id: &str, timestamp: i64, body: &[u8]) -> Result<String> {
    let key = key_of(secret)?;
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&key)
        .map_err(|_| anyhow::anyhow!("bad webhook key"))?;
    mac.update(format!("{msg_id}.{timestamp}.").as_bytes());
    mac.update(body);
    Ok(format!(
        "v1,{}",
        STANDARD.encode(mac.finalize().into_bytes())
    ))
}

/// A `webhook-id` that stays the same across retries of one delivery (receivers
/// deduplicate by it): `msg_` + a hash of the webhook and the notice's tag.
pub fn message_id(webhook_id: i64, tag: &str) -> String {
    let digest = Sha256::new()
        .chain_update(format!("{webhook_id}:").as_bytes())
        .chain_update(tag.as_bytes())
        .finalize();
    let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
    format!("msg_{hex}")
}

/// POSTs `body` (JSON) to `url`, signed with `secret` (now as the timestamp). 2xx:
/// delivered; 410: gone, the webhook gets disabled; 429, 5xx, network errors:
/// retry; other 4xx and URLs the guard refuses: rejected.
pub async fn send(
    client: &guard::Client,
    url: &str,
    secret: &str,
    msg_id: &str,
    body: Vec<u8>,
) -> Outcome {
    let parsed = match client.parse_url(url) {
        Ok(u) => u,
        Err(refused) => return Outcome::Rejected(refused.0),
    };
    let timestamp = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0);
    let signature = match sign(secret, msg_id, timestamp, &body) {
        Ok(s) => s,
        Err(e) => return Outcome::Rejected(format!("{e:#}")),
    };
    let response = client
        .http()
        .post(parsed)
        .header("content-type", "application/json")
        .header("webhook-id", msg_id)
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", signature)
        .body(body)
        .send()
        .await;
    crate::webpush::classify(response, false).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_match_the_spec_example() {
        // The example of the Standard Webhooks libraries' own tests.
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let id = "msg_p5jXN8AQM9LWM0D4loKWxJek";
        let body = br#"{"test": 2432232314}"#;
        let sig = sign(secret, id, 1614265330, body).unwrap();
        assert_eq!(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
        // Without the prefix: the same key.
        assert_eq!(
            sign("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", id, 1614265330, body).unwrap(),
            sig
        );
        assert!(sign("whsec_***", id, 1, body).is_err());
    }

    #[test]
    fn secrets_and_ids_have_their_shape() {
        let s = new_secret();
        assert!(s.starts_with("whsec_"));
        assert_eq!(key_of(&s).unwrap().len(), 32);
        assert_ne!(s, new_secret());
        let id = message_id(3, "a/INBOX/1/2");
        assert_eq!(id, message_id(3, "a/INBOX/1/2"));
        assert_ne!(id, message_id(4, "a/INBOX/1/2"));
        assert!(id.starts_with("msg_") && id.len() == 36);
    }
}
