//! `/api/devices`: browsers and phones that receive notices by Web Push.
//!
//! Registering a device (or asking for a test) queues a test notice to it in the same
//! transaction, so the person who just pressed "Turn on notifications" sees one arrive at once
//! and knows the whole path works. The notice is encrypted to the device (RFC 8291) before it
//! is written: the outbox never holds it in clear.
//!
//! A browser that replaces its subscription (`pushsubscriptionchange`) tells the relay through
//! [`renew`], without a token: the proof is the device's renewal secret (issued by the relay at
//! registration, stored only as its hash, replaced at every renewal) together with the old
//! subscription's endpoint and `auth` secret.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

use super::{
    ApiError, ApiResult, ApiState, Caller, JsonBody, check_user_url, detail_field, notify,
    text_field,
};

/// Length of an uncompressed P-256 public key (0x04 ‖ x ‖ y).
const P256DH_LEN: usize = 65;
/// Length of a subscription's authentication secret (RFC 8291 §3.2).
const AUTH_LEN: usize = 16;

/// A device as the API shows it.
#[derive(Serialize)]
pub struct DeviceOut {
    id: i64,
    name: String,
    detail: String,
    /// The push service's address for this subscription: the web app compares it with its
    /// own subscription's to mark "this browser".
    endpoint: String,
    /// Only when the device is registered: the secret its service worker keeps to move the
    /// device to a renewed subscription ([`renew`]). Never shown again.
    #[serde(skip_serializing_if = "Option::is_none")]
    renew_secret: Option<String>,
}

/// A new renewal secret: 32 random bytes as hex, and its SHA-256 (what is stored).
fn renew_secret() -> (String, Vec<u8>) {
    use rand::RngCore;
    use sha2::Digest;
    let mut raw = [0u8; 32];
    rand::rng().fill_bytes(&mut raw);
    let secret = super::hex(&raw);
    let hash = sha2::Sha256::digest(secret.as_bytes()).to_vec();
    (secret, hash)
}

const COLUMNS: &str = "id, name, detail, endpoint";

fn from_row(r: &tokio_postgres::Row) -> DeviceOut {
    DeviceOut {
        id: r.get(0),
        name: r.get(1),
        detail: r.get(2),
        endpoint: r.get(3),
        renew_secret: None,
    }
}

/// `GET /api/devices`: the caller's devices, oldest first.
pub async fn list(
    State(st): State<Arc<ApiState>>,
    Caller(user): Caller,
) -> ApiResult<Json<Vec<DeviceOut>>> {
    let client = st.db.get().await?;
    let rows = client
        .query(
            &format!("SELECT {COLUMNS} FROM device WHERE user_id = $1 ORDER BY id"),
            &[&user],
        )
        .await?;
    Ok(Json(rows.iter().map(from_row).collect()))
}

/// A browser's `PushSubscription.toJSON()` (other members, such as `expirationTime`, are
/// ignored).
#[derive(Deserialize)]
pub struct Subscription {
    endpoint: String,
    keys: SubscriptionKeys,
}

/// The subscription's keys, base64url as browsers give them.
#[derive(Deserialize)]
pub struct SubscriptionKeys {
    p256dh: String,
    auth: String,
}

/// `POST /api/devices` body.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewDevice {
    #[serde(default)]
    name: String,
    #[serde(default = "default_detail")]
    detail: String,
    subscription: Subscription,
}

fn default_detail() -> String {
    "sender".to_owned()
}

