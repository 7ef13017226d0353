//! The relay's HTTP side: the JSON API under `/api/` and the web app's files everywhere else.
//!
//! Every `/api/` request passes one gate ([`gate`]): rate limit, then the bearer token, then
//! the handler, then headers that keep API answers out of caches. Handlers only validate, run
//! one transaction and answer; the watchers and senders learn of changes through
//! `NOTIFY accounts` / `NOTIFY outbox` sent in that same transaction, so a change and its
//! announcement commit together or not at all.
//!
//! Errors are `{"error": "<sentence a user can act on>", "code": "<stable id>"}` ([`ApiError`]);
//! nothing a user sent as a secret (password, token) is ever part of an answer.
//!
//! Serve the router with `into_make_service_with_connect_info::<SocketAddr>()`: requests
//! without a token are limited per client address, which needs the peer's address (behind a
//! reverse proxy named in `trusted_proxies`, the client's from `X-Forwarded-For`; see
//! [`client`]).

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, DefaultBodyLimit, FromRequest, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, patch, post};
use pushmail_core::imap::transport::TlsConfigs;
use serde::de::DeserializeOwned;

use crate::config::Config;
use crate::crypto::Key;
use crate::db::Db;
use crate::guard;

mod accounts;
mod devices;
mod discover;
pub mod rate;
mod signin;
mod web;
mod webhooks;

pub use accounts::bucket_of;
pub use rate::RateLimiter;

/// Largest request body accepted. The biggest legitimate one (a device's subscription) is
/// well under 2 KiB; the limit only keeps a client from making the relay buffer megabytes.
pub const BODY_LIMIT: usize = 64 * 1024;

/// Everything the handlers share.
pub struct ApiState {
    /// The database every process of the relay shares.
    pub db: Db,
    /// The master key: seals account secrets and webhook secrets.
    pub master: Key,
    /// The relay's settings.
    pub config: Config,
    /// The VAPID public key (uncompressed P-256 point, base64url) browsers subscribe with.
    pub vapid_public_key: String,
    /// Private or loopback ranges users' hosts and URLs may reach anyway
    /// (`config.allow_private`, parsed).
    pub allow: Vec<guard::Cidr>,
    /// Requests per minute per token and per client address.
    pub limiter: RateLimiter,
    /// Reverse proxies whose `X-Forwarded-For` names the client (`config.trusted_proxies`).
    pub trusted: Vec<guard::Cidr>,
    /// TLS client configurations for account tests, built once per CA file and shared.
    tls: TlsConfigs,
}

