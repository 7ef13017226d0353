//! `POST /api/discover`: the server settings for an e-mail address, found by pushmail-core's
//! discovery ([`pushmail_core::discover`]) exactly as the desktop finds them: the provider list,
//! the domain's autoconfiguration files, its MX, SRV records, then guessed names probed up to
//! `CAPABILITY`. It is the web app's "Find settings" button; the add form stays the way to save
//! an account (`POST /api/accounts`, which checks the host against the SSRF guard again and
//! logs in for real before anything is kept).
//!
//! **No credential is involved**: the request carries the address only, and discovery sends
//! the address and nothing else. Plain-text settings are never offered (discovery does not
//! propose them; any that came through are refused here), nor POP3 ones (the relay watches IMAP),
//! nor a server on a private or internal network the relay would refuse to connect to.
//!
//! Discovery is bounded by its own timeouts ([`Options::default`]: 45 s in all), every request
//! passes the API's gate (token, rate limit, body limit), and at most [`MAX_RUNNING`] run at
//! once on a relay process, so the button cannot make the relay open connections without end.
//!
//! **Nothing on a private network is asked either**: discovery's HTTPS requests (the domain's
//! configuration files, its MX hoster's, every redirect) pass the relay's SSRF guard on the
//! addresses they connect to ([`options`]), and its IMAP probes the transport's guard that
//! main.rs installs, both with `allow_private`. A domain whose `autoconfig.` name resolves to
//! 127.0.0.1 gets "not found", its notes saying why, and no request leaves the relay.
//!
//! Tests: the answer's shape is tested here on hand-made results ([`answer`] is pure); the real
//! lookups are the desktop's, proven by `tests/tests/discovery*.rs` against local servers; the
//! guard on them by `crates/relay/tests/api.rs::discovery_never_fetches_from_private_addresses`
//! (the discovery lab: real DNS and HTTPS on 127.0.0.1, through this handler).

use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::extract::State;
use pushmail_core::config::{Protocol, Security};
use pushmail_core::discover::{self, DiscoverError, Found, Login, Options};
use pushmail_core::i18n::{I18n, text};
use pushmail_core::oauth::Provider;
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::sync::Semaphore;

use super::{ApiError, ApiResult, ApiState, Caller, JsonBody, text_field};

/// Discoveries one relay process runs at once; more are told to wait.
pub const MAX_RUNNING: usize = 8;

static RUNNING: Semaphore = Semaphore::const_new(MAX_RUNNING);

/// `POST /api/discover` body.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DiscoverRequest {
    address: String,
}

/// `POST /api/discover`: `{"found": true, "domain", "host", "port", "security", "username",
/// "source", "warnings", "note", "signin", "provider", "signin_with"}` or `{"found": false,
/// "domain", "tried"}`; an address that is not one is a 400 with the reason.
pub async fn find(
    State(st): State<Arc<ApiState>>,
    Caller(_user): Caller,
    super::Lang(i18n): super::Lang,
    JsonBody(req): JsonBody<DiscoverRequest>,
) -> ApiResult<Json<Value>> {
    let address = text_field("e-mail address", &req.address, 320)?;
    let Ok(_permit) = RUNNING.try_acquire() else {
        return Err(ApiError::too_many(Duration::from_secs(5)));
    };
    let result = discover::discover(&address, &options(&st.allow), |_| {}).await;
    let answer = answer(result, i18n)?;
    if answer["found"] == true
        && let Some(host) = answer["host"].as_str()
    {
        let port = answer["port"]
            .as_u64()
            .and_then(|p| u16::try_from(p).ok())
            .unwrap_or(993);
        // The form's host goes through the same check when the account is saved; a server the
        // relay will not connect to is not proposed in the first place. A name that does not
        // resolve now is still proposed: saving says so, with the user's own spelling at hand.
        if let Err(refused) = super::accounts::check_host(host, port, &st.allow).await
            && refused.code == "host_not_allowed"
        {
            let domain = answer["domain"].as_str().unwrap_or_default();
            return Ok(Json(not_found(domain, &refused.message)));
        }
    }
    Ok(Json(answer))
}

