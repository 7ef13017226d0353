//! The authorization request of the code flow for native apps (RFC 8252), and the pure check
//! of what the browser brings back to the redirect URI.
//!
//! The request carries a PKCE S256 challenge (RFC 7636: a code intercepted on the way back —
//! by another app on the loopback port, by a browser extension — is useless without the
//! verifier, which never leaves this process) and a random `state` (RFC 6749 §10.12: a redirect
//! this process did not start is refused). The answer is checked in a fixed order: the path,
//! then `state` (an answer to someone else's request is not read further), then `iss` where the
//! provider declares an issuer (RFC 9207, the mix-up defence), then `error=`, then the code.

use oauth2::url::Url;
use oauth2::{CsrfToken, PkceCodeChallenge, PkceCodeVerifier};
use secrecy::{ExposeSecret, SecretString};

use super::provider::Provider;
use super::{OAuthError, RedirectProblem};
use crate::error::words;

/// Choices of the authorization request beyond the provider's data.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AuthorizationOptions {
    /// The address being signed in: the provider pre-fills it (`login_hint`) or picks the
    /// right one of the browser's signed-in accounts.
    pub login_hint: Option<String>,
    /// `prompt=consent`: show the consent page even when the user approved before. Some
    /// servers (oidc-provider) issue a refresh token only then; it is also the way to get a
    /// scope that is missing from an earlier grant.
    pub prompt_consent: bool,
}

/// The URL to open in the browser, and what must be kept to check and finish the answer.
#[derive(Debug)]
pub struct AuthorizationRequest {
    pub url: Url,
    pub pending: PendingAuthorization,
}

/// What this process remembers of a sign-in in progress. `Debug` shows neither the state nor
/// the verifier.
pub struct PendingAuthorization {
    state: SecretString,
    verifier: PkceCodeVerifier,
    redirect_uri: String,
    issuer: Option<String>,
    require_iss: bool,
}

impl std::fmt::Debug for PendingAuthorization {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PendingAuthorization")
            .field("redirect_uri", &self.redirect_uri)
            .field("issuer", &self.issuer)
            .finish_non_exhaustive()
    }
}

impl PendingAuthorization {
    pub fn redirect_uri(&self) -> &str {
        &self.redirect_uri
    }

    /// The `state` and the PKCE verifier, for a service whose redirect may reach another of
    /// its processes (the relay keeps them sealed in its database until the browser is back).
    /// Secrets: keep them as such.
    pub fn secrets(&self) -> (SecretString, SecretString) {
        (
            self.state.clone(),
            SecretString::from(self.verifier.secret().clone()),
        )
    }

    /// A pending authorization again from [`secrets`](Self::secrets), for the same provider
    /// and redirect URI as the request it was made for.
    pub fn resume(
        provider: &Provider,
        redirect_uri: &str,
        state: SecretString,
        verifier: SecretString,
    ) -> PendingAuthorization {
        PendingAuthorization {
            state,
            verifier: PkceCodeVerifier::new(verifier.expose_secret().to_owned()),
            redirect_uri: redirect_uri.to_owned(),
            issuer: provider.issuer.clone(),
            require_iss: provider.require_iss,
        }
    }

    /// The PKCE verifier, for the code exchange.
    pub(crate) fn verifier(&self) -> PkceCodeVerifier {
        PkceCodeVerifier::new(self.verifier.secret().clone())
    }

    /// Only for tests that play the authorization server.
    #[cfg(test)]
    pub(crate) fn state_for_test(&self) -> String {
        self.state.expose_secret().to_owned()
    }

    #[cfg(test)]
    pub(crate) fn verifier_for_test(&self) -> String {
        self.verifier.secret().clone()
    }
}

/// An authorization code, the one-time result of the browser part.
pub struct AuthorizationCode(pub(crate) SecretString);

impl std::fmt::Debug for AuthorizationCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AuthorizationCode([REDACTED])")
    }
}

impl AuthorizationCode {
    pub fn secret(&self) -> &SecretString {
        &self.0
    }
}