impl ApiState {
    /// The state for [`router`]: `config.allow_private` parsed, a rate limiter at
    /// `config.rate_per_minute`.
    pub fn new(db: Db, master: Key, config: Config, vapid_public_key: String) -> Result<ApiState> {
        let allow = config
            .allow_private
            .iter()
            .map(|c| {
                guard::Cidr::parse(c)
                    .with_context(|| format!("allow_private: `{c}` is not an address range"))
            })
            .collect::<Result<Vec<_>>>()?;
        let trusted = config
            .trusted_proxies
            .iter()
            .map(|c| {
                guard::Cidr::parse(c)
                    .with_context(|| format!("trusted_proxies: `{c}` is not an address range"))
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(ApiState {
            trusted,
            db,
            master,
            limiter: RateLimiter::new(config.rate_per_minute),
            config,
            vapid_public_key,
            allow,
            tls: TlsConfigs::default(),
        })
    }
}

/// The whole HTTP side: `/api/…` and, for every other path, the web app from
/// `config.web_dir`.
pub fn router(state: Arc<ApiState>) -> Router {
    let api = Router::new()
        .route("/api/vapid", get(vapid))
        .route("/api/me", get(me))
        .route("/api/accounts", get(accounts::list).post(accounts::add))
        .route("/api/accounts/{id}", delete(accounts::remove))
        .route("/api/discover", post(discover::find))
        .route("/api/signin/providers", get(signin::providers))
        .route("/api/signin", post(signin::start))
        .route("/api/devices", get(devices::list).post(devices::add))
        .route(
            "/api/devices/{id}",
            patch(devices::update).delete(devices::remove),
        )
        .route("/api/devices/{id}/test", post(devices::test))
        .route("/api/devices/renew", post(devices::renew))
        .route("/api/webhooks", get(webhooks::list).post(webhooks::add))
        .route("/api/webhooks/{id}", delete(webhooks::remove))
        .route("/api/{*rest}", axum::routing::any(api_not_found))
        .layer(middleware::from_fn_with_state(state.clone(), gate))
        .layer(DefaultBodyLimit::max(BODY_LIMIT));
    Router::new()
        .merge(api)
        // The providers' way back: no bearer token (a top-level navigation from the provider),
        // limited per address and bound to the browser by its cookie (api/signin.rs).
        .route("/oauth/callback", get(signin::callback))
        .fallback(web::serve)
        .with_state(state)
}

/// An API error: a status, a stable `code` for programs and a sentence for people.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
    retry_after: Option<u64>,
}

impl ApiError {
    /// An error with its status, code and sentence.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
            retry_after: None,
        }
    }

    /// 400: the request itself is wrong (a field missing or malformed).
    pub fn bad(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, code, message)
    }

    /// 422: well formed, but the relay cannot accept it (a refused host, a failed login).
    pub fn unprocessable(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, message)
    }

    /// 404 for something that does not exist or is not the caller's (the two look the same,
    /// so ids of other users' things cannot be probed).
    pub fn not_found(what: &str) -> ApiError {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("There is no such {what}; reload the list"),
        )
    }

    fn unauthorized(message: &str) -> ApiError {
        ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }

    fn too_many(wait: Duration) -> ApiError {
        let secs = wait.as_secs_f64().ceil().max(1.0) as u64;
        ApiError {
            status: StatusCode::TOO_MANY_REQUESTS,
            code: "rate_limited",
            message: format!("Too many requests; wait {secs} s and try again"),
            retry_after: Some(secs),
        }
    }

    /// 500: the relay's own failure, logged in full; the answer says nothing about it.
    pub fn internal(e: anyhow::Error) -> ApiError {
        tracing::error!("API request failed: {e:#}");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "Something went wrong on the relay; try again in a moment, and tell its operator if it keeps happening",
        )
    }
}

impl From<anyhow::Error> for ApiError {
    fn from(e: anyhow::Error) -> ApiError {
        ApiError::internal(e)
    }
}

impl From<tokio_postgres::Error> for ApiError {
    fn from(e: tokio_postgres::Error) -> ApiError {
        ApiError::internal(anyhow::Error::new(e).context("Database request failed"))
    }
}

