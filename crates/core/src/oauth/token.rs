//! The token endpoint (RFC 6749 §4.1.3 and §6): the code exchange at the end of a sign-in, and
//! the refresh that keeps an account going. The protocol is the `oauth2` crate's; this file
//! turns its outcomes into what Pushmail does next ([`OAuthError`]'s variants) and keeps
//! every secret out of them.
//!
//! Classification, in this order:
//! - no answer, a 5xx or 429, an answer that is not the token JSON → `Transient` (try later);
//! - Microsoft's admin-consent codes at the start of `error_description` (`AADSTS65001`,
//!   `AADSTS90094`, `AADSTS90095`, `AADSTS90099`) or the OIDC `consent_required` →
//!   `AdminApprovalRequired`. Checked before `invalid_grant`, because
//!   Microsoft sends them *as* `invalid_grant`. The codes are Microsoft's documented error
//!   identifiers (a protocol of theirs), not prose;
//! - `invalid_grant`, `interaction_required`, `login_required` → `SigninRequired`;
//! - `invalid_client`, `unauthorized_client` → `ClientRejected`;
//! - `temporarily_unavailable`, `server_error` → `Transient`;
//! - anything else → `Refused` with its code.

use std::time::{Duration, SystemTime};

use oauth2::basic::{BasicClient, BasicErrorResponse};
use oauth2::{
    AuthType, ClientId, ClientSecret, RefreshToken, RequestTokenError, TokenResponse, TokenUrl,
};
use secrecy::{ExposeSecret, SecretString};
use tracing::debug;

use super::OAuthError;
use super::authorization::{AuthorizationCode, PendingAuthorization};
use super::http_client::{HttpClient, HttpError};
use super::provider::Provider;
use crate::imap::transport::login::scrub;

/// Tokens from one answer of the token endpoint. `Debug` shows no token.
#[derive(Clone, Debug)]
pub struct Tokens {
    /// The access token: in memory only.
    pub access: SecretString,
    /// When it expires by the wall clock (which, unlike the monotonic one, goes on during
    /// sleep), computed from `expires_in` when the answer arrived; `None` if the server did not
    /// say.
    pub expires_at: Option<SystemTime>,
    /// How long it was valid for when issued (`expires_in`).
    pub lifetime: Option<Duration>,
    /// A new refresh token: always after a sign-in (if the provider issues one), after a
    /// refresh only when the provider rotates them. To be stored before `access` is used.
    pub refresh: Option<SecretString>,
    /// The scopes granted, when the server lists them (it may grant fewer than asked).
    pub scopes: Option<Vec<String>>,
}

/// The token endpoint client: one [`HttpClient`] for all accounts.
#[derive(Clone, Debug)]
pub struct TokenClient {
    http: HttpClient,
}

type Client = BasicClient<
    oauth2::EndpointNotSet,
    oauth2::EndpointNotSet,
    oauth2::EndpointNotSet,
    oauth2::EndpointNotSet,
    oauth2::EndpointSet,
>;

fn client(provider: &Provider) -> Result<Client, OAuthError> {
    provider.validate()?;
    let token_url =
        TokenUrl::new(provider.token_endpoint.clone()).map_err(|e| OAuthError::BadProvider {
            provider: provider.name.clone(),
            what: format!("token_endpoint: {e}"),
        })?;
    let mut c = BasicClient::new(ClientId::new(provider.client_id()?.to_owned()))
        .set_token_uri(token_url)
        // A public client (no secret) sends its id in the body either way; a native app's
        // "secret" goes there too, which every provider here accepts and which keeps it out
        // of an `Authorization` header a proxy might log.
        .set_auth_type(AuthType::RequestBody);
    if let Some(secret) = &provider.client_secret {
        c = c.set_client_secret(ClientSecret::new(secret.clone()));
    }
    Ok(c)
}

impl TokenClient {
    pub fn new(http: HttpClient) -> Self {
        TokenClient { http }
    }