/// `POST /api/devices`: registers (or, for a subscription already known, updates) a device
/// and queues a test notice to it. 201 with the device.
pub async fn add(
    State(st): State<Arc<ApiState>>,
    Caller(user): Caller,
    JsonBody(req): JsonBody<NewDevice>,
) -> ApiResult<(StatusCode, Json<DeviceOut>)> {
    let name = if req.name.trim().is_empty() {
        String::new()
    } else {
        text_field("device name", &req.name, 100)?
    };
    let detail = detail_field(&req.detail)?;
    let (p256dh, auth) = subscription_keys(&req.subscription.keys)?;
    let endpoint = req.subscription.endpoint.trim().to_owned();
    check_user_url(&endpoint, &st.allow, "push endpoint").await?;
    // The same browser registering again replaces its device: only others count.
    let others: i64 = st
        .db
        .get()
        .await?
        .query_one(
            "SELECT count(*) FROM device WHERE user_id = $1 AND endpoint <> $2",
            &[&user, &endpoint],
        )
        .await?
        .get(0);
    super::within_limit(others, st.config.max_devices_per_user, "devices")?;

    let (secret, secret_hash) = renew_secret();
    let mut client = st.db.get().await?;
    let tx = client.transaction().await?;
    let row = tx
        .query_one(
            &format!(
                "INSERT INTO device (user_id, name, endpoint, p256dh, auth, detail, renew_hash)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)
                 ON CONFLICT (user_id, endpoint)
                 DO UPDATE SET name = EXCLUDED.name, p256dh = EXCLUDED.p256dh,
                               auth = EXCLUDED.auth, detail = EXCLUDED.detail,
                               renew_hash = EXCLUDED.renew_hash
                 RETURNING {COLUMNS}"
            ),
            &[
                &user,
                &name,
                &endpoint,
                &p256dh,
                &auth,
                &detail,
                &secret_hash,
            ],
        )
        .await?;
    let mut device = from_row(&row);
    device.renew_secret = Some(secret);
    enqueue_test(&tx, device.id, &p256dh, &auth).await?;
    tx.commit().await?;
    tracing::info!(device = device.id, user, "device registered");
    Ok((StatusCode::CREATED, Json(device)))
}

/// A subscription's keys, decoded and checked for their lengths: (p256dh, auth).
fn subscription_keys(keys: &SubscriptionKeys) -> ApiResult<(Vec<u8>, Vec<u8>)> {
    let p256dh = decode_key(&keys.p256dh, "p256dh")?;
    if p256dh.len() != P256DH_LEN || p256dh[0] != 0x04 {
        return Err(ApiError::bad(
            "bad_subscription",
            "keys.p256dh must be an uncompressed P-256 public key (65 bytes starting with 0x04), as the browser's subscription gives it",
        ));
    }
    let auth = decode_key(&keys.auth, "auth")?;
    if auth.len() != AUTH_LEN {
        return Err(ApiError::bad(
            "bad_subscription",
            "keys.auth must be 16 bytes, as the browser's subscription gives it",
        ));
    }
    Ok((p256dh, auth))
}

/// `POST /api/devices/renew` body: the subscription the browser replaced (its endpoint and
/// `keys.auth`, the proof) and the new one, in the shape of `PushSubscription.toJSON()`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Renewal {
    /// The device's renewal secret, as `POST /api/devices` (or the last renewal) gave it.
    renew_secret: String,
    old_endpoint: String,
    old_auth: String,
    endpoint: String,
    keys: SubscriptionKeys,
    /// `toJSON()` carries it; ignored.
    #[serde(default, rename = "expirationTime")]
    _expiration_time: Option<serde_json::Value>,
}

