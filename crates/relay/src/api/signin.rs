//! Sign-in (OAuth2) for mailboxes whose provider takes no password: `GET /api/signin/providers`,
//! `POST /api/signin` and the provider's way back, `GET /oauth/callback`.
//!
//! The relay is a web application client of each provider the operator configured
//! (`[signin.<id>]`): the authorization-code flow with PKCE, `state` and RFC 9207's `iss`
//! check (the same pure code as the desktop, `pushmail_core::oauth::authorization`), its
//! redirect URI `<public_url>/oauth/callback`.
//!
//! - **Any process may get the browser back.** What the callback needs (the `state`, the PKCE
//!   verifier, the mailbox's fields) is kept in `signin_pending`, found by the SHA-256 of the
//!   `state`, the secrets sealed with the master key, deleted when read (used once), and
//!   refused after `signin_timeout`.
//! - **Bound to the browser that started it.** `POST /api/signin` sets an HttpOnly,
//!   SameSite=Lax cookie holding a random value whose hash the pending sign-in keeps; the
//!   callback refuses a browser without it before any token request. Without this, anyone
//!   could start a sign-in under their own relay account and have someone else complete it at
//!   the provider, attaching the victim's mailbox to the attacker's notices.
//! - **Tested before it is kept.** After the code exchange the relay logs in to the mail
//!   server with the new access token, as the watcher will; only then is the refresh token
//!   sealed and stored and the watchers told. A failed login keeps nothing (and a mailbox
//!   signed in again keeps its old grant).
//! - **Signing in again** to a mailbox (its grant was revoked or expired: state
//!   `signin_required`) replaces the sealed refresh token and raises `secret_version`, which
//!   restarts its watcher in whichever process has it.
//!
//! The browser goes back to the web app with `/?signin=done&account=<id>` or
//! `/?signin=failed&code=<code>[&reason=<code>]`: codes only, never words (anyone can link to
//! the app with any query), and nothing secret in those URLs or in a log.

use std::sync::Arc;

use axum::Json;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use pushmail_core::config::{Account, PasswordSource, Security};
use pushmail_core::oauth::{self, OAuthError, PendingAuthorization, RedirectProblem, TokenClient};
use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};

use super::accounts::{self, FieldsIn};
use super::{ApiError, ApiResult, ApiState, Caller, JsonBody, hex, notify};
use crate::host::Fields;

/// The most sign-ins one user may have waiting for the browser's return at once.
const MAX_PENDING_PER_USER: i64 = 10;

/// `GET /api/signin/providers`: the providers users may sign in with here.
pub async fn providers(
    State(st): State<Arc<ApiState>>,
    Caller(_): Caller,
) -> Json<serde_json::Value> {
    let list: Vec<_> = if st.config.signin_redirect_uri().is_some() {
        st.config
            .signin
            .iter()
            .map(|(id, c)| json!({ "id": id, "name": c.display_name(id) }))
            .collect()
    } else {
        Vec::new()
    };
    Json(json!({ "providers": list }))
}

/// `POST /api/signin` body: a new mailbox's fields and `provider`, or only `account` to sign
/// in again to an existing one.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Start {
    #[serde(default)]
    account: Option<String>,
    #[serde(default)]
    provider: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    host: Option<String>,
    #[serde(default)]
    port: Option<i64>,
    #[serde(default)]
    security: Option<String>,
    #[serde(default)]
    username: Option<String>,
}

/// A mailbox's fields as the pending sign-in keeps them (no secret).
#[derive(Serialize, Deserialize)]
struct Kept {
    id: String,
    name: String,
    email: String,
    host: String,
    port: u16,
    starttls: bool,
    username: String,
    provider: String,
}

impl Kept {
    fn fields(&self) -> Fields {
        Fields {
            id: self.id.clone(),
            name: self.name.clone(),
            email: self.email.clone(),
            host: self.host.clone(),
            port: self.port,
            security: if self.starttls {
                Security::Starttls
            } else {
                Security::Tls
            },
            username: self.username.clone(),
            signin: Some(self.provider.clone()),
        }
    }
}

