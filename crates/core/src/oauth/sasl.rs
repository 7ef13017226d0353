//! Presenting an access token to IMAP: the SASL initial responses of `OAUTHBEARER` (RFC 7628)
//! and `XOAUTH2` (Google's, which Microsoft documents alone), and what to do with the server's
//! error challenge. Pure functions; the IMAP login sends what they return.
//!
//! Both responses carry the token, so they are built in and returned as [`SecretString`]:
//! redacted in any `Debug`, and the login scrubs them (raw and base64) from a server's echo
//! the way it scrubs the password and the SASL PLAIN blob.
//!
//! After a refused token the server does not answer with a tagged `NO` at once: it sends a
//! continuation `+ <base64 JSON>` ({"status":"invalid_token","scope":…}) and waits. The client
//! must answer it — with an empty line for XOAUTH2, with `AQ==` (a single 0x01, RFC 7628
//! §3.2.3) for OAUTHBEARER — and only then gets the tagged `NO`; a client that waits for the
//! `NO` first hangs the login (verified against Dovecot 2.3).

use base64::Engine as _;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

/// A SASL mechanism that carries an OAuth 2.0 bearer token.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SaslMechanism {
    /// RFC 7628, the standard one (`AUTH=OAUTHBEARER`).
    #[serde(rename = "oauthbearer")]
    OAuthBearer,
    /// Google's `XOAUTH2`, the one Microsoft and older servers offer.
    #[serde(rename = "xoauth2")]
    XOAuth2,
}

impl SaslMechanism {
    /// The name in `AUTHENTICATE` and in `AUTH=` capabilities.
    pub fn name(self) -> &'static str {
        match self {
            SaslMechanism::OAuthBearer => "OAUTHBEARER",
            SaslMechanism::XOAuth2 => "XOAUTH2",
        }
    }

    /// The line to send after an error challenge to get the server's tagged `NO`: empty for
    /// XOAUTH2, `AQ==` (base64 of 0x01, the `kvsep` RFC 7628 §3.2.3 asks for) for OAUTHBEARER.
    pub fn error_challenge_reply(self) -> &'static str {
        match self {
            SaslMechanism::OAuthBearer => "AQ==",
            SaslMechanism::XOAuth2 => "",
        }
    }
}

/// Which mechanism to use with a server that advertised `capabilities` (IMAP atoms such as
/// `AUTH=XOAUTH2`, any case): the provider's `preferred` when offered, else the other, else
/// none.
pub fn choose_mechanism(
    capabilities: &[String],
    preferred: SaslMechanism,
) -> Option<SaslMechanism> {
    let offered = |m: SaslMechanism| {
        capabilities
            .iter()
            .any(|c| c.eq_ignore_ascii_case(&format!("AUTH={}", m.name())))
    };
    let other = match preferred {
        SaslMechanism::OAuthBearer => SaslMechanism::XOAuth2,
        SaslMechanism::XOAuth2 => SaslMechanism::OAuthBearer,
    };
    [preferred, other].into_iter().find(|&m| offered(m))
}

/// Why an initial response was not built: sending it would let a user name or a token change
/// the message's structure (a 0x01 or a comma where the grammar has separators).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SaslError {
    #[error("the user name contains a control character")]
    BadUser,
    #[error("the access token is not a bearer token (RFC 6750 b64token)")]
    BadToken,
    #[error("the server host name contains a control character")]
    BadHost,
}

/// RFC 6750 §2.1 `b64token`: `1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="`.
fn is_b64token(token: &str) -> bool {
    let body = token.trim_end_matches('=');
    !body.is_empty()
        && body
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-._~+/".contains(c))
}

fn check(user: &str, token: &SecretString) -> Result<(), SaslError> {
    if user.is_empty() || user.chars().any(char::is_control) {
        return Err(SaslError::BadUser);
    }
    if !is_b64token(token.expose_secret()) {
        return Err(SaslError::BadToken);
    }
    Ok(())
}

/// The XOAUTH2 initial response, raw: `user=USER ^A auth=Bearer TOKEN ^A ^A`.
pub fn xoauth2(user: &str, token: &SecretString) -> Result<SecretString, SaslError> {
    check(user, token)?;
    Ok(SecretString::from(format!(
        "user={user}\x01auth=Bearer {}\x01\x01",
        token.expose_secret()
    )))
}

/// RFC 5801 `saslname`: `=` and `,` escaped as `=3D` and `=2C`.
fn saslname(user: &str) -> String {
    user.replace('=', "=3D").replace(',', "=2C")
}

