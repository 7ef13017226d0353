//! The interactive sign-in in one value: open the listener, build the URL, and — once the
//! caller has opened the URL in the user's browser (and shown it, for a browser elsewhere) —
//! wait for the redirect and exchange the code.
//!
//! ```ignore
//! let signin = SignIn::start(provider, &AuthorizationOptions { login_hint, prompt_consent: false }).await?;
//! open_in_browser(signin.url());           // the front end's job; also print/show the URL
//! let tokens = signin.finish(&token_client, &page, DEFAULT_SIGNIN_TIMEOUT).await?;
//! // store tokens.refresh in the keyring, then hand tokens to the account's AccountTokens
//! ```

use std::time::Duration;

use oauth2::url::Url;

use super::OAuthError;
use super::authorization::{self, AuthorizationOptions, AuthorizationRequest};
use super::provider::Provider;
use super::rfc8252_loopback::{LoopbackListener, RedirectPage};
use super::token::{TokenClient, Tokens};

/// A sign-in in progress: the listener is open from [`SignIn::start`] until [`SignIn::finish`]
/// returns or the value is dropped (cancelling the sign-in closes the port).
#[derive(Debug)]
pub struct SignIn {
    provider: Provider,
    listener: LoopbackListener,
    request: AuthorizationRequest,
}

impl SignIn {
    /// Opens the loopback listener and builds the authorization URL for it.
    pub async fn start(
        provider: Provider,
        options: &AuthorizationOptions,
    ) -> Result<SignIn, OAuthError> {
        provider.validate()?;
        let listener =
            LoopbackListener::bind(provider.redirect_host, &provider.redirect_path).await?;
        let request = authorization::request(&provider, listener.redirect_uri(), options)?;
        Ok(SignIn {
            provider,
            listener,
            request,
        })
    }

    /// The URL to open in the user's browser. It holds no secret (PKCE sends only the
    /// challenge), so it may be shown and copied.
    pub fn url(&self) -> &Url {
        &self.request.url
    }

    pub fn redirect_uri(&self) -> &str {
        self.listener.redirect_uri()
    }

    /// Waits up to `timeout` for the browser, answers it with `page`, and exchanges the code.
    /// The tokens' `refresh` is `None` when the provider issued no refresh token (a missing
    /// `offline_access`, or a server that wants `prompt=consent` for one): the caller decides
    /// whether an account can live with that.
    pub async fn finish(
        self,
        client: &TokenClient,
        page: &RedirectPage,
        timeout: Duration,
    ) -> Result<Tokens, OAuthError> {
        let code = self
            .listener
            .wait(&self.request.pending, page, timeout)
            .await?;
        client
            .exchange_code(&self.provider, &self.request.pending, code)
            .await
    }
}
