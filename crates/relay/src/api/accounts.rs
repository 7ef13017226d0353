//! `/api/accounts`: the mailboxes a user has the relay watch.
//!
//! Adding one logs in for real first (pushmail-core's own connection and login, as the
//! desktop's settings window tests an account), so a wrong password is said at once instead
//! of turning up later as a watcher stuck in `auth_failed`. Only then is the password sealed
//! and stored, and the watchers told (`NOTIFY accounts, '<bucket>'`).

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use pushmail_core::config::{Account, Security};
use pushmail_core::i18n::I18n;
use pushmail_core::{ConnectError, imap};
use rand::RngCore;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};

use super::{ApiError, ApiResult, ApiState, Caller, JsonBody, notify, text_field};
use crate::guard;

/// The whole login test (connect, TLS, login) may take this long; the core's own connect and
/// command timeouts apply within it. Long enough for a slow server, short enough that the
/// web app's request does not hang.
const TEST_TIMEOUT: Duration = Duration::from_secs(45);

/// How long to wait for the server's answer to LOGOUT after the test: it is a courtesy.
const LOGOUT_TIMEOUT: Duration = Duration::from_secs(5);

/// How long a host name may take to resolve.
const RESOLVE_TIMEOUT: Duration = Duration::from_secs(10);

/// An account as the API shows it: never its secret.
#[derive(Serialize)]
pub struct AccountOut {
    id: String,
    name: String,
    email: String,
    host: String,
    port: i32,
    security: String,
    username: String,
    state: String,
    state_detail: String,
    /// `password` or `oauth2` (signs in at `provider`).
    auth: String,
    provider: String,
}

pub(super) const COLUMNS: &str =
    "id, name, email, host, port, security, username, state, state_detail, auth, signin_provider";

pub(super) fn from_row(r: &tokio_postgres::Row) -> AccountOut {
    AccountOut {
        id: r.get(0),
        name: r.get(1),
        email: r.get(2),
        host: r.get(3),
        port: r.get(4),
        security: r.get(5),
        username: r.get(6),
        state: r.get(7),
        state_detail: r.get(8),
        auth: r.get(9),
        provider: r.get(10),
    }
}

/// `GET /api/accounts`: the caller's accounts, oldest first.
pub async fn list(
    State(st): State<Arc<ApiState>>,
    Caller(user): Caller,
) -> ApiResult<Json<Vec<AccountOut>>> {
    let client = st.db.get().await?;
    let rows = client
        .query(
            &format!("SELECT {COLUMNS} FROM account WHERE user_id = $1 ORDER BY created_at, id"),
            &[&user],
        )
        .await?;
    Ok(Json(rows.iter().map(from_row).collect()))
}

/// A mailbox's fields as a user gives them (also for a sign-in).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FieldsIn {
    pub name: String,
    #[serde(default)]
    pub email: String,
    pub host: String,
    pub port: i64,
    pub security: String,
    pub username: String,
}

/// `POST /api/accounts` body.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewAccount {
    name: String,
    #[serde(default)]
    email: String,
    host: String,
    port: i64,
    security: String,
    username: String,
    password: SecretString,
}

/// Checks a new mailbox's fields for `user` (their limit, each field, the host's network) and
/// gives them a new id.
pub(super) async fn check_new(
    st: &ApiState,
    user: i64,
    req: &FieldsIn,
    signin: Option<String>,
) -> ApiResult<crate::host::Fields> {
    let name = text_field("account name", &req.name, 100)?;
    let count: i64 = st
        .db
        .get()
        .await?
        .query_one("SELECT count(*) FROM account WHERE user_id = $1", &[&user])
        .await?
        .get(0);
    super::within_limit(count, st.config.max_accounts_per_user, "mailboxes")?;
    let email = req.email.trim().to_owned();
    if email.chars().count() > 254 || email.chars().any(char::is_control) {
        return Err(ApiError::bad("bad_field", "The email address is not valid"));
    }
    let host = req.host.trim().trim_end_matches('.').to_ascii_lowercase();
    if !valid_host(&host) {
        return Err(ApiError::bad(
            "bad_host",
            "The server must be a host name (mail.example.com) or an IP address, without port or scheme",
        ));
    }
    let port = u16::try_from(req.port)
        .ok()
        .filter(|p| *p != 0)
        .ok_or_else(|| ApiError::bad("bad_port", "The port must be between 1 and 65535"))?;
    let security = match req.security.as_str() {
        "tls" => Security::Tls,
        "starttls" => Security::Starttls,
        _ => {
            return Err(ApiError::bad(
                "bad_security",
                "security must be \"tls\" (usually port 993) or \"starttls\" (usually port 143)",
            ));
        }
    };
    let username = text_field("user name", &req.username, 320)?;
    check_host(&host, port, &st.allow).await?;
    Ok(crate::host::Fields {
        id: new_id(),
        name,
        email,
        host,
        port,
        security,
        username,
        signin,
    })
}

