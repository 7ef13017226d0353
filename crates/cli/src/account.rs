//! `pushmail-cli account …`: add, list, password, test, remove.

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use pushmail_core::account_test::{self, Step};
use pushmail_core::config::{OAuthSettings, OpenTarget, Preview, Protocol};
use pushmail_core::i18n::{I18n, text};
use pushmail_core::oauth::Provider;
use pushmail_core::{Account, Config, PasswordSource, Security, Store, Timing, discover, secret};
use secrecy::SecretString;

#[derive(Subcommand, Debug)]
pub enum AccountCmd {
    /// Add an account: asks for what is missing, stores the password in the OS keyring, tests
    /// the connection, then saves the configuration.
    Add(Box<AddArgs>),
    /// List configured accounts.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Store (or replace) an account's password in the OS keyring.
    Password {
        id: String,
        /// Read the password from standard input instead of prompting.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Sign in to an account that uses the provider's sign-in (`auth = "oauth2"`): opens the
    /// provider's page in your browser when there is a desktop, always prints its address, and
    /// waits for you to approve. The sign-in is kept in the OS keyring.
    #[command(
        after_help = "Exit status: 0 signed in, 1 not signed in (access denied, timed out, a redirect that was not the one expected, no client id…); nothing is stored then."
    )]
    Login {
        id: String,
        /// How long to wait for the browser, in seconds (default 300).
        #[arg(long, value_name = "SECS")]
        timeout: Option<u64>,
    },
    /// Check every step (TCP, TLS, login, capabilities, folders) and say what to fix.
    Test {
        id: String,
        #[arg(long)]
        json: bool,
    },
    /// Remove an account, its keyring entries (password or sign-in) and its sync state.
    Remove {
        id: String,
        /// State database to clean (default: $XDG_STATE_HOME/pushmail/state.sqlite3).
        #[arg(long, value_name = "FILE")]
        state: Option<PathBuf>,
    },
}