/// `POST /api/devices/renew`: a browser replaced a push subscription (`pushsubscriptionchange`
/// in the service worker, which has no token). The proof is the device's renewal secret
/// (found by its hash) and the old subscription's endpoint and `auth` secret, which must be the
/// device's (compared in constant time): a copy of a subscription alone — which the relay
/// keeps in clear to encrypt to it, and which any script on the page can read — moves nothing.
/// The device is replaced by one with the new subscription, keeping its name and detail; its
/// queued notices, encrypted to the old keys, are dropped. The new endpoint passes the checks
/// of `POST /api/devices` (https, the SSRF guard). No token, so the API's gate limits it per
/// client address. 200 with the next renewal secret (the old one is spent); anything unknown
/// or wrong is the same 404, saying nothing more.
///
/// The device gets a new id rather than new columns: a sender still holding a notice to the
/// old endpoint, which the push service now answers 404/410, removes the device it was sent
/// for — the old id, not the renewed device.
pub async fn renew(
    State(st): State<Arc<ApiState>>,
    JsonBody(req): JsonBody<Renewal>,
) -> ApiResult<Json<serde_json::Value>> {
    use sha2::Digest;
    let unknown = || {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "This relay knows no such subscription; turn notifications on again in the app",
        )
    };
    let (p256dh, auth) = subscription_keys(&req.keys)?;
    let old_auth = decode_key(&req.old_auth, "old_auth")?;
    let old_endpoint = req.old_endpoint.trim();
    if old_auth.len() != AUTH_LEN
        || old_endpoint.is_empty()
        || old_endpoint.len() > 2048
        || req.renew_secret.len() != 64
    {
        return Err(unknown());
    }
    let secret_hash = sha2::Sha256::digest(req.renew_secret.as_bytes()).to_vec();
    // The proof first (an indexed lookup by the secret's hash): nothing else — no name lookup
    // for the new endpoint — for a stranger.
    let client = st.db.get().await?;
    let row = client
        .query_opt(
            "SELECT id, endpoint, auth FROM device WHERE renew_hash = $1",
            &[&secret_hash],
        )
        .await?;
    drop(client);
    let Some(row) = row else {
        return Err(unknown());
    };
    let old: i64 = row.get(0);
    let stored_endpoint: String = row.get(1);
    if !same_secret(stored_endpoint.as_bytes(), old_endpoint.as_bytes())
        || !same_secret(&row.get::<_, Vec<u8>>(2), &old_auth)
    {
        return Err(unknown());
    }
    let endpoint = req.endpoint.trim().to_owned();
    check_user_url(&endpoint, &st.allow, "push endpoint").await?;
    // A key that decodes to the right length but is not a point on the curve fails here.
    crate::webpush::encrypt(&p256dh, &auth, b"{}").map_err(|_| {
        ApiError::bad(
            "bad_subscription",
            "keys.p256dh is not a valid P-256 public key; subscribe again in the browser",
        )
    })?;

    let (next_secret, next_hash) = renew_secret();
    let mut client = st.db.get().await?;
    let tx = client.transaction().await?;
    // Checked again under the row's lock: removed or renewed meanwhile, nothing happens.
    let Some(row) = tx
        .query_opt(
            "SELECT user_id, name, detail, created_at FROM device
             WHERE id = $1 AND renew_hash = $2 FOR UPDATE",
            &[&old, &secret_hash],
        )
        .await?
    else {
        return Err(unknown());
    };
    let user: i64 = row.get(0);
    let name: String = row.get(1);
    let detail: String = row.get(2);
    let created: std::time::SystemTime = row.get(3);
    let id = if endpoint == old_endpoint {
        // The same endpoint with new keys: the device stays, its keys change.
        tx.execute(
            "UPDATE device SET p256dh = $2, auth = $3, renew_hash = $4 WHERE id = $1",
            &[&old, &p256dh, &auth, &next_hash],
        )
        .await?;
        old
    } else {
        // The old row goes first: its secret's hash is unique.
        tx.execute("DELETE FROM device WHERE id = $1", &[&old])
            .await?;
        // A device this browser registered again already keeps its own settings.
        tx.query_one(
            "INSERT INTO device (user_id, name, endpoint, p256dh, auth, detail, created_at,
                                 renew_hash)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
             ON CONFLICT (user_id, endpoint)
             DO UPDATE SET p256dh = EXCLUDED.p256dh, auth = EXCLUDED.auth,
                           renew_hash = EXCLUDED.renew_hash
             RETURNING id",
            &[
                &user, &name, &endpoint, &p256dh, &auth, &detail, &created, &next_hash,
            ],
        )
        .await?
        .get(0)
    };
    // Queued notices were encrypted to the old keys: the new subscription cannot read them.
    // Rows a sender holds now are settled by it (to the old endpoint, or dropped).
    tx.execute(
        "DELETE FROM outbox WHERE id IN (SELECT id FROM outbox
           WHERE kind = 'webpush' AND target = $1 FOR UPDATE SKIP LOCKED)",
        &[&old],
    )
    .await?;
    tx.commit().await?;
    tracing::info!(
        old_device = old,
        device = id,
        user,
        host = %crate::guard::log_host(&endpoint),
        "device subscription renewed"
    );
    Ok(Json(serde_json::json!({ "renew_secret": next_secret })))
}

/// Whether two secrets are equal, in a time that depends on their length only (the length
/// of an `auth` secret is public: 16 bytes).
fn same_secret(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(diff) == 0
}

/// `PATCH /api/devices/{id}` body: what to change.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeviceChange {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    detail: Option<String>,
}

/// `PATCH /api/devices/{id}`: renames it or changes how much its notices show.
pub async fn update(
    State(st): State<Arc<ApiState>>,
    Caller(user): Caller,
    Path(id): Path<i64>,
    JsonBody(req): JsonBody<DeviceChange>,
) -> ApiResult<Json<DeviceOut>> {
    let name = match &req.name {
        Some(n) if n.trim().is_empty() => Some(String::new()),
        Some(n) => Some(text_field("device name", n, 100)?),
        None => None,
    };
    let detail = req.detail.as_deref().map(detail_field).transpose()?;
    let client = st.db.get().await?;
    let row = client
        .query_opt(
            &format!(
                "UPDATE device SET name = coalesce($3, name), detail = coalesce($4, detail)
                 WHERE id = $1 AND user_id = $2 RETURNING {COLUMNS}"
            ),
            &[&id, &user, &name, &detail],
        )
        .await?
        .ok_or_else(|| ApiError::not_found("device"))?;
    Ok(Json(from_row(&row)))
}