/// The OAUTHBEARER initial response (RFC 7628 §3.1), raw: the GS2 header `n,a=USER,` (no
/// channel binding, the authorization identity), then `host=`, `port=` and
/// `auth=Bearer TOKEN`, each ended by 0x01, and a final 0x01.
pub fn oauthbearer(
    user: &str,
    host: &str,
    port: u16,
    token: &SecretString,
) -> Result<SecretString, SaslError> {
    check(user, token)?;
    if host.is_empty() || host.chars().any(|c| c.is_control()) {
        return Err(SaslError::BadHost);
    }
    Ok(SecretString::from(format!(
        "n,a={},\x01host={host}\x01port={port}\x01auth=Bearer {}\x01\x01",
        saslname(user),
        token.expose_secret()
    )))
}

/// The initial response of `mechanism`, base64-encoded for `AUTHENTICATE … <ir>` (SASL-IR,
/// RFC 4959) or for the line after the empty continuation.
pub fn initial_response_base64(
    mechanism: SaslMechanism,
    user: &str,
    host: &str,
    port: u16,
    token: &SecretString,
) -> Result<SecretString, SaslError> {
    let raw = match mechanism {
        SaslMechanism::OAuthBearer => oauthbearer(user, host, port, token)?,
        SaslMechanism::XOAuth2 => xoauth2(user, token)?,
    };
    Ok(SecretString::from(
        base64::engine::general_purpose::STANDARD.encode(raw.expose_secret()),
    ))
}

/// What a refused token's challenge says (RFC 7628 §3.2.2; XOAUTH2 sends the same JSON with
/// HTTP-like status numbers).
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
pub struct ErrorChallenge {
    /// `invalid_token`, `insufficient_scope`, … (XOAUTH2: `401`, `403`, `400`).
    #[serde(default)]
    pub status: Option<String>,
    /// The scope the server wants.
    #[serde(default)]
    pub scope: Option<String>,
    /// RFC 7628's `openid-configuration` URL, if the server sent one.
    #[serde(default, rename = "openid-configuration")]
    pub openid_configuration: Option<String>,
}

/// What the refusal means for the account.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChallengeVerdict {
    /// The token is expired or revoked: refresh and log in again (once).
    TokenRejected,
    /// The token lacks the server's scope: only a new sign-in (with consent) can fix that.
    InsufficientScope,
    /// Anything else, or a challenge that did not parse: an authentication failure.
    Other,
}

impl ErrorChallenge {
    pub fn verdict(&self) -> ChallengeVerdict {
        match self.status.as_deref() {
            Some("invalid_token" | "401") => ChallengeVerdict::TokenRejected,
            Some("insufficient_scope" | "403") => ChallengeVerdict::InsufficientScope,
            _ => ChallengeVerdict::Other,
        }
    }
}

/// The largest challenge parsed; a real one is under 200 bytes.
const CHALLENGE_MAX_BYTES: usize = 4096;