/// Builds the authorization request for `provider`, answered at `redirect_uri` (the loopback
/// listener's, [`super::LoopbackListener::redirect_uri`]).
pub fn request(
    provider: &Provider,
    redirect_uri: &str,
    options: &AuthorizationOptions,
) -> Result<AuthorizationRequest, OAuthError> {
    provider.validate()?;
    let bad = |what: String| OAuthError::BadProvider {
        provider: provider.name.clone(),
        what,
    };
    let mut url = Url::parse(&provider.authorization_endpoint)
        .map_err(|e| bad(format!("authorization_endpoint: {e}")))?;
    // 32 random bytes each, base64url (the oauth2 crate's generators: OsRng-seeded).
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let state = CsrfToken::new_random_len(32);
    {
        let mut query = url.query_pairs_mut();
        query
            .append_pair("response_type", "code")
            .append_pair("client_id", provider.client_id()?)
            .append_pair("redirect_uri", redirect_uri)
            .append_pair("scope", &provider.scopes.join(" "))
            .append_pair("state", state.secret())
            .append_pair("code_challenge", challenge.as_str())
            .append_pair("code_challenge_method", challenge.method().as_str());
        if let Some(hint) = options.login_hint.as_deref().filter(|h| !h.is_empty()) {
            query.append_pair("login_hint", hint);
        }
        if options.prompt_consent {
            query.append_pair("prompt", "consent");
        }
        const OURS: [&str; 9] = [
            "response_type",
            "client_id",
            "redirect_uri",
            "scope",
            "state",
            "code_challenge",
            "code_challenge_method",
            "login_hint",
            "prompt",
        ];
        for (k, v) in &provider.extra_authorization_params {
            if OURS.contains(&k.as_str()) {
                return Err(bad(format!("extra_authorization_params may not set `{k}`")));
            }
            query.append_pair(k, v);
        }
    }
    Ok(AuthorizationRequest {
        url,
        pending: PendingAuthorization {
            state: SecretString::from(state.secret().clone()),
            verifier,
            redirect_uri: redirect_uri.to_owned(),
            issuer: provider.issuer.clone(),
            require_iss: provider.require_iss,
        },
    })
}