#[derive(Args, Debug, Default)]
pub struct AddArgs {
    /// The account's e-mail address: Pushmail looks its settings up (the provider list, the
    /// domain's own configuration, DNS) and shows what it found for you to confirm. Any
    /// setting given as an option below is used as given instead.
    #[arg(value_name = "ADDRESS")]
    address: Option<String>,
    /// Use the settings found for ADDRESS without asking.
    #[arg(long, short = 'y')]
    yes: bool,
    /// Also accept a configuration file served over plain http:// when no https:// one
    /// exists (shown as insecure: it could have been altered on the way).
    #[arg(long)]
    insecure_autoconfig: bool,
    /// Short unique id used in events and commands (letters, digits, - and _).
    #[arg(long)]
    id: Option<String>,
    /// Display name (default: the id).
    #[arg(long)]
    name: Option<String>,
    #[arg(long)]
    email: Option<String>,
    /// imap (default) or pop3 (for a mailbox that offers nothing else: checked every
    /// poll interval, never changed).
    #[arg(long, value_parser = parse_protocol)]
    protocol: Option<Protocol>,
    #[arg(long)]
    host: Option<String>,
    /// Default: 993 for tls, 143 otherwise (POP3: 995 and 110).
    #[arg(long)]
    port: Option<u16>,
    /// tls (default), starttls, or plain (loopback hosts only).
    #[arg(long, value_parser = parse_security)]
    security: Option<Security>,
    #[arg(long)]
    username: Option<String>,
    /// Get the password by running this command (split like a shell would, but run without
    /// one), e.g. "pass show mail/work". Default: the OS keyring.
    #[arg(long, value_name = "COMMAND")]
    password_command: Option<String>,
    /// Read the password for the keyring from standard input, without a prompt.
    #[arg(long)]
    password_stdin: bool,
    /// Extra CA certificate file (PEM) for a self-hosted server.
    #[arg(long, value_name = "FILE")]
    ca_file: Option<PathBuf>,
    /// Folder to watch (repeatable; default INBOX).
    #[arg(long = "folder", value_name = "NAME")]
    folders: Vec<String>,
    /// Save without testing the connection first.
    #[arg(long)]
    no_test: bool,
    /// password (default) or oauth2: sign in at the provider in your browser instead of
    /// giving Pushmail a password (Gmail, Microsoft 365, Outlook.com, Yahoo, AOL, Fastmail).
    #[arg(long, value_parser = ["password", "oauth2"])]
    auth: Option<String>,
    /// With --auth oauth2: google, microsoft, yahoo, aol, fastmail or custom (default: the
    /// one that serves --email's domain).
    #[arg(long, value_name = "NAME")]
    oauth_provider: Option<String>,
    /// Your own registration at the provider (required where Pushmail was built without one).
    #[arg(long, value_name = "ID")]
    oauth_client_id: Option<String>,
    /// The "client secret" some providers give installed apps (Google); not a real secret.
    #[arg(long, value_name = "SECRET")]
    oauth_client_secret: Option<String>,
    /// Microsoft: your organisation's tenant (id or domain) instead of `common`.
    #[arg(long, value_name = "TENANT")]
    oauth_tenant: Option<String>,
    /// Custom provider: the authorization endpoint (https URL).
    #[arg(long, value_name = "URL")]
    oauth_authorization_endpoint: Option<String>,
    /// Custom provider: the token endpoint (https URL).
    #[arg(long, value_name = "URL")]
    oauth_token_endpoint: Option<String>,
    /// Custom provider: a scope to ask for (repeatable).
    #[arg(long = "oauth-scope", value_name = "SCOPE")]
    oauth_scopes: Vec<String>,
    /// Custom provider: its issuer, checked against the redirect's `iss` (RFC 9207).
    #[arg(long, value_name = "URL")]
    oauth_issuer: Option<String>,
    /// With --auth oauth2: save without signing in (sign in later with `account login ID`).
    #[arg(long)]
    no_login: bool,
    /// With --auth oauth2: how long to wait for the browser, in seconds (default 300).
    #[arg(long, value_name = "SECS")]
    timeout: Option<u64>,
}

fn parse_protocol(s: &str) -> Result<Protocol, String> {
    Protocol::ALL
        .into_iter()
        .find(|p| p.as_str().eq_ignore_ascii_case(s))
        .ok_or_else(|| "expected imap or pop3".into())
}

fn parse_security(s: &str) -> Result<Security, String> {
    match s.to_ascii_lowercase().as_str() {
        "tls" => Ok(Security::Tls),
        "starttls" => Ok(Security::Starttls),
        "plain" => Ok(Security::Plain),
        _ => Err("expected tls, starttls or plain".into()),
    }
}