/// Stores a new mailbox with its secret sealed; `notify`: tell the watchers now (else the
/// caller does, once the mailbox is tested).
pub(super) async fn insert(
    st: &ApiState,
    user: i64,
    f: &crate::host::Fields,
    secret: &SecretString,
    notify_now: bool,
) -> ApiResult<AccountOut> {
    let bucket = bucket_of(&f.id, st.config.buckets);
    let (sealed_key, sealed_secret) =
        crate::crypto::seal_account_secret(&st.master, &f.id, secret)?;
    let security_text = match f.security {
        Security::Starttls => "starttls",
        _ => "tls",
    };
    let (auth, provider) = match &f.signin {
        Some(p) => ("oauth2", p.as_str()),
        None => ("password", ""),
    };
    let mut client = st.db.get().await?;
    let tx = client.transaction().await?;
    // The limit again, under the user's row lock: sign-ins started while under it may
    // finish together.
    tx.execute(
        "SELECT 1 FROM relay_user WHERE id = $1 FOR UPDATE",
        &[&user],
    )
    .await?;
    let count: i64 = tx
        .query_one("SELECT count(*) FROM account WHERE user_id = $1", &[&user])
        .await?
        .get(0);
    super::within_limit(count, st.config.max_accounts_per_user, "mailboxes")?;
    let row = tx
        .query_one(
            &format!(
                "INSERT INTO account (id, user_id, bucket, name, email, host, port, security,
                                      username, sealed_key, sealed_secret, auth, signin_provider)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
                 RETURNING {COLUMNS}"
            ),
            &[
                &f.id,
                &user,
                &bucket,
                &f.name,
                &f.email,
                &f.host,
                &i32::from(f.port),
                &security_text,
                &f.username,
                &sealed_key,
                &sealed_secret,
                &auth,
                &provider,
            ],
        )
        .await?;
    if notify_now {
        notify(&tx, "accounts", &bucket.to_string()).await?;
    }
    tx.commit().await?;
    tracing::info!(account = %f.id, user, bucket, auth, "account added");
    Ok(from_row(&row))
}

/// `POST /api/accounts`: checks the fields, refuses hosts on private networks, logs in, and
/// stores the account with its password sealed.
pub async fn add(
    State(st): State<Arc<ApiState>>,
    Caller(user): Caller,
    super::Lang(i18n): super::Lang,
    JsonBody(req): JsonBody<NewAccount>,
) -> ApiResult<(StatusCode, Json<AccountOut>)> {
    use secrecy::ExposeSecret;
    if req.password.expose_secret().is_empty() {
        return Err(ApiError::bad("missing_field", "Fill in the password"));
    }
    if req.password.expose_secret().len() > 4096 {
        return Err(ApiError::bad("bad_field", "The password is too long"));
    }
    let given = FieldsIn {
        name: req.name,
        email: req.email,
        host: req.host,
        port: req.port,
        security: req.security,
        username: req.username,
    };
    let fields = check_new(&st, user, &given, None).await?;
    // The connection test uses the account exactly as the watchers will (timings included).
    let timing = crate::host::timing(&st.config)?;
    let account = crate::host::account(&st.config, &timing, fields.clone());
    login_test(&account, Credential::Password(&req.password), &st, i18n).await?;
    let out = insert(&st, user, &fields, &req.password, true).await?;
    Ok((StatusCode::CREATED, Json(out)))
}