/// The `state` and PKCE verifier, sealed in `signin_pending.sealed`.
#[derive(Serialize, Deserialize)]
struct Secrets {
    state: String,
    verifier: String,
}

/// `POST /api/signin`: answers the provider's authorization URL for the web app to open, and
/// binds the sign-in to this browser with a cookie.
pub async fn start(
    State(st): State<Arc<ApiState>>,
    Caller(user): Caller,
    headers: HeaderMap,
    JsonBody(req): JsonBody<Start>,
) -> ApiResult<Response> {
    let Some(redirect_uri) = st.config.signin_redirect_uri() else {
        return Err(unavailable());
    };
    if st.config.signin.is_empty() {
        return Err(unavailable());
    }
    // The cookie binds the sign-in to the browser, and a cookie belongs to the host the app was
    // opened at: opened under another name, the browser would come back to `public_url`
    // without it, and only after the user had consented. Say so now instead.
    if let Some(origin) = headers.get(header::ORIGIN).and_then(|o| o.to_str().ok())
        && let Some(public) = st.config.public_url.as_deref()
        && let Ok(public) = url::Url::parse(public)
        && origin != public.origin().ascii_serialization()
    {
        return Err(ApiError::bad(
            "wrong_origin",
            format!(
                "Sign-in works only from the relay's own address: open {} and sign in there",
                public.origin().ascii_serialization()
            ),
        ));
    }
    let kept = match &req.account {
        Some(id) => again(&st, user, id).await?,
        None => {
            let provider = req.provider.clone().unwrap_or_default();
            if !st.config.signin.contains_key(&provider) {
                return Err(ApiError::bad(
                    "unknown_provider",
                    "This relay offers no sign-in with that provider; give a password instead, or ask the relay's operator",
                ));
            }
            let missing = || ApiError::bad("missing_field", "Fill in every field of the mailbox");
            let given = FieldsIn {
                name: req.name.clone().ok_or_else(missing)?,
                email: req.email.clone().unwrap_or_default(),
                host: req.host.clone().ok_or_else(missing)?,
                port: req.port.ok_or_else(missing)?,
                security: req.security.clone().ok_or_else(missing)?,
                username: req.username.clone().ok_or_else(missing)?,
            };
            let f = accounts::check_new(&st, user, &given, Some(provider.clone())).await?;
            Kept {
                id: f.id,
                name: f.name,
                email: f.email,
                host: f.host,
                port: f.port,
                starttls: f.security == Security::Starttls,
                username: f.username,
                provider,
            }
        }
    };
    let (account, settings) = signin_account(&st, &kept.fields())?;
    let provider = oauth::account::provider(&account, &settings)
        .map_err(|e| ApiError::internal(anyhow::anyhow!("signin.{}: {e}", kept.provider)))?;
    let options = oauth::account::authorization_options(&account, &settings, &provider);
    let request = oauth::authorization::request(&provider, &redirect_uri, &options)
        .map_err(|e| ApiError::internal(anyhow::anyhow!("signin.{}: {e}", kept.provider)))?;
    let (state, verifier) = request.pending.secrets();
    let state_hash: [u8; 32] = Sha256::digest(state.expose_secret().as_bytes()).into();
    // The browser's value again (two sign-ins in two tabs), but only one this relay gave this
    // user for a sign-in still waiting: a value planted in someone's browser (another service
    // on the same host name, which shares its cookies) is never adopted.
    let presented = cookie(&headers, cookie_name(&redirect_uri))
        .filter(|v| v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit()));
    let mut browser = None;
    if let Some(v) = presented {
        let h: [u8; 32] = Sha256::digest(v.as_bytes()).into();
        let known = st
            .db
            .get()
            .await?
            .query_opt(
                "SELECT 1 FROM signin_pending
                 WHERE browser_hash = $1 AND user_id = $2 AND expires_at > now() LIMIT 1",
                &[&h.as_slice(), &user],
            )
            .await?
            .is_some();
        if known {
            browser = Some(v);
        }
    }
    let browser = browser.unwrap_or_else(|| {
        let mut raw = [0u8; 32];
        rand::rng().fill_bytes(&mut raw);
        hex(&raw)
    });
    let browser_hash: [u8; 32] = Sha256::digest(browser.as_bytes()).into();
    let secrets = serde_json::to_vec(&Secrets {
        state: state.expose_secret().to_owned(),
        verifier: verifier.expose_secret().to_owned(),
    })
    .map_err(anyhow::Error::from)?;
    let sealed = st
        .master
        .seal(&format!("signin:{}", hex(&state_hash)), &secrets)?;
    let fields = serde_json::to_string(&kept).map_err(anyhow::Error::from)?;
    let timeout = st.config.signin_timeout.as_secs_f64();

    let mut client = st.db.get().await?;
    let tx = client.transaction().await?;
    tx.execute("DELETE FROM signin_pending WHERE expires_at < now()", &[])
        .await?;
    let waiting: i64 = tx
        .query_one(
            "SELECT count(*) FROM signin_pending WHERE user_id = $1",
            &[&user],
        )
        .await?
        .get(0);
    if waiting >= MAX_PENDING_PER_USER {
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "limit",
            "Too many sign-ins are waiting for the provider; finish one, or wait a few minutes",
        ));
    }
    tx.execute(
        "INSERT INTO signin_pending
           (state_hash, user_id, browser_hash, provider, account, fields, sealed, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, now() + make_interval(secs => $8))",
        &[
            &state_hash.as_slice(),
            &user,
            &browser_hash.as_slice(),
            &kept.provider,
            &req.account,
            &fields,
            &sealed,
            &timeout,
        ],
    )
    .await?;
    tx.commit().await?;
    tracing::info!(user, provider = %kept.provider, again = req.account.is_some(), "sign-in started");

    let mut resp = Json(json!({ "url": request.url.as_str() })).into_response();
    let secure = redirect_uri.starts_with("https://");
    let set = format!(
        "{}={browser}; Path=/; Max-Age={}; HttpOnly; SameSite=Lax{}",
        cookie_name(&redirect_uri),
        st.config.signin_timeout.as_secs().max(60),
        if secure { "; Secure" } else { "" }
    );
    resp.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_str(&set).map_err(anyhow::Error::from)?,
    );
    Ok(resp)
}