    /// Exchanges the code from the redirect for tokens, with the PKCE verifier and the same
    /// redirect URI as the authorization request.
    pub async fn exchange_code(
        &self,
        provider: &Provider,
        pending: &PendingAuthorization,
        code: AuthorizationCode,
    ) -> Result<Tokens, OAuthError> {
        let redirect =
            oauth2::RedirectUrl::new(pending.redirect_uri().to_owned()).map_err(|e| {
                OAuthError::BadProvider {
                    provider: provider.name.clone(),
                    what: format!("redirect URI: {e}"),
                }
            })?;
        let c = client(provider)?.set_redirect_uri(redirect);
        // Everything secret the request carried, so that an error page echoing the form
        // body cannot put any of it in an error text.
        let mut sent = vec![
            code.0.expose_secret().to_owned(),
            pending.verifier().secret().clone(),
        ];
        sent.extend(provider.client_secret.clone());
        let answer = c
            .exchange_code(oauth2::AuthorizationCode::new(
                code.0.expose_secret().to_owned(),
            ))
            .set_pkce_verifier(pending.verifier())
            .request_async(&self.http)
            .await;
        outcome(answer, &sent)
    }

    /// Asks for a new access token with `refresh_token`.
    pub async fn refresh(
        &self,
        provider: &Provider,
        refresh_token: &SecretString,
    ) -> Result<Tokens, OAuthError> {
        let c = client(provider)?;
        let rt = RefreshToken::new(refresh_token.expose_secret().to_owned());
        let mut sent = vec![refresh_token.expose_secret().to_owned()];
        sent.extend(provider.client_secret.clone());
        let answer = c
            .exchange_refresh_token(&rt)
            .request_async(&self.http)
            .await;
        outcome(answer, &sent)
    }
}

type Answer =
    Result<oauth2::basic::BasicTokenResponse, RequestTokenError<HttpError, BasicErrorResponse>>;

/// The server's words, capped and without anything we sent.
fn said(text: Option<&str>, sent: &[String]) -> Option<String> {
    text.and_then(crate::error::words).map(|w| scrub(&w, sent))
}

/// Microsoft's admin-consent family (documented AADSTS codes): the user cannot approve, an
/// administrator must.
const ADMIN_CONSENT_CODES: [&str; 4] = ["AADSTS65001", "AADSTS90094", "AADSTS90095", "AADSTS90099"];

fn outcome(answer: Answer, sent: &[String]) -> Result<Tokens, OAuthError> {
    match answer {
        Ok(t) => {
            let lifetime = t.expires_in();
            Ok(Tokens {
                access: SecretString::from(t.access_token().secret().clone()),
                expires_at: lifetime.and_then(|d| SystemTime::now().checked_add(d)),
                lifetime,
                refresh: t
                    .refresh_token()
                    .map(|r| SecretString::from(r.secret().clone()))
                    .filter(|r| !r.expose_secret().is_empty()),
                scopes: t
                    .scopes()
                    .map(|s| s.iter().map(|s| s.to_string()).collect()),
            })
        }
        Err(RequestTokenError::ServerResponse(e)) => {
            let words = said(e.error_description().map(String::as_str), sent);
            let description = e.error_description().map(String::as_str).unwrap_or("");
            let code = e.error().as_ref().to_owned();
            Err(classify(&code, description, words))
        }
        Err(RequestTokenError::Request(e)) => {
            debug!("token request failed: {}", scrub(&e.to_string(), sent));
            Err(OAuthError::Transient {
                words: said(Some(&e.to_string()), sent),
            })
        }
        // The body is dropped unread: after a 200 it may hold a token.
        Err(RequestTokenError::Parse(e, _body)) => Err(OAuthError::Transient {
            words: said(
                Some(&format!(
                    "the answer is not a token response ({})",
                    e.path()
                )),
                sent,
            ),
        }),
        Err(RequestTokenError::Other(text)) => Err(OAuthError::Transient {
            words: said(Some(&text), sent),
        }),
    }
}

/// What an OAuth `error` code (and Microsoft's `error_description`) means for the account.
fn classify(code: &str, description: &str, words: Option<String>) -> OAuthError {
    let admin = code == "consent_required"
        || ADMIN_CONSENT_CODES
            .iter()
            .any(|c| description.starts_with(c) || description.contains(&format!("{c}:")));
    if admin {
        return OAuthError::AdminApprovalRequired { words };
    }
    match code {
        "invalid_grant" | "interaction_required" | "login_required" => {
            OAuthError::SigninRequired { words }
        }
        "invalid_client" | "unauthorized_client" => OAuthError::ClientRejected { words },
        "temporarily_unavailable" | "server_error" => OAuthError::Transient { words },
        other => OAuthError::Refused {
            code: crate::text::truncate_for_log(other),
            words,
        },
    }
}