/// Compares two strings in time that does not depend on where they differ.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// Checks the query of a request that reached the redirect path. `query`: the part after `?`
/// (`None` when there was none).
pub fn check_redirect(
    pending: &PendingAuthorization,
    query: Option<&str>,
) -> Result<AuthorizationCode, OAuthError> {
    let mut state = None;
    let mut code = None;
    let mut error = None;
    let mut description = None;
    let mut iss = None;
    for (k, v) in oauth2::url::form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
        let slot = match k.as_ref() {
            "state" => &mut state,
            "code" => &mut code,
            "error" => &mut error,
            "error_description" => &mut description,
            "iss" => &mut iss,
            _ => continue,
        };
        // RFC 6749 §3.1: a parameter must not be sent twice; which one would be believed?
        if slot.replace(v.into_owned()).is_some() {
            return Err(OAuthError::redirect(RedirectProblem::Malformed));
        }
    }
    if !state
        .as_deref()
        .is_some_and(|s| same(s, pending.state.expose_secret()))
    {
        return Err(OAuthError::redirect(RedirectProblem::WrongState));
    }
    if let Some(issuer) = &pending.issuer {
        match &iss {
            Some(got) if got != issuer => {
                return Err(OAuthError::redirect(RedirectProblem::WrongIssuer {
                    got: words(got),
                }));
            }
            None if pending.require_iss => {
                return Err(OAuthError::redirect(RedirectProblem::WrongIssuer {
                    got: None,
                }));
            }
            _ => {}
        }
    }
    if let Some(error) = error {
        let problem = if error == "access_denied" {
            RedirectProblem::AccessDenied
        } else {
            RedirectProblem::ProviderError {
                code: crate::text::truncate_for_log(&error),
            }
        };
        return Err(OAuthError::Redirect {
            problem,
            words: description.as_deref().and_then(words),
        });
    }
    match code {
        Some(code) if !code.is_empty() => Ok(AuthorizationCode(SecretString::from(code))),
        _ => Err(OAuthError::redirect(RedirectProblem::NoCode)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oauth::provider::Provider;

    fn provider() -> Provider {
        Provider::builtin("google")
            .unwrap()
            .with_client("client-1".into(), None)
    }

    fn param<'a>(url: &'a Url, key: &str) -> Option<std::borrow::Cow<'a, str>> {
        url.query_pairs().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    #[test]
    fn the_request_carries_pkce_state_and_the_options() {
        let options = AuthorizationOptions {
            login_hint: Some("alice@gmail.com".into()),
            prompt_consent: true,
        };
        let req = request(&provider(), "http://127.0.0.1:4711/", &options).unwrap();
        let url = &req.url;
        assert_eq!(url.host_str(), Some("accounts.google.com"));
        assert_eq!(param(url, "response_type").unwrap(), "code");
        assert_eq!(param(url, "client_id").unwrap(), "client-1");
        assert_eq!(
            param(url, "redirect_uri").unwrap(),
            "http://127.0.0.1:4711/"
        );
        assert_eq!(param(url, "scope").unwrap(), "https://mail.google.com/");
        assert_eq!(param(url, "code_challenge_method").unwrap(), "S256");
        assert_eq!(param(url, "login_hint").unwrap(), "alice@gmail.com");
        assert_eq!(param(url, "prompt").unwrap(), "consent");
        assert_eq!(param(url, "access_type").unwrap(), "offline");
        // The challenge is the S256 of the verifier kept back (RFC 7636 §4.2).
        let verifier = req.pending.verifier_for_test();
        let expected =
            PkceCodeChallenge::from_code_verifier_sha256(&PkceCodeVerifier::new(verifier.clone()));
        assert_eq!(param(url, "code_challenge").unwrap(), expected.as_str());
        assert!(verifier.len() >= 43, "{verifier}");
        assert!(!url.as_str().contains(&verifier));
        // state: random, long, different each time.
        let state = req.pending.state_for_test();
        assert_eq!(param(url, "state").unwrap(), state.as_str());
        assert!(state.len() >= 40);
        let again = request(&provider(), "http://127.0.0.1:4711/", &options).unwrap();
        assert_ne!(again.pending.state_for_test(), state);
        assert_ne!(again.pending.verifier_for_test(), verifier);
        // Without the options, neither parameter is sent.
        let plain = request(
            &provider(),
            "http://127.0.0.1:1/",
            &AuthorizationOptions::default(),
        )
        .unwrap();
        assert!(param(&plain.url, "prompt").is_none());
        assert!(param(&plain.url, "login_hint").is_none());
        // Nothing secret in Debug.
        let debug = format!("{:?}", req.pending);
        assert!(
            !debug.contains(&state) && !debug.contains(&verifier),
            "{debug}"
        );
    }

    #[test]
    fn extra_parameters_cannot_override_ours() {
        let mut p = provider();
        p.extra_authorization_params
            .insert("state".into(), "fixed".into());
        assert!(matches!(
            request(&p, "http://127.0.0.1:1/", &AuthorizationOptions::default()),
            Err(OAuthError::BadProvider { .. })
        ));
        let mut none = provider();
        none.client_id = None;
        assert!(matches!(
            request(
                &none,
                "http://127.0.0.1:1/",
                &AuthorizationOptions::default()
            ),
            Err(OAuthError::NoClientId { .. })
        ));
    }

    fn problem(r: Result<AuthorizationCode, OAuthError>) -> RedirectProblem {
        match r {
            Err(OAuthError::Redirect { problem, .. }) => problem,
            other => panic!("not a redirect problem: {other:?}"),
        }
    }

    #[test]
    fn redirect_answers_are_checked_in_order() {
        let mut p = provider();
        let req = request(&p, "http://127.0.0.1:1/", &AuthorizationOptions::default()).unwrap();
        let s = req.pending.state_for_test();
        let iss = "https%3A%2F%2Faccounts.google.com";
        let ok =
            check_redirect(&req.pending, Some(&format!("state={s}&code=abc&iss={iss}"))).unwrap();
        assert_eq!(ok.secret().expose_secret(), "abc");
        // `iss` absent is accepted where the provider does not require it (Google's table).
        check_redirect(&req.pending, Some(&format!("code=abc&state={s}"))).unwrap();
        use RedirectProblem::*;
        for (query, expected) in [
            (format!("state=x{s}&code=abc"), WrongState),
            ("code=abc".to_owned(), WrongState),
            (String::new(), WrongState),
            // An error with someone else's state is someone else's.
            ("error=access_denied&state=nope".to_owned(), WrongState),
            (
                format!("state={s}&code=abc&iss=https%3A%2F%2Fevil.example"),
                WrongIssuer {
                    got: Some("https://evil.example".into()),
                },
            ),
            (format!("state={s}&error=access_denied"), AccessDenied),
            (
                format!("state={s}&error=server_error&error_description=busy"),
                ProviderError {
                    code: "server_error".into(),
                },
            ),
            (format!("state={s}"), NoCode),
            (format!("state={s}&code="), NoCode),
            (format!("state={s}&code=a&code=b"), Malformed),
            (format!("state={s}&state={s}&code=a"), Malformed),
        ] {
            assert_eq!(
                problem(check_redirect(&req.pending, Some(&query))),
                expected,
                "{query}"
            );
        }
        assert_eq!(problem(check_redirect(&req.pending, None)), WrongState);
        // The provider's words come along, capped.
        match check_redirect(
            &req.pending,
            Some(&format!(
                "state={s}&error=access_denied&error_description=The+user+said+no"
            )),
        ) {
            Err(OAuthError::Redirect { words, .. }) => {
                assert_eq!(words.as_deref(), Some("The user said no"))
            }
            other => panic!("{other:?}"),
        }
        // A provider that declares iss support: a missing iss is refused.
        p.require_iss = true;
        let strict = request(&p, "http://127.0.0.1:1/", &AuthorizationOptions::default()).unwrap();
        let s = strict.pending.state_for_test();
        assert_eq!(
            problem(check_redirect(
                &strict.pending,
                Some(&format!("state={s}&code=a"))
            )),
            WrongIssuer { got: None }
        );
        // A provider without an issuer ignores iss (it has nothing to compare with).
        let ms = Provider::builtin("microsoft")
            .unwrap()
            .with_client("c".into(), None);
        let req = request(&ms, "http://localhost:1/", &AuthorizationOptions::default()).unwrap();
        let s = req.pending.state_for_test();
        check_redirect(
            &req.pending,
            Some(&format!("state={s}&code=a&iss=whatever")),
        )
        .unwrap();
    }
}