/// The fields of `user`'s sign-in mailbox `id`, to sign in to it again.
async fn again(st: &ApiState, user: i64, id: &str) -> ApiResult<Kept> {
    let row = st
        .db
        .get()
        .await?
        .query_opt(
            "SELECT name, email, host, port, security, username, auth, signin_provider
             FROM account WHERE id = $1 AND user_id = $2",
            &[&id, &user],
        )
        .await?
        .ok_or_else(|| ApiError::not_found("mailbox"))?;
    if row.get::<_, &str>(6) != "oauth2" {
        return Err(ApiError::bad(
            "not_signin",
            "This mailbox logs in with a password; remove it and add it again to sign in instead",
        ));
    }
    let provider: String = row.get(7);
    if !st.config.signin.contains_key(&provider) {
        return Err(ApiError::bad(
            "unknown_provider",
            "This relay no longer offers sign-in with this mailbox's provider; ask the relay's operator",
        ));
    }
    Ok(Kept {
        id: id.to_owned(),
        name: row.get(0),
        email: row.get(1),
        host: row.get(2),
        port: u16::try_from(row.get::<_, i32>(3)).unwrap_or(993),
        starttls: row.get::<_, &str>(4) == "starttls",
        username: row.get(5),
        provider,
    })
}

/// The account as the watchers will use it, and its sign-in settings.
fn signin_account(
    st: &ApiState,
    f: &Fields,
) -> ApiResult<(Account, pushmail_core::config::OAuthSettings)> {
    let timing = crate::host::timing(&st.config)?;
    let account = crate::host::account(&st.config, &timing, f.clone());
    let PasswordSource::OAuth2(settings) = &account.password else {
        return Err(ApiError::internal(anyhow::anyhow!(
            "a sign-in mailbox without sign-in settings"
        )));
    };
    let settings = (**settings).clone();
    Ok((account, settings))
}

