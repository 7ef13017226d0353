//! Providers as data: where to send the user, where to get tokens, what to ask for, how to
//! present the token to IMAP, and which addresses belong to which provider.
//!
//! The built-in table ([`Provider::builtin`]) holds what each provider documents; a `custom`
//! provider is the same struct with every field set by the configuration (self-hosted
//! Dovecot/Stalwart/Keycloak, or a user who brings their own registration), which is why the
//! struct is serde-ready.
//!
//! ## Client ids
//!
//! Pushmail does not borrow another application's registration (Thunderbird's, Evolution's):
//! a provider can revoke it, and its consent screen would name someone else. So a built-in
//! provider has **no client id** unless one is given:
//!
//! - by whoever builds Pushmail (the project's own releases, or a distribution with its own
//!   registration), at build time: `PUSHMAIL_OAUTH_GOOGLE_CLIENT_ID`,
//!   `PUSHMAIL_OAUTH_MICROSOFT_CLIENT_ID`, `PUSHMAIL_OAUTH_YAHOO_CLIENT_ID`,
//!   `PUSHMAIL_OAUTH_AOL_CLIENT_ID`, `PUSHMAIL_OAUTH_FASTMAIL_CLIENT_ID`, and the matching
//!   `…_CLIENT_SECRET` where the provider issues one even to installed apps (Google's
//!   "Desktop app" clients; RFC 8252 §8.5: such a secret is not a secret and is not treated as
//!   proof of identity). These are read with `option_env!`, so they are baked into the binary;
//! - or by the user, in the account's configuration ([`Provider::with_client`]).
//!
//! "No client id" is the explicit `client_id: None`; [`Provider::validate`] turns it into
//! [`OAuthError::NoClientId`], which a front end shows as "this build has no registration for
//! Google — set your own client id in the account settings".

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use super::OAuthError;
use super::sasl::SaslMechanism;

/// Where the browser is sent back to (RFC 8252 §7.3). Both are served: the listener binds
/// 127.0.0.1 and ::1 on the same port, so `localhost` works whichever address the browser
/// resolves it to.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RedirectHost {
    /// `http://127.0.0.1:PORT/…`: what RFC 8252 recommends (no resolver, no firewall rule on a
    /// name), and what Google documents for desktop apps.
    #[default]
    Ip,
    /// `http://localhost:PORT/…`: what Microsoft's registration portal accepts for public
    /// clients (it ignores the port of a `localhost` redirect).
    Localhost,
}

/// One OAuth provider for IMAP. Every field is data; [`Provider::builtin`] fills them for the
/// big providers, a configuration fills them for `custom`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Provider {
    /// `google`, `microsoft`, `yahoo`, `aol`, `fastmail` or `custom`; names messages.
    pub name: String,
    /// The authorization endpoint (RFC 6749 §3.1), https.
    pub authorization_endpoint: String,
    /// The token endpoint (RFC 6749 §3.2), https (http only on a loopback host, for tests).
    pub token_endpoint: String,
    /// The scopes asked for: the IMAP scope, and `offline_access` where the provider wants it
    /// for a refresh token.
    pub scopes: Vec<String>,
    /// The authorization server's issuer identifier (RFC 8414), compared with the `iss`
    /// parameter of the redirect when one comes (RFC 9207). `None` where the provider declares
    /// none for its mail endpoints (Microsoft's `common` endpoint answers for many issuers).
    #[serde(default)]
    pub issuer: Option<String>,
    /// The provider declares `authorization_response_iss_parameter_supported`: a redirect
    /// without `iss` is refused too (RFC 9207 §2.4).
    #[serde(default)]
    pub require_iss: bool,
    /// The SASL mechanism to use when the server offers both.
    pub sasl: SaslMechanism,
    /// The IMAP server for this provider's addresses.
    pub imap_host: String,
    pub imap_port: u16,
    /// Address domains that belong to this provider; `name.*` matches any top-level part
    /// (`hotmail.*`: hotmail.com, hotmail.co.uk, hotmail.fr).
    #[serde(default)]
    pub domains: Vec<String>,
    /// The registered client id; `None`: none built in and none configured (see the module
    /// documentation).
    #[serde(default)]
    pub client_id: Option<String>,
    /// The client secret where the provider issues one to installed apps (not a secret in the
    /// RFC 6749 sense, RFC 8252 §8.5; still never printed by `Debug`).
    #[serde(default)]
    pub client_secret: Option<String>,
    /// Which loopback name the redirect URI uses.
    #[serde(default)]
    pub redirect_host: RedirectHost,
    /// The path of the redirect URI (as registered; `/` for a bare `http://localhost`).
    #[serde(default = "default_redirect_path")]
    pub redirect_path: String,
    /// Further parameters of the authorization request the provider documents (Google's
    /// `access_type=offline`).
    #[serde(default)]
    pub extra_authorization_params: BTreeMap<String, String>,
}