/// Discovery's options on the relay: the default timeouts, and the SSRF guard on every address
/// its HTTPS requests connect to ([`crate::guard::discovery_guard`], the rule of the IMAP
/// guard and of push endpoints and webhooks, with `allow_private`). A refused address is a
/// note of the answer ("not fetched: autoconfig.example.com resolves only to addresses …").
pub fn options(allow: &[crate::guard::Cidr]) -> Options {
    Options {
        address_guard: Some(crate::guard::discovery_guard(allow)),
        ..Options::default()
    }
}

/// The answer for discovery's `result`, sentences in `i18n`'s language. Pure: no network.
pub fn answer(result: Result<Found, DiscoverError>, i18n: &I18n) -> ApiResult<Value> {
    let found = match result {
        Ok(found) => found,
        Err(DiscoverError::Address(problem)) => {
            return Err(ApiError::bad("bad_address", problem.to_string()));
        }
        Err(DiscoverError::NotFound { domain, notes }) => {
            let mut tried = i18n.tr("discover-not-found", &[("domain", text(&domain))]);
            if !notes.is_empty() {
                tried = format!("{tried} ({})", notes.join("; "));
            }
            return Ok(not_found(&domain, &tried));
        }
    };
    let domain = &found.address.domain_display;
    let security = match found.security {
        Security::Tls => "tls",
        Security::Starttls => "starttls",
        Security::Plain => {
            return Ok(not_found(
                domain,
                &format!(
                    "Only unencrypted settings were found for {domain} ({}:{}); the relay does not send passwords in plain text",
                    found.host, found.port
                ),
            ));
        }
    };
    if found.protocol == Protocol::Pop3 {
        return Ok(not_found(
            domain,
            &format!(
                "Only POP3 settings were found for {domain} ({}:{}); the relay watches IMAP mailboxes",
                found.host, found.port
            ),
        ));
    }
    let (signin, signin_with, signin_provider) = match &found.login {
        Login::Password => (false, None, None),
        Login::OAuth2 { provider } => (
            true,
            Some(Provider::display_name(provider)),
            Some(provider.clone()),
        ),
    };
    let note = found.provider.and_then(|p| {
        p.note
            .map(|note| i18n.tr(note, &[("provider", text(p.name))]))
    });
    Ok(json!({
        "found": true,
        "domain": domain,
        "host": found.host,
        "port": found.port,
        "security": security,
        "username": found.username,
        "source": found.source.describe_in(i18n, domain),
        "warnings": found
            .warnings
            .iter()
            .map(|w| w.describe_in(i18n, domain))
            .collect::<Vec<_>>(),
        "note": note,
        "signin": signin,
        "provider": found.provider.map(|p| p.name),
        "signin_with": signin_with,
        // The sign-in provider's id (`google`, `microsoft`…): the web app offers "Sign in
        // with …" when the relay has a client for it (`GET /api/signin/providers`).
        "signin_provider": signin_provider,
    }))
}

fn not_found(domain: &str, tried: &str) -> Value {
    json!({ "found": false, "domain": domain, "tried": tried })
}

#[cfg(test)]
mod tests {
    use pushmail_core::discover::domain::Address;
    use pushmail_core::discover::{Source, Warning, provider_for_domain};

    use super::*;

    fn address(local: &str, domain: &str) -> Address {
        Address {
            address: format!("{local}@{domain}"),
            local: local.into(),
            domain: domain.into(),
            domain_display: domain.into(),
        }
    }

    fn found(domain: &str) -> Found {
        Found {
            address: address("ana", domain),
            protocol: Protocol::Imap,
            host: format!("mail.{domain}"),
            port: 143,
            security: Security::Starttls,
            username: "ana".into(),
            login: Login::Password,
            source: Source::Guess {
                host: format!("mail.{domain}"),
            },
            provider: None,
            warnings: vec![Warning::OutsideDomain {
                host: "mail.hoster.example".into(),
                registrable: "hoster.example".into(),
            }],
        }
    }

