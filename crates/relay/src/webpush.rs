//! Web Push: RFC 8291 message encryption (aes128gcm), RFC 8292 VAPID, RFC 8030 delivery.
//!
//! A notice is encrypted when it is put in the outbox (so the database holds no mail header
//! in clear) and sent later, perhaps more than once; hence [`encrypt`] and [`send`] are
//! separate, and the VAPID token is signed at each send (it expires).

use std::fmt;
use std::time::{Duration, SystemTime};

use anyhow::{Context, Result, bail};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use web_push_native::jwt_simple::algorithms::{
    ECDSAP256KeyPairLike, ECDSAP256PublicKeyLike, ES256KeyPair,
};
use web_push_native::jwt_simple::claims::Claims;

use crate::crypto::Key;
use crate::guard;

/// Plaintexts are padded with spaces to a multiple of this, so that the length of what
/// crosses the push service says little about the sender or subject.
pub const PAD_BLOCK: usize = 256;

/// The largest plaintext that fits: push services take 4096 bytes of body, and aes128gcm
/// adds a 86-byte header (salt, record size, key id = the sender's public key), one
/// delimiter byte and a 16-byte tag.
pub const MAX_PLAINTEXT: usize = 4096 - 86 - 1 - 16;

/// How long a VAPID token is valid. Apple refuses more than a day.
const VAPID_VALIDITY: Duration = Duration::from_secs(12 * 3600);

/// What a delivery attempt came to (Web Push or webhook).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Accepted (2xx).
    Delivered,
    /// The subscription or webhook is gone for good (404, 410): delete or disable it.
    Gone,
    /// Try again later: 429 (with its `Retry-After` when given), 5xx, timeouts, network
    /// errors. `why` is for the log (status or error kind; never a URL path).
    Retry {
        /// The receiver's `Retry-After`, if any.
        after: Option<Duration>,
        /// What happened, for the log.
        why: String,
    },
    /// Refused for good (other 4xx, a URL the guard refuses, an undecodable key): drop this
    /// delivery. The text is for the log.
    Rejected(String),
}

/// The relay's VAPID key pair (ES256). One per relay, shared by its processes: browsers bind
/// each subscription to the public key they were given (`applicationServerKey`).
pub struct Vapid {
    key: ES256KeyPair,
}

impl fmt::Debug for Vapid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Vapid")
            .field("public_key", &self.public_key_base64())
            .finish_non_exhaustive()
    }
}

/// `relay_meta` key and sealing purpose of the VAPID key pair.
const META_KEY: &str = "vapid";
const META_AAD: &str = "relay-meta:vapid";

impl Vapid {
    /// A fresh key pair.
    pub fn generate() -> Vapid {
        Vapid {
            key: ES256KeyPair::generate(),
        }
    }