impl From<deadpool_postgres::PoolError> for ApiError {
    fn from(e: deadpool_postgres::PoolError) -> ApiError {
        ApiError::internal(anyhow::Error::new(e).context("Cannot reach the database"))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({ "error": self.message, "code": self.code });
        let mut resp = (self.status, axum::Json(body)).into_response();
        if let Some(secs) = self.retry_after {
            resp.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        if self.status == StatusCode::UNAUTHORIZED {
            resp.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        resp
    }
}

/// What every handler returns.
pub type ApiResult<T> = Result<T, ApiError>;

/// The signed-in user, put in the request by [`gate`]; a handler that takes it answers 401
/// to anyone without a valid token.
#[derive(Clone, Copy, Debug)]
pub struct Caller(pub i64);

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Caller, ApiError> {
        parts.extensions.get::<Caller>().copied().ok_or_else(|| {
            ApiError::unauthorized(
                "Sign in first: send your relay token as `Authorization: Bearer <token>` (the relay's operator makes one with `pushmail-relay user add NAME`)",
            )
        })
    }
}

/// The language of the person asking, from `Accept-Language` (which the web app's browser
/// sends with the languages the app itself picks from): texts the relay builds from the
/// shared catalogs (discovery's findings, a mail server's refusal) come in it. English when
/// none of the five is asked for. Each catalog is loaded once per process.
#[derive(Clone, Copy)]
pub struct Lang(pub &'static pushmail_core::i18n::I18n);

impl<S: Send + Sync> FromRequestParts<S> for Lang {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Lang, Self::Rejection> {
        let header = parts
            .headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        Ok(Lang(lang_for(header)))
    }
}

/// The catalog for an `Accept-Language` value: the first tag (by `q`, then order) that one of
/// the catalogs serves.
pub fn lang_for(accept: &str) -> &'static pushmail_core::i18n::I18n {
    use pushmail_core::i18n::{I18n, negotiate};
    static LOADED: std::sync::LazyLock<std::sync::Mutex<Vec<&'static I18n>>> =
        std::sync::LazyLock::new(|| std::sync::Mutex::new(Vec::new()));
    let mut tags: Vec<(f32, usize, &str)> = accept
        .split(',')
        .enumerate()
        .filter_map(|(i, part)| {
            let mut pieces = part.split(';');
            let tag = pieces.next()?.trim();
            let q = pieces
                .find_map(|p| p.trim().strip_prefix("q="))
                .and_then(|q| q.parse::<f32>().ok())
                .unwrap_or(1.0);
            // "auto" means the system's language to `negotiate`: the server's, never the asker's.
            (!tag.is_empty()
                && tag != "*"
                && !tag.eq_ignore_ascii_case("auto")
                && q > 0.0
                && tag.len() <= 35)
                .then_some((q, i, tag))
        })
        .take(16)
        .collect();
    tags.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    let chosen = tags
        .iter()
        .map(|(_, _, tag)| negotiate(tag))
        // `negotiate` answers English for a language it lacks: only an English tag means it.
        .zip(tags.iter())
        .find(|(lang, (_, _, tag))| *lang != "en" || tag.to_ascii_lowercase().starts_with("en"))
        .map(|(lang, _)| lang)
        .unwrap_or("en");
    if chosen == "en" {
        return I18n::english();
    }
    let mut loaded = LOADED
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(i) = loaded.iter().find(|i| i.lang() == chosen) {
        return i;
    }
    // At most one leaked catalog per language the product has (five): loaded once, kept for
    // the process's life, like `I18n::english`.
    let i: &'static I18n = Box::leak(Box::new(I18n::new(chosen)));
    loaded.push(i);
    i
}

/// A JSON request body, with errors as sentences. Built on the raw bytes rather than
/// `axum::Json` so that a type error never quotes the value that caused it (it could be a
/// password sent as a number) and no `Content-Type` dance is needed.
pub struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<JsonBody<T>, ApiError> {
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "too_large",
                    format!("The request is larger than the relay accepts ({BODY_LIMIT} bytes)"),
                )
            } else {
                ApiError::bad(
                    "bad_body",
                    "The request body could not be read; send it again",
                )
            }
        })?;
        serde_json::from_slice(&bytes)
            .map(JsonBody)
            .map_err(|e| ApiError::bad("bad_json", json_problem(&e)))
    }
}

/// A sentence for a JSON error that never repeats a value from the body: serde's "invalid
/// type: string \"…\", expected …" would.
fn json_problem(e: &serde_json::Error) -> String {
    use serde_json::error::Category;
    let at = format!("line {}, column {}", e.line(), e.column());
    match e.classify() {
        Category::Syntax | Category::Eof | Category::Io => {
            format!("The request body is not valid JSON ({at}); send a JSON object")
        }
        Category::Data => {
            let text = e.to_string();
            let quotes_value = text.starts_with("invalid") || text.starts_with("unknown variant");
            if let Some(i) = text.find("expected").filter(|_| quotes_value) {
                // "invalid type: … , expected a string at line 1 column 5" → the expectation.
                let expected = text[i..].split(" at line ").next().unwrap_or("");
                format!("A field of the request has the wrong type or value ({at}): {expected}")
            } else {
                // Missing or unknown field: serde names the field, never a value.
                let what = text.split(" at line ").next().unwrap_or("");
                format!("The request is not what this endpoint takes: {what}")
            }
        }
    }
}