/// Parses the text of a `+ …` continuation sent after the initial response: the base64 of a
/// JSON object. Whatever it holds (or if it does not parse), the client answers with
/// [`SaslMechanism::error_challenge_reply`] and then reads the tagged `NO`.
pub fn parse_error_challenge(text: &str) -> Option<ErrorChallenge> {
    let text = text.trim();
    if text.is_empty() || text.len() > CHALLENGE_MAX_BYTES {
        return None;
    }
    let json = base64::engine::general_purpose::STANDARD
        .decode(text)
        .ok()?;
    serde_json::from_slice(&json).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(s: &str) -> String {
        base64::engine::general_purpose::STANDARD.encode(s)
    }

    #[test]
    fn rfc_7628_example_initial_response() {
        // RFC 7628 §4.1, with the token of its example.
        let token = SecretString::from("vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg==");
        let raw = oauthbearer("user@example.com", "server.example.com", 143, &token).unwrap();
        assert_eq!(
            raw.expose_secret(),
            "n,a=user@example.com,\x01host=server.example.com\x01port=143\x01auth=Bearer vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg==\x01\x01"
        );
        let encoded = initial_response_base64(
            SaslMechanism::OAuthBearer,
            "user@example.com",
            "server.example.com",
            143,
            &token,
        )
        .unwrap();
        assert_eq!(encoded.expose_secret(), &b64(raw.expose_secret()));
    }

    #[test]
    fn xoauth2_initial_response_as_google_documents_it() {
        let token = SecretString::from("ya29.vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg");
        let raw = xoauth2("someuser@example.com", &token).unwrap();
        assert_eq!(
            raw.expose_secret(),
            "user=someuser@example.com\x01auth=Bearer ya29.vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg\x01\x01"
        );
        let encoded = initial_response_base64(
            SaslMechanism::XOAuth2,
            "someuser@example.com",
            "",
            0,
            &token,
        )
        .unwrap();
        assert_eq!(encoded.expose_secret(), &b64(raw.expose_secret()));
    }

    #[test]
    fn separators_in_names_are_escaped_or_refused() {
        let token = SecretString::from("abc");
        let raw = oauthbearer("a=b,c", "h", 993, &token).unwrap();
        assert!(raw.expose_secret().starts_with("n,a=a=3Db=2Cc,\x01"));
        for (user, token, err) in [
            ("alice\x01auth=Bearer x", "abc", SaslError::BadUser),
            ("", "abc", SaslError::BadUser),
            ("alice", "abc\x01\x01", SaslError::BadToken),
            ("alice", "abc def", SaslError::BadToken),
            ("alice", "", SaslError::BadToken),
            ("alice", "===", SaslError::BadToken),
        ] {
            let token = SecretString::from(token);
            assert_eq!(xoauth2(user, &token).unwrap_err(), err, "{user:?}");
        }
        assert_eq!(
            oauthbearer("alice", "h\x01x", 1, &SecretString::from("abc")).unwrap_err(),
            SaslError::BadHost
        );
    }

    #[test]
    fn mechanism_choice_follows_the_provider_then_the_server() {
        let caps = |c: &[&str]| c.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        use SaslMechanism::*;
        for (offered, preferred, chosen) in [
            (
                caps(&["AUTH=OAUTHBEARER", "AUTH=XOAUTH2"]),
                OAuthBearer,
                Some(OAuthBearer),
            ),
            (
                caps(&["AUTH=OAUTHBEARER", "AUTH=XOAUTH2"]),
                XOAuth2,
                Some(XOAuth2),
            ),
            (caps(&["auth=xoauth2"]), OAuthBearer, Some(XOAuth2)),
            (caps(&["AUTH=OAUTHBEARER"]), XOAuth2, Some(OAuthBearer)),
            (caps(&["AUTH=PLAIN", "IMAP4rev1"]), OAuthBearer, None),
        ] {
            assert_eq!(choose_mechanism(&offered, preferred), chosen, "{offered:?}");
        }
    }

    #[test]
    fn error_challenges_and_their_replies() {
        use ChallengeVerdict::*;
        for (json, verdict, scope) in [
            (
                r#"{"status":"invalid_token","scope":"example_scope","openid-configuration":"https://example.com/.well-known/openid-configuration"}"#,
                TokenRejected,
                Some("example_scope"),
            ),
            (
                r#"{"status":"401","schemes":"bearer","scope":"https://mail.google.com/"}"#,
                TokenRejected,
                Some("https://mail.google.com/"),
            ),
            (
                r#"{"status":"insufficient_scope"}"#,
                InsufficientScope,
                None,
            ),
            (r#"{"status":"400"}"#, Other, None),
        ] {
            let parsed = parse_error_challenge(&b64(json)).unwrap();
            assert_eq!(parsed.verdict(), verdict, "{json}");
            assert_eq!(parsed.scope.as_deref(), scope);
        }
        let rfc = parse_error_challenge(&b64(
            r#"{"status":"invalid_token","openid-configuration":"https://x/.well-known/openid-configuration"}"#,
        ))
        .unwrap();
        assert!(rfc.openid_configuration.is_some());
        for junk in ["", "not base64!", &b64("not json"), &"A".repeat(10_000)] {
            assert_eq!(parse_error_challenge(junk), None, "{junk:.20}");
        }
        // The reply that gets the tagged NO instead of a hung login.
        assert_eq!(SaslMechanism::XOAuth2.error_challenge_reply(), "");
        assert_eq!(SaslMechanism::OAuthBearer.error_challenge_reply(), "AQ==");
        assert_eq!(
            base64::engine::general_purpose::STANDARD
                .decode(SaslMechanism::OAuthBearer.error_challenge_reply())
                .unwrap(),
            [1u8]
        );
    }

    #[test]
    fn debug_of_a_response_shows_no_token() {
        let token = SecretString::from("tok-tok-tok-1234");
        let raw = xoauth2("alice", &token).unwrap();
        let b = initial_response_base64(SaslMechanism::XOAuth2, "alice", "", 0, &token).unwrap();
        let shown = format!("{raw:?} {b:?}");
        assert!(!shown.contains("tok-tok"), "{shown}");
        assert!(!shown.contains(b.expose_secret()), "{shown}");
    }
}