fn default_redirect_path() -> String {
    "/".to_owned()
}

impl fmt::Debug for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Provider")
            .field("name", &self.name)
            .field("authorization_endpoint", &self.authorization_endpoint)
            .field("token_endpoint", &self.token_endpoint)
            .field("scopes", &self.scopes)
            .field("issuer", &self.issuer)
            .field("require_iss", &self.require_iss)
            .field("sasl", &self.sasl)
            .field("imap_host", &self.imap_host)
            .field("imap_port", &self.imap_port)
            .field("domains", &self.domains)
            .field("client_id", &self.client_id)
            .field(
                "client_secret",
                &self.client_secret.as_ref().map(|_| "[REDACTED]"),
            )
            .field("redirect_host", &self.redirect_host)
            .field("redirect_path", &self.redirect_path)
            .field(
                "extra_authorization_params",
                &self.extra_authorization_params,
            )
            .finish()
    }
}

/// The names [`Provider::builtin`] knows, in the order a front end lists them.
pub const BUILTIN: [&str; 5] = ["google", "microsoft", "yahoo", "aol", "fastmail"];

/// A build-time client id or secret: `None` when unset or empty.
fn baked(value: Option<&'static str>) -> Option<String> {
    value.filter(|v| !v.trim().is_empty()).map(str::to_owned)
}