/// `DELETE /api/devices/{id}`: the device and every notice still queued for it.
pub async fn remove(
    State(st): State<Arc<ApiState>>,
    Caller(user): Caller,
    Path(id): Path<i64>,
) -> ApiResult<StatusCode> {
    super::remove_target(&st, user, id, "device", "webpush").await
}

/// `POST /api/devices/{id}/test`: queues another test notice. 202 with its tag.
pub async fn test(
    State(st): State<Arc<ApiState>>,
    Caller(user): Caller,
    Path(id): Path<i64>,
) -> ApiResult<(StatusCode, Json<serde_json::Value>)> {
    let mut client = st.db.get().await?;
    let tx = client.transaction().await?;
    let row = tx
        .query_opt(
            "SELECT p256dh, auth FROM device WHERE id = $1 AND user_id = $2",
            &[&id, &user],
        )
        .await?
        .ok_or_else(|| ApiError::not_found("device"))?;
    let p256dh: Vec<u8> = row.get(0);
    let auth: Vec<u8> = row.get(1);
    let tag = enqueue_test(&tx, id, &p256dh, &auth).await?;
    tx.commit().await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(serde_json::json!({ "queued": true, "tag": tag })),
    ))
}

/// Queues a test notice to device `id` in `tx` and wakes the senders when it commits.
/// Returns the notice's tag.
async fn enqueue_test(
    tx: &deadpool_postgres::Transaction<'_>,
    id: i64,
    p256dh: &[u8],
    auth: &[u8],
) -> ApiResult<String> {
    let ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0);
    let tag = format!("test-{id}-{ms}");
    let payload = serde_json::json!({
        "v": 1,
        "kind": "test",
        "tag": tag,
        "title": "Pushmail",
        "body": "Notifications work on this device",
    });
    let plain = serde_json::to_vec(&payload).map_err(anyhow::Error::from)?;
    // A key that decodes to the right length but is not a point on the curve fails here.
    let body = crate::webpush::encrypt(p256dh, auth, &plain).map_err(|e| {
        tracing::info!(device = id, "cannot encrypt to the device: {e:#}");
        ApiError::bad(
            "bad_subscription",
            "keys.p256dh is not a valid P-256 public key; subscribe again in the browser",
        )
    })?;
    tx.execute(
        "INSERT INTO outbox (kind, target, account, tag, body, urgency)
         VALUES ('webpush', $1, NULL, $2, $3, 'high')",
        &[&id, &tag, &body],
    )
    .await?;
    notify(tx, "outbox", "").await?;
    Ok(tag)
}

/// Base64url as browsers write it (unpadded), with padding or standard-alphabet characters
/// tolerated since some libraries produce them.
fn decode_key(text: &str, field: &str) -> ApiResult<Vec<u8>> {
    let cleaned: String = text
        .trim()
        .trim_end_matches('=')
        .chars()
        .map(|c| match c {
            '+' => '-',
            '/' => '_',
            c => c,
        })
        .collect();
    URL_SAFE_NO_PAD.decode(cleaned.as_bytes()).map_err(|_| {
        ApiError::bad(
            "bad_subscription",
            format!("keys.{field} is not base64url; send the browser's subscription as it is"),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_compare_whole() {
        assert!(same_secret(&[1; 16], &[1; 16]));
        let mut last = [1u8; 16];
        last[15] = 2;
        assert!(!same_secret(&[1; 16], &last));
        assert!(!same_secret(&[1; 16], &[1; 15]));
        assert!(!same_secret(&[], &[1]));
    }

    #[test]
    fn keys_decode_padded_or_not() {
        assert_eq!(decode_key("AAEC", "auth").unwrap(), vec![0, 1, 2]);
        assert_eq!(decode_key("_-8", "auth").unwrap(), vec![0xff, 0xef]);
        assert_eq!(decode_key("/+8=", "auth").unwrap(), vec![0xff, 0xef]);
        assert!(decode_key("not base64!", "auth").is_err());
    }
}