/// Rate limit and authentication for every `/api/` request, then headers that keep the answer
/// out of caches.
async fn gate(State(st): State<Arc<ApiState>>, mut req: Request, next: Next) -> Response {
    let ip = client(&st, req.extensions(), req.headers());
    match bearer(req.headers()) {
        Bearer::Missing => {
            if let Err(wait) = st.limiter.take(&format!("ip:{ip}")) {
                return ApiError::too_many(wait).into_response();
            }
        }
        Bearer::Malformed => {
            if let Err(wait) = st.limiter.take(&format!("fail:{ip}")) {
                return ApiError::too_many(wait).into_response();
            }
            return ApiError::unauthorized("The Authorization header must be `Bearer <token>`")
                .into_response();
        }
        Bearer::Token(token) => {
            // A valid token always gets through (limited per token): behind a reverse proxy
            // every client shares one address, and one client retrying a revoked token must
            // not lock everyone out. Only failures count against the address (tokens carry
            // 256 bits: guessing is not the risk, load is, and a lookup by hash is cheap).
            match crate::users::authenticate(&st.db, &token).await {
                Ok(Some(user)) => {
                    let hash = crate::users::token_hash(&token);
                    let key = format!("tok:{}", hex(&hash[..16]));
                    if let Err(wait) = st.limiter.take(&key) {
                        return ApiError::too_many(wait).into_response();
                    }
                    req.extensions_mut().insert(Caller(user));
                }
                Ok(None) => {
                    if let Err(wait) = st.limiter.take(&format!("fail:{ip}")) {
                        return ApiError::too_many(wait).into_response();
                    }
                    return ApiError::unauthorized(
                        "This token is not valid (mistyped, or revoked); ask the relay's operator for a new one",
                    )
                    .into_response();
                }
                Err(e) => return ApiError::internal(e).into_response(),
            }
        }
    }
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    // Answers carry the user's own data: no cache (shared or not) keeps them.
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    resp
}

/// The rate-limit key of the client of a request: its peer's address, or — when the peer is
/// one of the operator's `trusted_proxies` — the last address of `X-Forwarded-For` that is not
/// itself a trusted proxy (the ones before it are whatever the client chose to send).
pub(crate) fn client(
    st: &ApiState,
    extensions: &axum::http::Extensions,
    headers: &HeaderMap,
) -> String {
    let Some(peer) = extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
    else {
        return "unknown".to_owned();
    };
    client_key(forwarded_client(peer, headers, &st.trusted))
}

/// [`client`]'s address.
fn forwarded_client(peer: IpAddr, headers: &HeaderMap, trusted: &[guard::Cidr]) -> IpAddr {
    if !trusted.iter().any(|c| c.contains(peer)) {
        return peer;
    }
    let hops: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    let mut client = peer;
    for hop in hops.iter().rev() {
        let Ok(ip) = hop.parse::<IpAddr>() else {
            // Not an address: nothing left of it can be believed.
            break;
        };
        client = ip;
        if !trusted.iter().any(|c| c.contains(ip)) {
            break;
        }
    }
    client
}

/// The rate-limit key of a client address: IPv6 clients usually hold a whole /64, so they
/// count as one.
fn client_key(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
    }
}

enum Bearer {
    Missing,
    Malformed,
    Token(String),
}

fn bearer(headers: &HeaderMap) -> Bearer {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Bearer::Missing;
    };
    let Ok(text) = value.to_str() else {
        return Bearer::Malformed;
    };
    match text.split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => {
            Bearer::Token(token.trim().to_owned())
        }
        _ => Bearer::Malformed,
    }
}

fn hex(bytes: &[u8]) -> String {
    crate::crypto::hex(bytes)
}

/// `GET /api/vapid`: the key browsers subscribe with (no sign-in needed: it is public).
async fn vapid(State(st): State<Arc<ApiState>>) -> axum::Json<serde_json::Value> {
    axum::Json(serde_json::json!({ "public_key": st.vapid_public_key }))
}

/// `GET /api/me`: who the token belongs to, and how much they have set up.
async fn me(
    State(st): State<Arc<ApiState>>,
    Caller(user): Caller,
) -> ApiResult<axum::Json<serde_json::Value>> {
    let client = st.db.get().await?;
    let row = client
        .query_opt(
            "SELECT name,
                    (SELECT count(*) FROM account WHERE user_id = u.id),
                    (SELECT count(*) FROM device WHERE user_id = u.id),
                    (SELECT count(*) FROM webhook WHERE user_id = u.id)
             FROM relay_user u WHERE id = $1",
            &[&user],
        )
        .await?
        .ok_or_else(|| ApiError::unauthorized("This token's user no longer exists"))?;
    Ok(axum::Json(serde_json::json!({
        "id": user,
        "name": row.get::<_, String>(0),
        "accounts": row.get::<_, i64>(1),
        "devices": row.get::<_, i64>(2),
        "webhooks": row.get::<_, i64>(3),
    })))
}