pub async fn run(cmd: AccountCmd, config_path: &Path) -> Result<ExitCode> {
    let i18n = crate::lang::for_config(config_path);
    match cmd {
        AccountCmd::Add(args) => add(&i18n, *args, config_path).await,
        AccountCmd::List { json } => list(&i18n, config_path, json),
        AccountCmd::Password { id, password_stdin } => {
            let config = Config::load(config_path)?;
            let account = config
                .account(&id)
                .with_context(|| format!("No account `{id}` in {}", config_path.display()))?;
            if let PasswordSource::Command(_) = account.password {
                bail!("account `{id}` gets its password from password_command, not the keyring");
            }
            if let PasswordSource::OAuth2(_) = account.password {
                bail!(
                    "{}",
                    i18n.tr_plain("cli-signin-no-password", &[("id", text(&id))])
                );
            }
            let pw = read_password(password_stdin, &password_prompt(&i18n, account))?;
            secret::store_password(&id, pw)
                .await
                .map_err(|e| with_hint(&i18n, e))?;
            println!(
                "{}",
                i18n.tr_plain("cli-password-stored", &[("id", text(&id))])
            );
            Ok(ExitCode::SUCCESS)
        }
        AccountCmd::Login { id, timeout } => {
            let config = Config::load(config_path)?;
            let account = config
                .account(&id)
                .with_context(|| format!("No account `{id}` in {}", config_path.display()))?;
            Ok(crate::signin::login(&i18n, account, login_timeout(timeout)).await)
        }
        AccountCmd::Test { id, json } => {
            let config = Config::load(config_path)?;
            let account = config
                .account(&id)
                .with_context(|| format!("No account `{id}` in {}", config_path.display()))?;
            let report = test(&i18n, account, json).await;
            if json {
                println!("{}", serde_json::to_string(&report)?);
            }
            Ok(if report.ok() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
        AccountCmd::Remove { id, state } => {
            let mut config = Config::load(config_path)?;
            let Some(pos) = config.accounts.iter().position(|a| a.id == id) else {
                bail!("No account `{id}` in {}", config_path.display());
            };
            let removed = config.accounts.remove(pos);
            config.save(config_path)?;
            match removed.password {
                PasswordSource::Keyring => secret::delete_password(&id)
                    .await
                    .map_err(|e| with_hint(&i18n, e))?,
                PasswordSource::OAuth2(_) => secret::delete_refresh_token(&id)
                    .await
                    .map_err(|e| with_hint(&i18n, e))?,
                PasswordSource::Command(_) | PasswordSource::Vault => {}
            }
            let state = match state {
                Some(p) => p,
                None => Store::default_path()?,
            };
            if state.exists() {
                Store::open(&state)?.forget_account(&id)?;
            }
            println!(
                "{}",
                i18n.tr_plain("cli-account-removed", &[("id", text(&id))])
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// `--timeout SECS`, or the sign-in's default (five minutes).
fn login_timeout(secs: Option<u64>) -> std::time::Duration {
    secs.map_or(pushmail_core::oauth::DEFAULT_SIGNIN_TIMEOUT, |s| {
        std::time::Duration::from_secs(s.max(1))
    })
}

/// The keyring's error and what to do, in the reader's language.
fn with_hint(i18n: &I18n, e: secret::SecretError) -> anyhow::Error {
    anyhow::anyhow!("{}. {}", e.message_in(i18n), e.hint_in(i18n))
}

fn password_prompt(i18n: &I18n, account: &Account) -> String {
    format!(
        "{} ",
        i18n.tr_plain(
            "cli-ask-password",
            &[
                ("user", text(&account.username)),
                ("host", text(&account.host))
            ]
        )
    )
}

fn list(i18n: &I18n, config_path: &Path, json: bool) -> Result<ExitCode> {
    let config = Config::load(config_path)?;
    if json {
        let rows: Vec<serde_json::Value> = config
            .accounts
            .iter()
            .map(|a| {
                serde_json::json!({
                    "id": a.id, "name": a.name, "email": a.email, "protocol": a.protocol.as_str(),
                    "host": a.host, "port": a.port,
                    "security": a.security.to_string(), "username": a.username,
                    "folders": a.folders, "enabled": a.enabled,
                    "auth": match &a.password {
                        PasswordSource::OAuth2(_) => "oauth2",
                        _ => "password",
                    },
                    "oauth_provider": match &a.password {
                        PasswordSource::OAuth2(s) => Some(s.provider.as_str()),
                        _ => None,
                    },
                })
            })
            .collect();
        println!("{}", serde_json::to_string(&rows)?);
    } else if config.accounts.is_empty() {
        println!("{}", i18n.tr_plain("cli-no-accounts", &[]));
    } else {
        for a in &config.accounts {
            let off = if a.enabled {
                String::new()
            } else {
                format!(" {}", i18n.tr_plain("cli-account-disabled", &[]))
            };
            // POP3 is said, IMAP (the usual case) is not: the line stays as it always was.
            let protocol = match a.protocol {
                Protocol::Imap => String::new(),
                Protocol::Pop3 => format!("{} ", a.protocol),
            };
            // A sign-in account says so; a password account stays as it always was.
            let signin = match &a.password {
                PasswordSource::OAuth2(s) => format!(
                    " {}",
                    i18n.tr_plain("cli-account-signin", &[("provider", text(&s.provider))])
                ),
                _ => String::new(),
            };
            println!(
                "{}  {} <{}@{}:{}> {protocol}{} [{}]{signin}{off}",
                a.id,
                a.name,
                a.username,
                a.host,
                a.port,
                a.security,
                a.folders.join(", ")
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Prints each step as it completes (and nothing else when `quiet`). Details, hints and the
/// strategy are in the reader's language, in the report too (`--json`); step ids are not.
async fn test(i18n: &I18n, account: &Account, quiet: bool) -> account_test::Report {
    let report = account_test::test_account_in(account, i18n, |s: &Step| {
        if !quiet {
            let mark = if s.ok { "ok  " } else { "FAIL" };
            println!("{mark} {:<12} {} ({} ms)", s.step, s.detail, s.millis);
            if let Some(h) = &s.hint {
                println!("     → {h}");
            }
        }
    })
    .await;
    if !quiet && report.ok() {
        println!(
            "{}",
            i18n.tr_plain("cli-strategy", &[("strategy", text(&report.strategy))])
        );
    }
    report
}

struct Prompter {
    interactive: bool,
}

impl Prompter {
    fn ask(&self, label: &str, flag: &str, default: Option<&str>) -> Result<String> {
        if !self.interactive {
            return match default {
                Some(d) => Ok(d.to_owned()),
                None => bail!(
                    "{flag} is required (standard input is not a terminal, so Pushmail cannot ask)"
                ),
            };
        }
        loop {
            match default {
                Some(d) if !d.is_empty() => print!("{label} [{d}]: "),
                _ => print!("{label}: "),
            }
            std::io::stdout().flush()?;
            let mut line = String::new();
            if std::io::stdin().lock().read_line(&mut line)? == 0 {
                bail!("input ended");
            }
            let line = line.trim();
            if !line.is_empty() {
                return Ok(line.to_owned());
            }
            if let Some(d) = default {
                return Ok(d.to_owned());
            }
        }
    }
}

fn read_password(from_stdin: bool, prompt: &str) -> Result<SecretString> {
    let pw = if from_stdin {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .context("Reading the password from standard input")?;
        line.trim_end_matches(['\r', '\n']).to_owned()
    } else {
        if !std::io::stdin().is_terminal() {
            bail!(
                "no terminal to ask for the password: use --password-stdin or --password-command"
            );
        }
        rpassword::prompt_password(prompt).context("Reading the password")?
    };
    if pw.is_empty() {
        bail!("the password is empty");
    }
    Ok(SecretString::from(pw))
}

/// `--auth oauth2` and its `--oauth-*` flags as the account's sign-in settings; `None` for a
/// password account. The provider, when not given, is the one serving the address's domain.
fn oauth_settings(args: &AddArgs) -> Result<Option<OAuthSettings>> {
    let custom_flags = args.oauth_provider.is_some()
        || args.oauth_client_id.is_some()
        || args.oauth_tenant.is_some()
        || args.oauth_authorization_endpoint.is_some()
        || args.oauth_token_endpoint.is_some()
        || !args.oauth_scopes.is_empty()
        || args.oauth_issuer.is_some();
    match args.auth.as_deref() {
        Some("oauth2") => {}
        _ if custom_flags => bail!("the --oauth-* options need --auth oauth2"),
        _ => return Ok(None),
    }
    if args.password_command.is_some() || args.password_stdin {
        bail!(
            "an account that signs in (--auth oauth2) has no password: drop --password-command and --password-stdin"
        );
    }
    let provider = match &args.oauth_provider {
        Some(p) => p.to_ascii_lowercase(),
        None => args
            .email
            .as_deref()
            .or(args.username.as_deref())
            .and_then(Provider::for_address)
            .map(|p| p.name)
            .context(
                "--oauth-provider is required: google, microsoft, yahoo, aol, fastmail or custom",
            )?,
    };
    Ok(Some(OAuthSettings {
        provider,
        tenant: args.oauth_tenant.clone(),
        client_id: args.oauth_client_id.clone(),
        client_secret: args.oauth_client_secret.clone(),
        authorization_endpoint: args.oauth_authorization_endpoint.clone(),
        token_endpoint: args.oauth_token_endpoint.clone(),
        scopes: (!args.oauth_scopes.is_empty()).then(|| args.oauth_scopes.clone()),
        issuer: args.oauth_issuer.clone(),
        sasl: None,
    }))
}

async fn add(i18n: &I18n, mut args: AddArgs, config_path: &Path) -> Result<ExitCode> {
    let mut config = Config::load(config_path)?;
    let p = Prompter {
        interactive: std::io::stdin().is_terminal() && !args.password_stdin,
    };
    let found = match &args.address {
        Some(address) if args.host.is_none() => {
            let found = discover_and_confirm(i18n, address, &args, &p).await?;
            let Some(found) = found else {
                eprintln!("{}", i18n.tr_plain("cli-discover-declined", &[]));
                return Ok(ExitCode::FAILURE);
            };
            fill_from(&mut args, &found, &config);
            Some(found)
        }
        Some(address) => {
            args.email.get_or_insert_with(|| address.trim().to_owned());
            None
        }
        None => None,
    };
    let oauth = oauth_settings(&args)?;
    // A built-in provider knows its IMAP server.
    let known_host = oauth
        .as_ref()
        .and_then(|s| Provider::builtin(&s.provider))
        .map(|p| p.imap_host);
    let host = match args.host {
        Some(h) => h,
        None if known_host.is_some() && !p.interactive => known_host.unwrap_or_default(),
        None => p.ask(
            &i18n.tr_plain("cli-ask-host", &[]),
            "--host",
            known_host.as_deref(),
        )?,
    };
    let security = match args.security {
        Some(s) => s,
        None if p.interactive => parse_security(&p.ask(
            &i18n.tr_plain("cli-ask-security", &[]),
            "--security",
            Some("tls"),
        )?)
        .map_err(anyhow::Error::msg)?,
        None => Security::Tls,
    };
    let protocol = args.protocol.unwrap_or_default();
    let default_port = protocol.default_port(security);
    let port = match args.port {
        Some(port) => port,
        None if p.interactive => p
            .ask(
                &i18n.tr_plain("cli-ask-port", &[]),
                "--port",
                Some(&default_port.to_string()),
            )?
            .parse()
            .context("The port must be a number")?,
        None => default_port,
    };
    let username = match args.username {
        Some(u) => u,
        None => p.ask(&i18n.tr_plain("cli-ask-username", &[]), "--username", None)?,
    };
    let email = match args.email {
        Some(e) => Some(e),
        None if p.interactive => Some(p.ask(
            &i18n.tr_plain("cli-ask-email", &[]),
            "--email",
            Some(&username),
        )?),
        None => None,
    };
    let suggested = host
        .split('.')
        .find(|s| !s.eq_ignore_ascii_case("imap") && !s.eq_ignore_ascii_case("mail"))
        .unwrap_or("mail")
        .to_owned();
    let id = match args.id {
        Some(id) => id,
        None => p.ask(
            &i18n.tr_plain("cli-ask-id", &[]),
            "--id",
            if p.interactive {
                Some(&suggested)
            } else {
                None
            },
        )?,
    };
    if let Err(taken) = config.check_new_id(&id) {
        bail!(taken.message_in(i18n));
    }
    let password = match (&oauth, &args.password_command) {
        (Some(settings), _) => PasswordSource::OAuth2(Box::new(settings.clone())),
        (None, Some(cmd)) => PasswordSource::Command(
            shell_words::split(cmd).context("Cannot split --password-command")?,
        ),
        (None, None) => PasswordSource::Keyring,
    };
    let account = Account {
        name: args.name.unwrap_or_else(|| id.clone()),
        id: id.clone(),
        email,
        protocol,
        host,
        port,
        security,
        username,
        password,
        ca_file: args.ca_file.map(|p| std::path::absolute(&p).unwrap_or(p)),
        folders: if args.folders.is_empty() {
            vec!["INBOX".to_owned()]
        } else {
            args.folders
        },
        enabled: true,
        timing: Timing::default(),
        mute: false,
        preview: Preview::default(),
        open: OpenTarget::default(),
    };
    let mut account = account;
    if let Some(found) = &found {
        // The provider's push facts (a shorter IDLE refresh) and its webmail as what "Open"
        // opens, as Settings applies them.
        let proposed = found.account(&account.id, None);
        account.timing = proposed.timing;
        account.open = proposed.open;
    }
    let mut candidate = config.clone();
    candidate.accounts.push(account.clone());
    candidate.validate()?;

    let stored_secret = account.password == PasswordSource::Keyring;
    if stored_secret {
        let pw = read_password(args.password_stdin, &password_prompt(i18n, &account))?;
        secret::store_password(&id, pw)
            .await
            .map_err(|e| with_hint(i18n, e))?;
    }
    let signs_in = oauth.is_some();
    let mut signed_in = false;
    if signs_in && !args.no_login {
        if let Err(f) = crate::signin::sign_in(i18n, &account, login_timeout(args.timeout)).await {
            eprintln!("error: {}", i18n.tr_plain("cli-account-not-saved", &[]));
            return Ok(f.report());
        }
        signed_in = true;
    }
    // Without a sign-in there is no token to test the connection with.
    if !args.no_test && (!signs_in || signed_in) {
        println!("{}", i18n.tr_plain("cli-testing", &[]));
        let report = test(i18n, &account, false).await;
        if !report.ok() {
            if stored_secret {
                // Nothing half-added remains: no config entry, no orphaned keyring entry.
                let _ = secret::delete_password(&id).await;
            }
            if signed_in {
                let _ = secret::delete_refresh_token(&id).await;
            }
            eprintln!("error: {}", i18n.tr_plain("cli-account-not-saved", &[]));
            return Ok(ExitCode::FAILURE);
        }
    }
    config = candidate;
    config.save(config_path)?;
    println!(
        "{}",
        i18n.tr_plain(
            "cli-account-saved",
            &[
                ("id", text(&id)),
                ("path", text(&config_path.display().to_string()))
            ]
        )
    );
    if signs_in && !signed_in {
        println!(
            "{}",
            i18n.tr_plain("cli-signin-later", &[("id", text(&id))])
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Looks `address`'s settings up, printing where it looks, then what it found; asks to
/// confirm (or takes `--yes`). `Ok(None)`: the user declined.
async fn discover_and_confirm(
    i18n: &I18n,
    address: &str,
    args: &AddArgs,
    p: &Prompter,
) -> Result<Option<discover::Found>> {
    let opts = discover::Options {
        allow_http: args.insecure_autoconfig,
        ..discover::Options::default()
    };
    let result = discover::discover(address, &opts, |step| {
        eprintln!("{}", strip_isolates(&step.describe_in(i18n)));
    })
    .await;
    let found = match result {
        Ok(found) => found,
        Err(e) => {
            if let discover::DiscoverError::NotFound { notes, .. } = &e {
                for note in notes {
                    eprintln!("  {note}");
                }
            }
            bail!("{}", strip_isolates(&e.message_in(i18n)));
        }
    };
    let domain = &found.address.domain_display;
    let security = match found.security {
        Security::Tls => "TLS",
        Security::Starttls => "STARTTLS",
        Security::Plain => "plain",
    };
    let protocol = match found.protocol {
        Protocol::Imap => String::new(),
        Protocol::Pop3 => " POP3".to_owned(),
    };
    println!(
        "{}",
        i18n.tr_plain(
            "cli-discover-found",
            &[
                ("address", text(&found.address.address)),
                (
                    "source",
                    text(&strip_isolates(&found.source.describe_in(i18n, domain)))
                ),
            ]
        )
    );
    println!(
        "  {}",
        i18n.tr_plain(
            "cli-discover-server",
            &[
                (
                    "server",
                    text(&format!("{}:{}{protocol}", found.host, found.port))
                ),
                ("security", text(security)),
            ]
        )
    );
    println!(
        "  {}",
        i18n.tr_plain(
            "cli-discover-user",
            &[
                ("user", text(&found.username)),
                (
                    "login",
                    text(&strip_isolates(&found.login.describe_in(i18n)))
                ),
            ]
        )
    );
    for w in &found.warnings {
        println!(
            "  {}",
            i18n.tr_plain(
                "cli-discover-check",
                &[(
                    "warning",
                    text(&strip_isolates(&w.describe_in(i18n, domain)))
                )]
            )
        );
    }
    if let Some(note) = found.provider.and_then(|p| p.note) {
        let name = found.provider.map_or("", |p| p.name);
        println!("  {}", i18n.tr_plain(note, &[("provider", text(name))]));
    }
    if args.yes {
        return Ok(Some(found));
    }
    if !p.interactive {
        bail!("{}", i18n.tr_plain("cli-discover-needs-yes", &[]));
    }
    // Enter or yes accepts, no declines, the end of input declines (the next step sends the
    // password to that server), anything else asks again.
    loop {
        print!("{} ", i18n.tr_plain("cli-discover-confirm", &[]));
        std::io::stdout().flush()?;
        let mut line = String::new();
        if std::io::stdin().lock().read_line(&mut line)? == 0 {
            return Ok(None);
        }
        let answer = line.trim().to_lowercase();
        if ["", "y", "yes", "s", "si", "sì", "是", "好", "نعم"].contains(&answer.as_str()) {
            return Ok(Some(found));
        }
        if ["n", "no", "否", "不", "لا"].contains(&answer.as_str()) {
            return Ok(None);
        }
    }
}

/// The settings found, as if given with the options (those given stay as given); the id is
/// derived from the address when none was given.
fn fill_from(args: &mut AddArgs, found: &discover::Found, config: &Config) {
    args.email
        .get_or_insert_with(|| found.address.address.clone());
    args.protocol.get_or_insert(found.protocol);
    args.host.get_or_insert_with(|| found.host.clone());
    // Port and security go together: one given without the other takes its partner from
    // the protocol's defaults (`--security starttls` → 143), not from what was found (993).
    match (args.port, args.security) {
        (None, None) => {
            args.port = Some(found.port);
            args.security = Some(found.security);
        }
        (Some(_), None) => {
            let protocol = args.protocol.unwrap_or_default();
            args.security = Some(
                [Security::Tls, Security::Starttls]
                    .into_iter()
                    .find(|s| Some(protocol.default_port(*s)) == args.port)
                    .unwrap_or(found.security),
            );
        }
        (None, Some(security)) => {
            args.port = Some(args.protocol.unwrap_or_default().default_port(security));
        }
        (Some(_), Some(_)) => {}
    }
    args.username.get_or_insert_with(|| found.username.clone());
    if let discover::Login::OAuth2 { provider } = &found.login
        && args.auth.is_none()
        && args.password_command.is_none()
        && !args.password_stdin
    {
        args.auth = Some("oauth2".into());
        args.oauth_provider.get_or_insert_with(|| provider.clone());
    }
    if args.id.is_none() {
        args.id = Some(config.id_for_address(&found.address.local, &found.address.domain));
    }
}

/// Fluent's bidi isolation marks are for widgets that render them; a terminal shows them as
/// stray characters.
fn strip_isolates(s: &str) -> String {
    s.replace(['\u{2068}', '\u{2069}'], "")
}