/// `DELETE /api/accounts/{id}`: the row goes, and with it its sealed key (so the stored
/// password cannot be opened again, even from a backup of the secrets alone), its sync marks
/// and announcements (`ON DELETE CASCADE`) and its undelivered notices. The watcher that had
/// it stops at the `NOTIFY`.
pub async fn remove(
    State(st): State<Arc<ApiState>>,
    Caller(user): Caller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let mut client = st.db.get().await?;
    let tx = client.transaction().await?;
    let row = tx
        .query_opt(
            "DELETE FROM account WHERE id = $1 AND user_id = $2 RETURNING bucket",
            &[&id, &user],
        )
        .await?
        .ok_or_else(|| ApiError::not_found("account"))?;
    let bucket: i32 = row.get(0);
    tx.execute("DELETE FROM outbox WHERE account = $1", &[&id])
        .await?;
    notify(&tx, "accounts", &bucket.to_string()).await?;
    tx.commit().await?;
    // A sign-in's tokens this process held (a connection test, a watcher) go too.
    pushmail_core::oauth::account::forget(&id);
    tracing::info!(account = %id, user, bucket, "account removed");
    Ok(StatusCode::NO_CONTENT)
}

/// A new account id: 16 random hex digits (64 bits: no collision in any relay's lifetime,
/// and a valid pushmail-core account id).
fn new_id() -> String {
    let mut raw = [0u8; 8];
    rand::rng().fill_bytes(&mut raw);
    super::hex(&raw)
}

/// The bucket of account `id`: the 64-bit FNV-1a hash of the id's bytes, modulo `buckets`.
///
/// It must never change: the bucket is stored with the account, but the same function is what
/// a tool or a migration would use to recompute it, and the schema fixes `buckets` once
/// accounts exist. FNV-1a is written out here rather than taken from a crate so that no
/// dependency update can change it.
pub fn bucket_of(id: &str, buckets: u32) -> i32 {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    let mut h = OFFSET;
    for b in id.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(PRIME);
    }
    // `buckets` ≤ 65 536 (config check), so the remainder fits an i32.
    i32::try_from(h % u64::from(buckets.max(1))).unwrap_or(0)
}