/// The address domains of a built-in provider: those of the provider table's entries that
/// sign in with it (one list of who serves which domain, [`crate::discover::providers`]).
fn table_domains(name: &str) -> Vec<String> {
    crate::discover::providers::PROVIDERS
        .iter()
        .filter(|p| {
            matches!(p.auth, crate::discover::providers::ProviderAuth::OAuth2 { provider, .. }
                if provider == name)
        })
        .flat_map(|p| p.domains.iter().map(|d| (*d).to_owned()))
        .collect()
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

impl Provider {
    /// The built-in provider called `name` (see [`BUILTIN`]), with the client id baked in at
    /// build time if any.
    pub fn builtin(name: &str) -> Option<Provider> {
        match name {
            // https://developers.google.com/identity/protocols/oauth2/native-app;
            // https://developers.google.com/gmail/imap/xoauth2-protocol (both mechanisms).
            "google" => Some(Provider {
                name: "google".into(),
                authorization_endpoint: "https://accounts.google.com/o/oauth2/v2/auth".into(),
                token_endpoint: "https://oauth2.googleapis.com/token".into(),
                scopes: strings(&["https://mail.google.com/"]),
                issuer: Some("https://accounts.google.com".into()),
                require_iss: false,
                sasl: SaslMechanism::OAuthBearer,
                imap_host: "imap.gmail.com".into(),
                imap_port: 993,
                domains: table_domains("google"),
                client_id: baked(option_env!("PUSHMAIL_OAUTH_GOOGLE_CLIENT_ID")),
                client_secret: baked(option_env!("PUSHMAIL_OAUTH_GOOGLE_CLIENT_SECRET")),
                redirect_host: RedirectHost::Ip,
                redirect_path: "/".into(),
                extra_authorization_params: [("access_type".into(), "offline".into())].into(),
            }),
            // Microsoft identity platform v2.0, `common` (work, school and personal accounts);
            // https://learn.microsoft.com/exchange/client-developer/legacy-protocols/how-to-authenticate-an-imap-pop-smtp-application-by-using-oauth
            // documents XOAUTH2 only.
            "microsoft" => Some(Provider {
                name: "microsoft".into(),
                authorization_endpoint:
                    "https://login.microsoftonline.com/common/oauth2/v2.0/authorize".into(),
                token_endpoint: "https://login.microsoftonline.com/common/oauth2/v2.0/token".into(),
                scopes: strings(&[
                    "https://outlook.office.com/IMAP.AccessAsUser.All",
                    "offline_access",
                ]),
                issuer: None,
                require_iss: false,
                sasl: SaslMechanism::XOAuth2,
                imap_host: "outlook.office365.com".into(),
                imap_port: 993,
                domains: table_domains("microsoft"),
                client_id: baked(option_env!("PUSHMAIL_OAUTH_MICROSOFT_CLIENT_ID")),
                client_secret: baked(option_env!("PUSHMAIL_OAUTH_MICROSOFT_CLIENT_SECRET")),
                redirect_host: RedirectHost::Localhost,
                redirect_path: "/".into(),
                extra_authorization_params: BTreeMap::new(),
            }),
            // https://developer.yahoo.com/oauth2/guide/ (OpenID issuer
            // https://api.login.yahoo.com); IMAP takes OAUTHBEARER and XOAUTH2.
            "yahoo" => Some(Provider {
                name: "yahoo".into(),
                authorization_endpoint: "https://api.login.yahoo.com/oauth2/request_auth".into(),
                token_endpoint: "https://api.login.yahoo.com/oauth2/get_token".into(),
                scopes: strings(&["mail-r"]),
                issuer: Some("https://api.login.yahoo.com".into()),
                require_iss: false,
                sasl: SaslMechanism::OAuthBearer,
                imap_host: "imap.mail.yahoo.com".into(),
                imap_port: 993,
                domains: table_domains("yahoo"),
                client_id: baked(option_env!("PUSHMAIL_OAUTH_YAHOO_CLIENT_ID")),
                client_secret: baked(option_env!("PUSHMAIL_OAUTH_YAHOO_CLIENT_SECRET")),
                redirect_host: RedirectHost::Ip,
                redirect_path: "/".into(),
                extra_authorization_params: BTreeMap::new(),
            }),
            // AOL runs on Yahoo's platform with its own endpoints and registrations.
            "aol" => Some(Provider {
                name: "aol".into(),
                authorization_endpoint: "https://api.login.aol.com/oauth2/request_auth".into(),
                token_endpoint: "https://api.login.aol.com/oauth2/get_token".into(),
                scopes: strings(&["mail-r"]),
                issuer: Some("https://api.login.aol.com".into()),
                require_iss: false,
                sasl: SaslMechanism::OAuthBearer,
                imap_host: "imap.aol.com".into(),
                imap_port: 993,
                domains: table_domains("aol"),
                client_id: baked(option_env!("PUSHMAIL_OAUTH_AOL_CLIENT_ID")),
                client_secret: baked(option_env!("PUSHMAIL_OAUTH_AOL_CLIENT_SECRET")),
                redirect_host: RedirectHost::Ip,
                redirect_path: "/".into(),
                extra_authorization_params: BTreeMap::new(),
            }),
            // https://www.fastmail.com/dev/ (OAuth for third-party clients: PKCE, public
            // clients; refresh tokens without an extra scope).
            "fastmail" => Some(Provider {
                name: "fastmail".into(),
                authorization_endpoint: "https://api.fastmail.com/oauth/authorize".into(),
                token_endpoint: "https://api.fastmail.com/oauth/refresh".into(),
                scopes: strings(&["https://www.fastmail.com/dev/protocol-imap"]),
                issuer: None,
                require_iss: false,
                sasl: SaslMechanism::OAuthBearer,
                imap_host: "imap.fastmail.com".into(),
                imap_port: 993,
                domains: table_domains("fastmail"),
                client_id: baked(option_env!("PUSHMAIL_OAUTH_FASTMAIL_CLIENT_ID")),
                client_secret: baked(option_env!("PUSHMAIL_OAUTH_FASTMAIL_CLIENT_SECRET")),
                redirect_host: RedirectHost::Ip,
                redirect_path: "/".into(),
                extra_authorization_params: BTreeMap::new(),
            }),
            _ => None,
        }
    }

    /// Microsoft restricted to one organisation: `tenant` is its directory (tenant) id or
    /// domain (`contoso.onmicrosoft.com`), or `organizations` / `consumers`. An organisation
    /// that allows only its own tenant needs this form; `common` is the default.
    pub fn microsoft_tenant(tenant: &str) -> Result<Provider, OAuthError> {
        let ok = !tenant.is_empty()
            && tenant.len() <= 253
            && tenant
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.');
        if !ok {
            return Err(OAuthError::BadProvider {
                provider: "microsoft".into(),
                what: format!("`{tenant}` is not a tenant id or domain"),
            });
        }
        let mut p = Provider::builtin("microsoft").ok_or_else(|| OAuthError::BadProvider {
            provider: "microsoft".into(),
            what: "not built in".into(),
        })?;
        let base = format!("https://login.microsoftonline.com/{tenant}/oauth2/v2.0");
        p.authorization_endpoint = format!("{base}/authorize");
        p.token_endpoint = format!("{base}/token");
        // A tenant's issuer is known (`…/{tenant-id}/v2.0`) only for an id, and Microsoft does
        // not send `iss` in the authorization response: nothing to compare.
        Ok(p)
    }

    /// A `custom` provider: every field from the configuration, nothing built in.
    #[allow(clippy::too_many_arguments)]
    pub fn custom(
        authorization_endpoint: &str,
        token_endpoint: &str,
        scopes: Vec<String>,
        issuer: Option<String>,
        sasl: SaslMechanism,
        imap_host: &str,
        imap_port: u16,
        client_id: Option<String>,
    ) -> Provider {
        Provider {
            name: "custom".into(),
            authorization_endpoint: authorization_endpoint.into(),
            token_endpoint: token_endpoint.into(),
            scopes,
            issuer,
            require_iss: false,
            sasl,
            imap_host: imap_host.into(),
            imap_port,
            domains: Vec::new(),
            client_id,
            client_secret: None,
            redirect_host: RedirectHost::Ip,
            redirect_path: default_redirect_path(),
            extra_authorization_params: BTreeMap::new(),
        }
    }

    /// The same provider with the user's (or the configuration's) own registration.
    #[must_use]
    pub fn with_client(mut self, client_id: String, client_secret: Option<String>) -> Provider {
        self.client_id = Some(client_id).filter(|c| !c.trim().is_empty());
        self.client_secret = client_secret.filter(|c| !c.is_empty());
        self
    }

    /// The built-in provider an address belongs to (by its domain), if any. A Google
    /// Workspace or Microsoft 365 domain of an organisation is not known from its name: the
    /// user picks the provider (or the caller looks at the domain's MX).
    pub fn for_address(address: &str) -> Option<Provider> {
        let domain = address.rsplit_once('@').map(|(_, d)| d)?;
        BUILTIN
            .iter()
            .filter_map(|name| Provider::builtin(name))
            .find(|p| p.serves_domain(domain))
    }

    /// Whether `domain` (of an address) is one of [`Provider::domains`].
    pub fn serves_domain(&self, domain: &str) -> bool {
        self.domains
            .iter()
            .any(|pattern| crate::discover::domain::pattern_matches(pattern, domain))
    }

    /// The name users know the provider by ("Google", "Microsoft"), for "Sign in with …";
    /// a custom provider's name as it is.
    pub fn display_name(name: &str) -> String {
        match name {
            "google" => "Google".into(),
            "microsoft" => "Microsoft".into(),
            "yahoo" => "Yahoo".into(),
            "aol" => "AOL".into(),
            "fastmail" => "Fastmail".into(),
            other => other.into(),
        }
    }

    /// The client id, or [`OAuthError::NoClientId`].
    pub fn client_id(&self) -> Result<&str, OAuthError> {
        self.client_id
            .as_deref()
            .filter(|c| !c.trim().is_empty())
            .ok_or_else(|| OAuthError::NoClientId {
                provider: self.name.clone(),
            })
    }

    /// Whether this provider can be used as it is: a client id, https endpoints (http only to
    /// a loopback host, for tests and a local authorization server), at least one scope, a
    /// redirect path that starts with `/`.
    pub fn validate(&self) -> Result<(), OAuthError> {
        let bad = |what: String| OAuthError::BadProvider {
            provider: self.name.clone(),
            what,
        };
        for (field, value) in [
            ("authorization_endpoint", &self.authorization_endpoint),
            ("token_endpoint", &self.token_endpoint),
        ] {
            let url = oauth2::url::Url::parse(value)
                .map_err(|e| bad(format!("{field} `{value}`: {e}")))?;
            let loopback = url
                .host_str()
                .is_some_and(crate::imap::transport::is_loopback_host);
            match url.scheme() {
                "https" => {}
                "http" if loopback => {}
                _ => return Err(bad(format!("{field} `{value}` is not an https URL"))),
            }
        }
        if self.scopes.iter().all(|s| s.trim().is_empty()) {
            return Err(bad("no scope".into()));
        }
        if !self.redirect_path.starts_with('/')
            || self
                .redirect_path
                .chars()
                .any(|c| c.is_whitespace() || c == '?' || c == '#')
        {
            return Err(bad(format!(
                "redirect_path `{}` is not a plain path",
                self.redirect_path
            )));
        }
        if let Some(issuer) = &self.issuer
            && issuer.trim().is_empty()
        {
            return Err(bad("empty issuer".into()));
        }
        if self.require_iss && self.issuer.is_none() {
            return Err(bad("require_iss without an issuer".into()));
        }
        self.client_id()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_map_to_their_provider() {
        for (address, provider) in [
            ("alice@gmail.com", Some("google")),
            ("alice@GoogleMail.com", Some("google")),
            ("bob@outlook.com", Some("microsoft")),
            ("bob@hotmail.co.uk", Some("microsoft")),
            ("bob@hotmail.fr", Some("microsoft")),
            ("bob@live.de", Some("microsoft")),
            ("bob@msn.com", Some("microsoft")),
            ("carol@yahoo.co.uk", Some("yahoo")),
            // Yahoo! JAPAN is another company's service (POP3 only, no sign-in of Yahoo's).
            ("carol@yahoo.co.jp", None),
            ("carol@ymail.com", Some("yahoo")),
            ("dave@aol.com", Some("aol")),
            ("erin@fastmail.com", Some("fastmail")),
            ("erin@fastmail.fm", Some("fastmail")),
            ("frank@example.com", None),
            // Not a top-level part after the stem: someone else's domain.
            ("mallory@hotmail.evil.example.com", None),
            ("mallory@nothotmail.com", None),
            ("mallory@live.", None),
            ("no-at-sign", None),
        ] {
            assert_eq!(
                Provider::for_address(address).map(|p| p.name),
                provider.map(str::to_owned),
                "{address}"
            );
        }
    }

    #[test]
    fn builtins_are_valid_but_for_the_client_id() {
        for name in BUILTIN {
            let p = Provider::builtin(name)
                .unwrap()
                .with_client("id".into(), None);
            p.validate().unwrap();
            assert!(p.scopes.iter().any(|s| !s.is_empty()));
        }
        // A build without PUSHMAIL_OAUTH_*_CLIENT_ID says so, by name.
        let mut bare = Provider::builtin("google").unwrap();
        bare.client_id = None;
        assert_eq!(
            bare.validate(),
            Err(OAuthError::NoClientId {
                provider: "google".into()
            })
        );
        let blank = Provider::builtin("google")
            .unwrap()
            .with_client("  ".into(), None);
        assert!(matches!(
            blank.client_id(),
            Err(OAuthError::NoClientId { .. })
        ));
        assert!(Provider::builtin("custom").is_none());
    }

    #[test]
    fn microsoft_asks_for_offline_access_and_tenants_are_checked() {
        let p = Provider::microsoft_tenant("contoso.onmicrosoft.com").unwrap();
        assert_eq!(
            p.token_endpoint,
            "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token"
        );
        assert!(p.scopes.contains(&"offline_access".to_owned()));
        assert_eq!(p.sasl, SaslMechanism::XOAuth2);
        for bad in ["", "a/b", "x?y=1", "common/../evil"] {
            assert!(Provider::microsoft_tenant(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn endpoints_must_be_https_except_on_loopback() {
        let mut p = Provider::custom(
            "https://sso.example.org/auth",
            "http://sso.example.org/token",
            vec!["imap".into()],
            None,
            SaslMechanism::OAuthBearer,
            "mail.example.org",
            993,
            Some("pushmail".into()),
        );
        assert!(matches!(p.validate(), Err(OAuthError::BadProvider { .. })));
        p.token_endpoint = "http://127.0.0.1:8080/token".into();
        p.validate().unwrap();
        p.scopes = vec![];
        assert!(p.validate().is_err());
        p.scopes = vec!["imap".into()];
        p.require_iss = true;
        assert!(p.validate().is_err());
        p.issuer = Some("https://sso.example.org".into());
        p.validate().unwrap();
        p.redirect_path = "cb".into();
        assert!(p.validate().is_err());
    }

    #[test]
    fn custom_provider_round_trips_through_toml_and_hides_its_secret() {
        let mut p = Provider::builtin("fastmail")
            .unwrap()
            .with_client("abc".into(), Some("shh-its-a-secret".into()));
        p.name = "custom".into();
        let text = toml::to_string(&p).unwrap();
        let back: Provider = toml::from_str(&text).unwrap();
        assert_eq!(back, p);
        let minimal: Provider = toml::from_str(
            r#"
            name = "custom"
            authorization_endpoint = "https://kc.example.org/realms/mail/protocol/openid-connect/auth"
            token_endpoint = "https://kc.example.org/realms/mail/protocol/openid-connect/token"
            scopes = ["openid", "offline_access"]
            issuer = "https://kc.example.org/realms/mail"
            sasl = "oauthbearer"
            imap_host = "mail.example.org"
            imap_port = 993
            client_id = "pushmail"
            "#,
        )
        .unwrap();
        assert_eq!(minimal.redirect_path, "/");
        assert_eq!(minimal.redirect_host, RedirectHost::Ip);
        minimal.validate().unwrap();
        let debug = format!("{p:?}");
        assert!(!debug.contains("shh-its-a-secret"), "{debug}");
    }
}