    /// The private key (32-byte scalar), to be stored sealed.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.key.to_bytes()
    }

    /// The inverse of [`Vapid::to_bytes`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Vapid> {
        let key = ES256KeyPair::from_bytes(bytes)
            .map_err(|e| anyhow::anyhow!("not a VAPID private key: {e}"))?;
        Ok(Vapid { key })
    }

    /// The public key as an uncompressed P-256 point (65 bytes).
    pub fn public_key(&self) -> Vec<u8> {
        self.key.public_key().public_key().to_bytes_uncompressed()
    }

    /// The public key, base64url without padding: browsers' `applicationServerKey`.
    pub fn public_key_base64(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.public_key())
    }

    /// The relay's key pair from `relay_meta` (sealed with the master key), made and stored
    /// on first use. Processes starting together agree: the first insert wins, and every
    /// process reads back what was stored.
    pub async fn load_or_create(db: &crate::db::Db, master: &Key) -> Result<Vapid> {
        let client = db.get().await.context("Cannot reach the database")?;
        let fresh = Vapid::generate();
        let sealed = master.seal(META_AAD, &fresh.to_bytes())?;
        client
            .execute(
                "INSERT INTO relay_meta (key, value) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                &[&META_KEY, &sealed],
            )
            .await?;
        let row = client
            .query_one("SELECT value FROM relay_meta WHERE key = $1", &[&META_KEY])
            .await?;
        let stored: Vec<u8> = row.get(0);
        let plain = master
            .open(META_AAD, &stored)
            .context("Cannot open the stored VAPID key")?;
        Vapid::from_bytes(&plain)
    }

    /// The `Authorization` header value for a push to `endpoint`: `vapid t=<JWT>, k=<key>`,
    /// the JWT (ES256) with `aud` = the endpoint's origin, `exp` = now + 12 h, `sub` =
    /// `subject` (a `mailto:` or `https:` contact).
    pub fn authorization(&self, endpoint: &url::Url, subject: &str) -> Result<String> {
        let origin = endpoint.origin();
        if !origin.is_tuple() {
            bail!("the endpoint has no origin");
        }
        let claims = Claims::create(VAPID_VALIDITY.into())
            .with_audience(origin.ascii_serialization())
            .with_subject(subject);
        let token = self
            .key
            .sign(claims)
            .map_err(|e| anyhow::anyhow!("cannot sign the VAPID token: {e}"))?;
        Ok(format!("vapid t={token}, k={}", self.public_key_base64()))
    }

    /// The RFC 8030 `Topic` for a notice tag: 32 base64url characters (the most allowed),
    /// an HMAC of the tag under this relay's key so the push service cannot tell what it
    /// names, yet the same tag always gives the same topic (a newer notice replaces a
    /// pending one).
    pub fn topic(&self, tag: &str) -> String {
        let mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.key.to_bytes())
            .map(|m| m.chain_update(b"topic:").chain_update(tag.as_bytes()));
        match mac {
            Ok(m) => URL_SAFE_NO_PAD.encode(&m.finalize().into_bytes()[..24]),
            // HMAC takes keys of any length; kept total rather than panicking.
            Err(_) => URL_SAFE_NO_PAD.encode(&<Sha256 as sha2::Digest>::digest(tag)[..24]),
        }
    }
}

/// Encrypts `plaintext` for a subscription (RFC 8291, aes128gcm, one record), after padding
/// it with ASCII spaces to a multiple of [`PAD_BLOCK`] (at most [`MAX_PLAINTEXT`]): pass
/// JSON or text, where trailing spaces mean nothing (`JSON.parse` ignores them).
/// `p256dh` is the subscription's public key (65-byte uncompressed point), `auth` its
/// 16-byte secret.
pub fn encrypt(p256dh: &[u8], auth: &[u8], plaintext: &[u8]) -> Result<Vec<u8>> {
    let ua_public = web_push_native::p256::PublicKey::from_sec1_bytes(p256dh)
        .map_err(|_| anyhow::anyhow!("the subscription's p256dh is not a P-256 public key"))?;
    if auth.len() != 16 {
        bail!(
            "the subscription's auth secret is {} bytes, not 16",
            auth.len()
        );
    }
    if plaintext.len() > MAX_PLAINTEXT {
        bail!(
            "a notice of {} bytes is too long for Web Push (at most {MAX_PLAINTEXT})",
            plaintext.len()
        );
    }
    let ua_auth = web_push_native::Auth::clone_from_slice(auth);
    let padded_len = plaintext
        .len()
        .div_ceil(PAD_BLOCK)
        .max(1)
        .saturating_mul(PAD_BLOCK)
        .min(MAX_PLAINTEXT);
    let mut padded = plaintext.to_vec();
    padded.resize(padded_len, b' ');
    web_push_native::encrypt(padded, &ua_public, &ua_auth)
        .map_err(|e| anyhow::anyhow!("Web Push encryption failed: {e}"))
}