async fn api_not_found() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "not_found",
        "There is no such API endpoint; the web app and the relay may be of different versions",
    )
}

/// Sends `NOTIFY channel, payload` inside `tx`: delivered when (and only if) it commits.
async fn notify(
    tx: &deadpool_postgres::Transaction<'_>,
    channel: &str,
    payload: &str,
) -> Result<(), tokio_postgres::Error> {
    tx.execute("SELECT pg_notify($1, $2)", &[&channel, &payload])
        .await
        .map(|_| ())
}

/// A text field: trimmed, not empty, at most `max` characters, no control characters.
fn text_field(field: &str, value: &str, max: usize) -> ApiResult<String> {
    let v = value.trim();
    if v.is_empty() {
        return Err(ApiError::bad(
            "missing_field",
            format!("Fill in the {field}"),
        ));
    }
    if v.chars().count() > max {
        return Err(ApiError::bad(
            "bad_field",
            format!("The {field} is too long (at most {max} characters)"),
        ));
    }
    if v.chars().any(char::is_control) {
        return Err(ApiError::bad(
            "bad_field",
            format!("The {field} cannot contain control characters"),
        ));
    }
    Ok(v.to_owned())
}

/// How much of a mail a notice shows: `none` ("new mail in Work"), `sender`, `subject`
/// (sender and subject).
fn detail_field(value: &str) -> ApiResult<&'static str> {
    match value {
        "none" => Ok("none"),
        "sender" => Ok("sender"),
        "subject" => Ok("subject"),
        _ => Err(ApiError::bad(
            "bad_detail",
            "detail must be \"none\", \"sender\" or \"subject\"",
        )),
    }
}

/// A URL a user gave (push endpoint, webhook) that the relay will call: https (or plain http
/// only to an allowed private range, which the guard decides), not to a private address.
async fn check_user_url(url: &str, allow: &[guard::Cidr], what: &str) -> ApiResult<()> {
    if url.len() > 2048 {
        return Err(ApiError::bad(
            "bad_url",
            format!("The {what} is too long (at most 2048 characters)"),
        ));
    }
    guard::check_url(url, allow).await.map_err(|e| {
        ApiError::unprocessable(
            "url_refused",
            format!(
                "The relay will not call this {what}: {e:#}. Use a public https address, or ask the relay's operator to allow the range"
            ),
        )
    })?;
    Ok(())
}

/// Refuses (422 `limit`) when `count` already reached `max` of `what` (the config's
/// `max_*_per_user`: one new mail fans out to one delivery per device and webhook inside the
/// announcement's transaction, and a user with thousands would slow every account of their
/// bucket and make the relay a request amplifier against any host they name).
pub(crate) fn within_limit(count: i64, max: u32, what: &str) -> ApiResult<()> {
    if count >= i64::from(max) {
        return Err(ApiError::unprocessable(
            "limit",
            format!(
                "You already have {count} {what}, the most this relay keeps per user; remove one first"
            ),
        ));
    }
    Ok(())
}