/// A DNS name (letters, digits, hyphens; labels of 1 to 63; at most 253) or an IP address.
fn valid_host(host: &str) -> bool {
    if host.parse::<IpAddr>().is_ok() {
        return true;
    }
    !host.is_empty()
        && host.len() <= 253
        && host.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

/// Refuses a host that is, or resolves to, an address on a private, loopback or otherwise
/// internal network (unless the operator allowed its range): the relay must not become a way
/// to probe or log in to machines behind it. The watcher resolves the name again when it
/// connects; a name that changes its answer in between is caught by the guard there.
pub(super) async fn check_host(host: &str, port: u16, allow: &[guard::Cidr]) -> ApiResult<()> {
    let ips: Vec<IpAddr> = match host.parse::<IpAddr>() {
        Ok(ip) => vec![ip],
        Err(_) => {
            let found =
                tokio::time::timeout(RESOLVE_TIMEOUT, tokio::net::lookup_host((host, port))).await;
            match found {
                Ok(Ok(addrs)) => addrs.map(|a| a.ip()).collect(),
                _ => Vec::new(),
            }
        }
    };
    if ips.is_empty() {
        return Err(ApiError::unprocessable(
            "unreachable",
            format!("The server name {host} cannot be found; check its spelling"),
        ));
    }
    for ip in ips {
        if guard::check(ip, allow).is_err() {
            return Err(ApiError::unprocessable(
                "host_not_allowed",
                format!(
                    "{host} is on a private or internal network, which this relay does not connect to; use the server's public name, or ask the relay's operator to allow that range"
                ),
            ));
        }
    }
    Ok(())
}

/// What a login test logs in with.
pub(super) enum Credential<'a> {
    Password(&'a SecretString),
    /// A sign-in's access token, fresh from the code exchange (nothing stored yet).
    Token(&'a SecretString, &'a pushmail_core::oauth::Provider),
}

/// Connects and logs in as the watcher will, with what the user just gave (before anything is
/// stored), then logs out.
pub(super) async fn login_test(
    account: &Account,
    credential: Credential<'_>,
    st: &ApiState,
    i18n: &I18n,
) -> ApiResult<()> {
    let opened = tokio::time::timeout(TEST_TIMEOUT, async {
        match credential {
            Credential::Password(p) => imap::session::open_with(account, p, &st.tls).await,
            Credential::Token(t, provider) => {
                imap::session::open_with_token(account, t, provider, &st.tls).await
            }
        }
    })
    .await;
    match opened {
        Ok(Ok(mut li)) => {
            let _ = tokio::time::timeout(LOGOUT_TIMEOUT, li.session.logout()).await;
            Ok(())
        }
        Ok(Err(e)) => Err(connect_problem(&e, &account.host, i18n)),
        Err(_) => Err(ApiError::unprocessable(
            "unreachable",
            format!(
                "{} did not answer within {} s; check the server name and port",
                account.host,
                TEST_TIMEOUT.as_secs()
            ),
        )),
    }
}

/// The core's own sentence for a failed test (what happened — what to do), under a code the
/// web app can branch on.
fn connect_problem(e: &ConnectError, host: &str, i18n: &I18n) -> ApiError {
    use pushmail_core::error::ConfigProblem as P;
    if let ConnectError::Config { problem, .. } = e
        && matches!(
            problem,
            P::CaFileUnreadable { .. }
                | P::CaFileNotPem { .. }
                | P::CaFileEmpty { .. }
                | P::CaFileDamaged { .. }
                | P::CaFileUnusable { .. }
        )
    {
        // The relay's own `ca_file`: nothing the user can change, and its path is not theirs
        // to see.
        return ApiError::internal(anyhow::anyhow!("the relay's ca_file cannot be used: {e}"));
    }
    let code = match e.kind() {
        "auth" | "login_disabled" => "auth_failed",
        "network" | "timeout" => "unreachable",
        "tls" | "starttls" | "unsafe" => "tls_failed",
        _ => "connect_failed",
    };
    tracing::info!(%host, kind = e.kind(), "account test failed");
    // What happened, in the server's words; not the core's hint, which is the desktop's advice
    // ("pushmail-cli account password ID", "set ca_file in the account's settings") and means
    // nothing to someone in the relay's web app, which titles the error by its code.
    let text = e.shown_in(i18n).what;
    ApiError::unprocessable(code, text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_fnv1a_and_never_change() {
        // FNV-1a 64 of "" and "a" are the published test vectors (0xcbf29ce484222325,
        // 0xaf63dc4c8601ec8c).
        assert_eq!(bucket_of("", 65_536), 0x2325);
        assert_eq!(bucket_of("a", 65_536), 0xec8c);
        // Pinned: a change here would move every stored account to another bucket.
        assert_eq!(bucket_of("0123456789abcdef", 1024), 893);
        assert_eq!(bucket_of("deadbeefdeadbeef", 1024), 5);
        for b in [1, 7, 1024, 65_536] {
            let v = bucket_of("deadbeefdeadbeef", b);
            assert!((0..b as i32).contains(&v));
        }
    }

    #[test]
    fn ids_are_16_hex_digits() {
        let id = new_id();
        assert_eq!(id.len(), 16);
        assert!(id.bytes().all(|b| b.is_ascii_hexdigit()));
    }

    #[test]
    fn hosts_are_names_or_addresses() {
        for ok in [
            "mail.example.com",
            "imap",
            "127.0.0.1",
            "::1",
            "xn--bcher-kva.example",
        ] {
            assert!(valid_host(ok), "{ok}");
        }
        for bad in [
            "",
            "mail.example.com:993",
            "imaps://mail",
            "a..b",
            "-a.com",
            "a b",
            "[::1]",
        ] {
            assert!(!valid_host(bad), "{bad}");
        }
    }
}