fn unavailable() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "signin_unavailable",
        "This relay offers no sign-in; give the mailbox's password instead",
    )
}

/// The cookie's name: with `__Host-` where the relay is on HTTPS (the browser then accepts it
/// only if Secure, for the whole host, from that host), a plain one on a loopback lab.
fn cookie_name(redirect_uri: &str) -> &'static str {
    if redirect_uri.starts_with("https://") {
        "__Host-pushmail-signin"
    } else {
        "pushmail-signin"
    }
}

/// The value of cookie `name` in the request, if sent once.
fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    let mut found = None;
    for value in headers.get_all(header::COOKIE) {
        let Ok(text) = value.to_str() else { continue };
        for pair in text.split(';') {
            if let Some((k, v)) = pair.trim().split_once('=')
                && k == name
            {
                if found.is_some() {
                    return None;
                }
                found = Some(v.to_owned());
            }
        }
    }
    found
}

/// How a sign-in ended, for the web app (`/?signin=…`): codes only, never words. Anyone can
/// make a link to the app with any query, so nothing in it may read as the relay speaking; and
/// the provider's or server's words could echo what was sent.
enum Outcome {
    Done(String),
    /// The code, and for `login_failed` the login test's code (`auth_failed`, `unreachable`,
    /// `tls_failed`, `connect_failed`).
    Failed(&'static str, Option<&'static str>),
}

impl IntoResponse for Outcome {
    fn into_response(self) -> Response {
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        match &self {
            Outcome::Done(id) => {
                q.append_pair("signin", "done").append_pair("account", id);
            }
            Outcome::Failed(code, detail) => {
                q.append_pair("signin", "failed").append_pair("code", code);
                if let Some(r) = detail {
                    q.append_pair("reason", r);
                }
            }
        }
        let location = format!("/?{}", q.finish());
        let mut resp = StatusCode::SEE_OTHER.into_response();
        let h = resp.headers_mut();
        if let Ok(v) = HeaderValue::from_str(&location) {
            h.insert(header::LOCATION, v);
        }
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        // The request's URL held the authorization code: no Referer carries it anywhere.
        h.insert(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        );
        resp
    }
}

/// `GET /oauth/callback`: the provider's answer, in the browser that started the sign-in.
pub async fn callback(
    State(st): State<Arc<ApiState>>,
    extensions: axum::http::Extensions,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let ip = super::client(&st, &extensions, &headers);
    // A budget of its own: anonymous API requests from the same address (every user behind a
    // reverse proxy) must not use up the way back from the provider.
    if let Err(wait) = st.limiter.take(&format!("callback:{ip}")) {
        return ApiError::too_many(wait).into_response();
    }
    // On a task of its own: a browser that goes away does not cut the work short between the
    // token exchange and storing the grant.
    let work = tokio::spawn(async move { finish(&st, &headers, query.as_deref()).await });
    match work.await {
        Ok(Ok(outcome)) => outcome.into_response(),
        Ok(Err(e)) => {
            // Logged in full by ApiError::internal; the browser gets the generic code.
            tracing::info!(code = e.code, "sign-in did not finish");
            Outcome::Failed("failed", None).into_response()
        }
        Err(_) => Outcome::Failed("failed", None).into_response(),
    }
}