/// One push to send.
#[derive(Clone, Debug)]
pub struct Notice<'a> {
    /// The subscription's endpoint (a capability URL: never logged whole).
    pub endpoint: &'a str,
    /// What [`encrypt`] made.
    pub body: Vec<u8>,
    /// How long the push service keeps it for an offline device.
    pub ttl: Duration,
    /// `very-low`, `low`, `normal` or `high` (anything else is sent as `normal`).
    pub urgency: &'a str,
    /// The notice's tag, for `Topic` (see [`Vapid::topic`]); none: no `Topic`.
    pub tag: Option<&'a str>,
}

/// Sends one push. The endpoint is checked by the guard first; the VAPID token is signed
/// now, for the endpoint's origin, with `subject` as its contact.
pub async fn send(
    client: &guard::Client,
    vapid: &Vapid,
    subject: &str,
    notice: Notice<'_>,
) -> Outcome {
    let url = match client.parse_url(notice.endpoint) {
        Ok(u) => u,
        Err(refused) => return Outcome::Rejected(refused.0),
    };
    let authorization = match vapid.authorization(&url, subject) {
        Ok(a) => a,
        Err(e) => return Outcome::Rejected(format!("{e:#}")),
    };
    let urgency = match notice.urgency {
        u @ ("very-low" | "low" | "normal" | "high") => u,
        _ => "normal",
    };
    let mut request = client
        .http()
        .post(url)
        .header("Content-Encoding", "aes128gcm")
        .header("Content-Type", "application/octet-stream")
        .header("TTL", notice.ttl.as_secs().to_string())
        .header("Urgency", urgency)
        .header("Authorization", authorization);
    if let Some(tag) = notice.tag {
        request = request.header("Topic", vapid.topic(tag));
    }
    let response = request.body(notice.body).send().await;
    classify(response, true).await
}

/// Maps a response (or the failure to get one) to an [`Outcome`]; shared with webhooks.
/// `404 Not Found` means gone for a push subscription (RFC 8030 §7.3), not for a webhook
/// (there it is more likely a typo: rejected).
pub(crate) async fn classify(
    response: reqwest::Result<reqwest::Response>,
    gone_on_404: bool,
) -> Outcome {
    let response = match response {
        Ok(r) => r,
        Err(e) => return classify_error(e),
    };
    let status = response.status();
    let retry_after = response
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(parse_retry_after);
    if status.is_success() {
        return Outcome::Delivered;
    }
    let code = status.as_u16();
    match code {
        410 => Outcome::Gone,
        404 if gone_on_404 => Outcome::Gone,
        429 | 500..=599 => Outcome::Retry {
            after: retry_after,
            why: format!("HTTP {code}"),
        },
        _ => {
            // The push service's or receiver's own words help the operator (bad VAPID key,
            // payload too large); a short, single-line excerpt.
            // At most 1 KiB of it: the body comes from a user-chosen host.
            let mut body = Vec::new();
            let mut response = response;
            while body.len() < 1024 {
                match response.chunk().await {
                    Ok(Some(chunk)) => body.extend_from_slice(&chunk),
                    _ => break,
                }
            }
            body.truncate(1024);
            let text = String::from_utf8_lossy(&body);
            let text: String = text
                .chars()
                .map(|c| if c.is_control() { ' ' } else { c })
                .take(200)
                .collect();
            let text = text.trim();
            if text.is_empty() {
                Outcome::Rejected(format!("HTTP {code}"))
            } else {
                Outcome::Rejected(format!("HTTP {code}: {text}"))
            }
        }
    }
}

fn classify_error(e: reqwest::Error) -> Outcome {
    // The URL out of the text: a Web Push endpoint's path is a capability.
    let e = e.without_url();
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&e);
    let mut words = Vec::new();
    while let Some(err) = source {
        if let Some(refused) = err.downcast_ref::<guard::Refused>() {
            return Outcome::Rejected(refused.0.clone());
        }
        words.push(err.to_string());
        source = err.source();
    }
    let why = if e.is_timeout() {
        "timed out".to_owned()
    } else {
        words.join(": ")
    };
    Outcome::Retry { after: None, why }
}