/// Deletes the caller's device or webhook `id` (`table`: `device` or `webhook`, whose outbox
/// rows have `kind` `webpush` or `webhook`) and the deliveries still queued for it; 404 when it
/// is not theirs. Queued rows a sender holds right now are left to it: it finds the target gone
/// and drops them (waiting for them could deadlock with a sender removing the same target).
pub(crate) async fn remove_target(
    st: &ApiState,
    user: i64,
    id: i64,
    table: &'static str,
    kind: &'static str,
) -> ApiResult<StatusCode> {
    let mut client = st.db.get().await?;
    let tx = client.transaction().await?;
    let n = tx
        .execute(
            &format!("DELETE FROM {table} WHERE id = $1 AND user_id = $2"),
            &[&id, &user],
        )
        .await?;
    if n == 0 {
        return Err(ApiError::not_found(table));
    }
    tx.execute(
        "DELETE FROM outbox WHERE id IN (SELECT id FROM outbox
           WHERE kind = $1 AND target = $2 FOR UPDATE SKIP LOCKED)",
        &[&kind, &id],
    )
    .await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {

    #[test]
    fn the_client_behind_a_trusted_proxy_is_the_last_untrusted_hop() {
        let trusted = [
            guard::Cidr::parse("127.0.0.1/32").unwrap(),
            guard::Cidr::parse("10.0.0.0/8").unwrap(),
        ];
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        let with = |xff: &[&str]| {
            let mut h = HeaderMap::new();
            for v in xff {
                h.append("x-forwarded-for", HeaderValue::from_str(v).unwrap());
            }
            h
        };
        // A trusted proxy: the last hop it did not add itself.
        assert_eq!(
            forwarded_client(ip("127.0.0.1"), &with(&["203.0.113.9"]), &trusted),
            ip("203.0.113.9")
        );
        // Whatever the client put first is not believed; a second trusted hop is skipped.
        assert_eq!(
            forwarded_client(
                ip("127.0.0.1"),
                &with(&["1.2.3.4, 198.51.100.7", "10.1.1.1"]),
                &trusted
            ),
            ip("198.51.100.7")
        );
        // Garbage stops the walk at the last address believed.
        assert_eq!(
            forwarded_client(ip("127.0.0.1"), &with(&["1.2.3.4, junk"]), &trusted),
            ip("127.0.0.1")
        );
        // No header: the proxy itself.
        assert_eq!(
            forwarded_client(ip("127.0.0.1"), &HeaderMap::new(), &trusted),
            ip("127.0.0.1")
        );
        // An untrusted peer's header is ignored.
        assert_eq!(
            forwarded_client(ip("192.0.2.1"), &with(&["203.0.113.9"]), &trusted),
            ip("192.0.2.1")
        );
        assert_eq!(
            forwarded_client(ip("127.0.0.1"), &with(&["203.0.113.9"]), &[]),
            ip("127.0.0.1")
        );
    }

    #[test]
    fn the_language_is_the_first_the_catalogs_serve() {
        let lang = |h: &str| lang_for(h).lang().to_owned();
        assert_eq!(lang("it-IT,it;q=0.9,en;q=0.8"), "it");
        assert_eq!(lang("de-DE,de;q=0.9,ar;q=0.5"), "ar");
        assert_eq!(lang("de-DE,de;q=0.9"), "en");
        assert_eq!(lang("en-US,it;q=0.5"), "en");
        assert_eq!(lang("it;q=0.2,zh-HK;q=0.8"), "zh-TW");
        assert_eq!(lang("it;q=0"), "en");
        assert_eq!(lang(""), "en");
        assert_eq!(lang("*"), "en");
        assert_eq!(lang("auto"), "en");
        // Loaded once: the same catalog every time.
        assert!(std::ptr::eq(lang_for("ar"), lang_for("ar-EG")));
    }
    use super::*;

    #[derive(serde::Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Login {
        user: String,
        password: String,
    }

    #[test]
    fn json_errors_never_repeat_a_value() {
        let e = serde_json::from_slice::<Login>(br#"{"user":"a","password":123456789}"#)
            .err()
            .unwrap();
        let s = json_problem(&e);
        assert!(!s.contains("123456789"), "{s}");
        assert!(s.contains("expected a string"), "{s}");
        let e = serde_json::from_slice::<Login>(br#"{"user":"a"}"#)
            .err()
            .unwrap();
        assert!(json_problem(&e).contains("missing field `password`"));
        let e = serde_json::from_slice::<Login>(br#"{"user":"a","password":"b","x":1}"#)
            .err()
            .unwrap();
        assert!(
            json_problem(&e).contains("unknown field `x`"),
            "{}",
            json_problem(&e)
        );
        let e = serde_json::from_slice::<Login>(b"{nope").err().unwrap();
        assert!(json_problem(&e).contains("not valid JSON"));
    }

    #[test]
    fn bearer_tokens_are_read_from_the_header() {
        let mut h = HeaderMap::new();
        assert!(matches!(bearer(&h), Bearer::Missing));
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Basic eDp5"),
        );
        assert!(matches!(bearer(&h), Bearer::Malformed));
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("bearer abc"),
        );
        assert!(matches!(bearer(&h), Bearer::Token(t) if t == "abc"));
    }

    #[test]
    fn ipv6_clients_count_per_64() {
        let a: IpAddr = "2001:db8:1:2::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:ffff::9".parse().unwrap();
        assert_eq!(client_key(a), client_key(b));
        let v4: IpAddr = "::ffff:192.0.2.1".parse().unwrap();
        assert_eq!(client_key(v4), "192.0.2.1");
    }
}