/// The callback's work: the pending sign-in, the browser, the answer, the tokens, the test.
async fn finish(st: &ApiState, headers: &HeaderMap, query: Option<&str>) -> ApiResult<Outcome> {
    let Some(redirect_uri) = st.config.signin_redirect_uri() else {
        return Ok(Outcome::Failed("failed", None));
    };
    let state = query.and_then(|q| {
        url::form_urlencoded::parse(q.as_bytes())
            .find(|(k, _)| k == "state")
            .map(|(_, v)| v.into_owned())
    });
    let Some(state) = state else {
        return Ok(Outcome::Failed("failed", None));
    };
    let state_hash: [u8; 32] = Sha256::digest(state.as_bytes()).into();
    // Used once: deleted as it is read, whatever happens next.
    let row = st
        .db
        .get()
        .await?
        .query_opt(
            "DELETE FROM signin_pending WHERE state_hash = $1
             RETURNING user_id, browser_hash, provider, account, fields, sealed,
                       expires_at > now()",
            &[&state_hash.as_slice()],
        )
        .await?;
    let Some(row) = row else {
        return Ok(Outcome::Failed("expired", None));
    };
    if !row.get::<_, bool>(6) {
        return Ok(Outcome::Failed("expired", None));
    }
    let user: i64 = row.get(0);
    let browser_hash: Vec<u8> = row.get(1);
    let again: Option<String> = row.get(3);
    let fields: String = row.get(4);
    let sealed: Vec<u8> = row.get(5);
    let same_browser = cookie(headers, cookie_name(&redirect_uri)).is_some_and(|v| {
        let h: [u8; 32] = Sha256::digest(v.as_bytes()).into();
        h.len() == browser_hash.len()
            && h.iter()
                .zip(&browser_hash)
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0
    });
    if !same_browser {
        tracing::warn!(
            user,
            "a sign-in came back in another browser than the one that started it; refused"
        );
        return Ok(Outcome::Failed("wrong_browser", None));
    }
    let kept: Kept = serde_json::from_str(&fields).map_err(anyhow::Error::from)?;
    let secrets: Secrets = serde_json::from_slice(
        &st.master
            .open(&format!("signin:{}", hex(&state_hash)), &sealed)?,
    )
    .map_err(anyhow::Error::from)?;
    let f = kept.fields();
    let (account, settings) = signin_account(st, &f)?;
    let Ok(provider) = oauth::account::provider(&account, &settings) else {
        return Ok(Outcome::Failed("failed", None));
    };
    let pending = PendingAuthorization::resume(
        &provider,
        &redirect_uri,
        SecretString::from(secrets.state),
        SecretString::from(secrets.verifier),
    );
    let code = match oauth::authorization::check_redirect(&pending, query) {
        Ok(code) => code,
        Err(e) => return Ok(refused(&kept.provider, &e)),
    };
    let http = match oauth::account::http_client(&account) {
        Ok(h) => h,
        Err(e) => return Err(ApiError::internal(anyhow::anyhow!("{e}"))),
    };
    let tokens = match TokenClient::new(http)
        .exchange_code(&provider, &pending, code)
        .await
    {
        Ok(t) => t,
        Err(e) => return Ok(refused(&kept.provider, &e)),
    };
    let Some(refresh) = tokens.refresh.clone() else {
        return Ok(Outcome::Failed("no_refresh_token", None));
    };

    // Tested before anything is kept: the new grant's access token, one login as the watcher
    // will make. A failure leaves everything as it was (a mailbox signed in again keeps its
    // old grant).
    if let Err(e) = accounts::login_test(
        &account,
        accounts::Credential::Token(&tokens.access, &provider),
        st,
        // Only the error's code goes back to the app, which words it itself.
        pushmail_core::i18n::I18n::english(),
    )
    .await
    {
        tracing::info!(account = %f.id, provider = %kept.provider, code = e.code, "signed in, but the login test failed");
        return Ok(Outcome::Failed("login_failed", Some(e.code)));
    }
    let bucket = accounts::bucket_of(&f.id, st.config.buckets);
    match &again {
        None => {
            accounts::insert(st, user, &f, &refresh, true).await?;
        }
        Some(id) => {
            // Under the grant's refresh lock: a watcher refreshing the old grant right now
            // must not store its rotated token over the new one.
            let _held = match pushmail_core::secret::vault() {
                Some(v) => Some(v.lock_refresh(id).await.map_err(|e| {
                    ApiError::internal(anyhow::anyhow!("cannot lock the sign-in: {e}"))
                })?),
                None => None,
            };
            let (sealed_key, sealed_secret) =
                crate::crypto::seal_account_secret(&st.master, id, &refresh)?;
            let mut client = st.db.get().await?;
            let tx = client.transaction().await?;
            let n = tx
                .execute(
                    "UPDATE account SET sealed_key = $3, sealed_secret = $4,
                            secret_version = secret_version + 1,
                            state = 'starting', state_detail = ''
                     WHERE id = $1 AND user_id = $2 AND auth = 'oauth2'",
                    &[id, &user, &sealed_key, &sealed_secret],
                )
                .await?;
            if n == 0 {
                return Ok(Outcome::Failed("failed", None));
            }
            notify(&tx, "accounts", &bucket.to_string()).await?;
            tx.commit().await?;
            // Every process's tokens for the mailbox (the watcher's) find the new grant in the
            // database at their next refresh or, waiting for a sign-in, at once; the raised
            // version restarts the watcher.
        }
    }
    tracing::info!(account = %f.id, user, provider = %kept.provider, again = again.is_some(), "signed in");
    Ok(Outcome::Done(f.id))
}

