//! `/api/webhooks`: URLs the relay POSTs each notice to, signed as Standard Webhooks
//! (HMAC-SHA256 with a `whsec_` secret).
//!
//! The signing secret is made here, shown once in the answer to the POST (the receiver needs
//! it to check signatures) and stored sealed with the master key: no later request shows it.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

use super::{ApiResult, ApiState, Caller, JsonBody, check_user_url, detail_field};

/// A webhook as the API shows it (never its secret, except `secret` once at creation).
#[derive(Serialize)]
pub struct WebhookOut {
    id: i64,
    url: String,
    detail: String,
    /// True once the senders gave up on it (it kept failing); re-add it to start again.
    disabled: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    secret: Option<String>,
}

const COLUMNS: &str = "id, url, detail, disabled_at IS NOT NULL";

fn from_row(r: &tokio_postgres::Row) -> WebhookOut {
    WebhookOut {
        id: r.get(0),
        url: r.get(1),
        detail: r.get(2),
        disabled: r.get(3),
        secret: None,
    }
}

/// The associated data a webhook's secret is sealed for (the senders open it with the same).
pub fn secret_aad(id: i64) -> String {
    format!("webhook-secret:{id}")
}

/// `GET /api/webhooks`: the caller's webhooks, oldest first.
pub async fn list(
    State(st): State<Arc<ApiState>>,
    Caller(user): Caller,
) -> ApiResult<Json<Vec<WebhookOut>>> {
    let client = st.db.get().await?;
    let rows = client
        .query(
            &format!("SELECT {COLUMNS} FROM webhook WHERE user_id = $1 ORDER BY id"),
            &[&user],
        )
        .await?;
    Ok(Json(rows.iter().map(from_row).collect()))
}

/// `POST /api/webhooks` body.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewWebhook {
    url: String,
    #[serde(default = "default_detail")]
    detail: String,
}

fn default_detail() -> String {
    "subject".to_owned()
}

/// `POST /api/webhooks`: checks the URL, makes a secret, stores it sealed; 201 with the
/// webhook and, this once, its secret.
pub async fn add(
    State(st): State<Arc<ApiState>>,
    Caller(user): Caller,
    JsonBody(req): JsonBody<NewWebhook>,
) -> ApiResult<(StatusCode, Json<WebhookOut>)> {
    let detail = detail_field(&req.detail)?;
    let url = req.url.trim().to_owned();
    check_user_url(&url, &st.allow, "webhook URL").await?;
    let count: i64 = st
        .db
        .get()
        .await?
        .query_one("SELECT count(*) FROM webhook WHERE user_id = $1", &[&user])
        .await?
        .get(0);
    super::within_limit(count, st.config.max_webhooks_per_user, "webhooks")?;

    let secret = crate::webhook::new_secret();

    let mut client = st.db.get().await?;
    let tx = client.transaction().await?;
    // The id is part of the sealed value's associated data, so the row comes first; nothing
    // sees the empty secret, as the transaction commits with the sealed one or not at all.
    let row = tx
        .query_one(
            &format!(
                "INSERT INTO webhook (user_id, url, sealed_secret, detail)
                 VALUES ($1, $2, ''::bytea, $3) RETURNING {COLUMNS}"
            ),
            &[&user, &url, &detail],
        )
        .await?;
    let mut hook = from_row(&row);
    let sealed = st.master.seal(&secret_aad(hook.id), secret.as_bytes())?;
    tx.execute(
        "UPDATE webhook SET sealed_secret = $2 WHERE id = $1",
        &[&hook.id, &sealed],
    )
    .await?;
    tx.commit().await?;
    tracing::info!(webhook = hook.id, user, "webhook added");
    hook.secret = Some(secret);
    Ok((StatusCode::CREATED, Json(hook)))
}

/// `DELETE /api/webhooks/{id}`: the webhook, its sealed secret and its queued notices.
pub async fn remove(
    State(st): State<Arc<ApiState>>,
    Caller(user): Caller,
    Path(id): Path<i64>,
) -> ApiResult<StatusCode> {
    super::remove_target(&st, user, id, "webhook", "webhook").await
}