/// `Retry-After`: delay-seconds or an HTTP-date (RFC 9110 §10.2.3).
fn parse_retry_after(v: &str) -> Option<Duration> {
    let v = v.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = httpdate::parse_http_date(v).ok()?;
    Some(
        at.duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use web_push_native::p256::elliptic_curve::sec1::ToEncodedPoint;

    #[test]
    fn encrypted_notices_open_with_the_subscription_key_and_are_padded() {
        let mut scalar = [0u8; 32];
        rand::RngCore::fill_bytes(&mut rand::rng(), &mut scalar);
        let ua = web_push_native::p256::SecretKey::from_slice(&scalar).unwrap();
        let public = ua.public_key().as_affine().to_encoded_point(false);
        let auth = [7u8; 16];
        let small = encrypt(public.as_bytes(), &auth, br#"{"a":1}"#).unwrap();
        let bigger = encrypt(public.as_bytes(), &auth, &[b'x'; 200]).unwrap();
        // The same length class.
        assert_eq!(small.len(), bigger.len());
        assert_eq!(small.len(), 86 + PAD_BLOCK + 17);
        let plain =
            web_push_native::decrypt(small, &ua, &web_push_native::Auth::clone_from_slice(&auth))
                .unwrap();
        assert_eq!(plain.len(), PAD_BLOCK);
        let v: serde_json::Value = serde_json::from_slice(&plain).unwrap();
        assert_eq!(v["a"], 1);
        assert!(encrypt(public.as_bytes(), &auth, &[b'x'; MAX_PLAINTEXT]).is_ok());
        assert!(encrypt(public.as_bytes(), &auth, &[b'x'; MAX_PLAINTEXT + 1]).is_err());
        assert!(encrypt(&[4u8; 65], &auth, b"{}").is_err());
        assert!(encrypt(public.as_bytes(), &[0u8; 8], b"{}").is_err());
    }

    #[test]
    fn vapid_keys_round_trip_and_sign_for_the_origin() {
        let v = Vapid::generate();
        let back = Vapid::from_bytes(&v.to_bytes()).unwrap();
        assert_eq!(v.public_key(), back.public_key());
        assert_eq!(v.public_key().len(), 65);
        assert_eq!(v.public_key_base64().len(), 87);
        let url = url::Url::parse("https://push.example.com:8443/a/b?c").unwrap();
        let auth = v.authorization(&url, "mailto:ops@example.com").unwrap();
        let (t, k) = auth
            .strip_prefix("vapid t=")
            .and_then(|r| r.split_once(", k="))
            .unwrap();
        assert_eq!(k, v.public_key_base64());
        back.key
            .public_key()
            .verify_token::<web_push_native::jwt_simple::claims::NoCustomClaims>(t, None)
            .unwrap();
        let payload = t.split('.').nth(1).unwrap();
        let claims: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
        assert_eq!(claims["aud"], "https://push.example.com:8443");
        assert_eq!(claims["sub"], "mailto:ops@example.com");
        let exp = claims["exp"].as_u64().unwrap();
        let now = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        assert!(
            exp > now + 11 * 3600 && exp <= now + 12 * 3600 + 5,
            "{exp} {now}"
        );
        assert!(!format!("{v:?}").contains(&URL_SAFE_NO_PAD.encode(v.to_bytes())));
    }

    #[test]
    fn topics_are_short_stable_and_opaque() {
        let v = Vapid::generate();
        let t = v.topic("acct/INBOX/1/42");
        assert_eq!(t.len(), 32);
        assert!(
            t.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        );
        assert_eq!(t, v.topic("acct/INBOX/1/42"));
        assert_ne!(t, v.topic("acct/INBOX/1/43"));
        assert_ne!(t, Vapid::generate().topic("acct/INBOX/1/42"));
    }

    #[test]
    fn retry_after_takes_seconds_and_dates() {
        assert_eq!(parse_retry_after("3"), Some(Duration::from_secs(3)));
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon"), None);
    }
}