/// A refused answer or token request, as the web app's code (the provider's words are logged,
/// not passed on).
fn refused(provider: &str, e: &OAuthError) -> Outcome {
    tracing::info!(%provider, kind = e.kind(), "sign-in refused: {e}");
    match e {
        OAuthError::Redirect {
            problem: RedirectProblem::AccessDenied,
            ..
        } => Outcome::Failed("denied", None),
        OAuthError::Redirect {
            problem: RedirectProblem::ProviderError { .. },
            ..
        } => Outcome::Failed("provider", None),
        OAuthError::Redirect { .. } => Outcome::Failed("failed", None),
        _ => Outcome::Failed("provider", None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append(header::COOKIE, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn the_browser_cookie_is_read_only_when_sent_once() {
        let name = "pushmail-signin";
        assert_eq!(
            cookie(&headers(&["a=1; pushmail-signin=abc; b=2"]), name).as_deref(),
            Some("abc")
        );
        assert_eq!(
            cookie(&headers(&["a=1", "pushmail-signin=abc"]), name).as_deref(),
            Some("abc")
        );
        // Twice (one planted by a sibling domain, say): which one would be believed? Neither.
        assert_eq!(
            cookie(
                &headers(&["pushmail-signin=abc; pushmail-signin=def"]),
                name
            ),
            None
        );
        assert_eq!(cookie(&headers(&["xpushmail-signin=abc"]), name), None);
        assert_eq!(cookie(&HeaderMap::new(), name), None);
        assert_eq!(
            cookie_name("https://relay.example.com/oauth/callback"),
            "__Host-pushmail-signin"
        );
        assert_eq!(cookie_name("http://127.0.0.1:1/oauth/callback"), name);
    }

    #[test]
    fn the_way_back_to_the_app_carries_codes_only() {
        let resp = Outcome::Failed("login_failed", Some("auth_failed")).into_response();
        assert_eq!(resp.status(), StatusCode::SEE_OTHER);
        let location = resp.headers()[header::LOCATION].to_str().unwrap();
        assert_eq!(
            location,
            "/?signin=failed&code=login_failed&reason=auth_failed"
        );
        assert_eq!(resp.headers()[header::REFERRER_POLICY], "no-referrer");
        let resp = Outcome::Done("0123456789abcdef".into()).into_response();
        assert_eq!(
            resp.headers()[header::LOCATION],
            "/?signin=done&account=0123456789abcdef"
        );
    }
}