    #[test]
    fn a_found_server_is_answered_with_where_it_came_from() {
        let v = answer(Ok(found("example.com")), I18n::english()).unwrap();
        assert_eq!(v["found"], true);
        assert_eq!(v["host"], "mail.example.com");
        assert_eq!(v["port"], 143);
        assert_eq!(v["security"], "starttls");
        assert_eq!(v["username"], "ana");
        assert_eq!(v["signin"], false);
        assert_eq!(v["note"], Value::Null);
        let source = v["source"].as_str().unwrap();
        assert!(source.contains("mail.example.com"), "{source}");
        let warning = v["warnings"][0].as_str().unwrap();
        assert!(warning.contains("hoster.example"), "{warning}");
    }

    #[test]
    fn a_sign_in_provider_says_so_with_its_note() {
        let gmail = provider_for_domain("gmail.com").unwrap();
        let f = Found {
            address: address("ana", "gmail.com"),
            host: gmail.imap_host.into(),
            port: gmail.imap_port,
            security: Security::Tls,
            username: "ana@gmail.com".into(),
            login: Login::OAuth2 {
                provider: "google".into(),
            },
            source: Source::ProviderList {
                provider: gmail.name,
            },
            provider: Some(gmail),
            warnings: Vec::new(),
            ..found("gmail.com")
        };
        let v = answer(Ok(f), I18n::english()).unwrap();
        assert_eq!(v["signin"], true);
        assert_eq!(v["provider"], "Gmail");
        assert_eq!(v["signin_with"], "Google");
        assert_eq!(v["security"], "tls");
        assert!(v["note"].as_str().unwrap().contains("app password"), "{v}");
        assert!(
            v["source"].as_str().unwrap().contains("provider list"),
            "{v}"
        );
    }

    #[test]
    fn plain_text_and_pop3_are_never_offered() {
        let plain = Found {
            security: Security::Plain,
            ..found("example.com")
        };
        let v = answer(Ok(plain), I18n::english()).unwrap();
        assert_eq!(v["found"], false);
        assert!(v.get("host").is_none());
        assert!(v["tried"].as_str().unwrap().contains("unencrypted"), "{v}");
        let pop = Found {
            protocol: Protocol::Pop3,
            security: Security::Tls,
            ..found("example.com")
        };
        let v = answer(Ok(pop), I18n::english()).unwrap();
        assert_eq!(v["found"], false);
        assert!(v["tried"].as_str().unwrap().contains("POP3"), "{v}");
    }

    #[test]
    fn nothing_found_is_a_sentence_and_a_bad_address_a_400() {
        let e = DiscoverError::NotFound {
            domain: "example.org".into(),
            notes: vec!["https://autoconfig.example.org/…: 404".into()],
        };
        let v = answer(Err(e), I18n::english()).unwrap();
        assert_eq!(v["found"], false);
        assert_eq!(v["domain"], "example.org");
        let tried = v["tried"].as_str().unwrap();
        assert!(
            tried.contains("example.org") && tried.contains("404"),
            "{tried}"
        );
    }

    #[test]
    fn the_relay_discovers_behind_its_guard() {
        let loopback = "127.0.0.1".parse().unwrap();
        let strict = options(&[]);
        let why = strict
            .address_guard
            .as_ref()
            .unwrap()
            .check(loopback)
            .unwrap_err();
        assert!(why.contains("allow_private"), "{why}");
        let lab = options(&[crate::guard::Cidr::parse("127.0.0.1/32").unwrap()]);
        assert!(lab.address_guard.unwrap().check(loopback).is_ok());
        assert_eq!(strict.overall_timeout, Options::default().overall_timeout);
    }

    #[tokio::test]
    async fn a_malformed_address_is_refused_without_looking() {
        let result = discover::discover("no address", &Options::default(), |_| {}).await;
        let e = answer(result, I18n::english()).unwrap_err();
        assert_eq!(e.status, axum::http::StatusCode::BAD_REQUEST);
        assert_eq!(e.code, "bad_address");
    }
}
