//! `pushmail-cli account …`: add, list, password, test, remove.

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use pushmail_core::account_test::{self, Step};
use pushmail_core::config::{OpenTarget, Preview, Protocol};
use pushmail_core::i18n::{I18n, text};
use pushmail_core::{Account, Config, PasswordSource, Security, Store, Timing, secret};
use secrecy::SecretString;

#[derive(Subcommand, Debug)]
pub enum AccountCmd {
    /// Add an account: asks for what is missing, stores the password in the OS keyring, tests
    /// the connection, then saves the configuration.
    Add(AddArgs),
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
    /// Check every step (TCP, TLS, login, capabilities, folders) and say what to fix.
    Test {
        id: String,
        #[arg(long)]
        json: bool,
    },
    /// Remove an account, its keyring entry and its sync state.
    Remove {
        id: String,
        /// State database to clean (default: $XDG_STATE_HOME/pushmail/state.sqlite3).
        #[arg(long, value_name = "FILE")]
        state: Option<PathBuf>,
    },
}

#[derive(Args, Debug, Default)]
pub struct AddArgs {
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
        AccountCmd::Add(args) => add(&i18n, args, config_path).await,
        AccountCmd::List { json } => list(&i18n, config_path, json),
        AccountCmd::Password { id, password_stdin } => {
            let config = Config::load(config_path)?;
            let account = config
                .account(&id)
                .with_context(|| format!("No account `{id}` in {}", config_path.display()))?;
            if let PasswordSource::Command(_) = account.password {
                bail!("account `{id}` gets its password from password_command, not the keyring");
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
            if removed.password == PasswordSource::Keyring {
                secret::delete_password(&id)
                    .await
                    .map_err(|e| with_hint(&i18n, e))?;
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
            println!(
                "{}  {} <{}@{}:{}> {protocol}{} [{}]{off}",
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

async fn add(i18n: &I18n, args: AddArgs, config_path: &Path) -> Result<ExitCode> {
    let mut config = Config::load(config_path)?;
    let p = Prompter {
        interactive: std::io::stdin().is_terminal() && !args.password_stdin,
    };
    let host = match args.host {
        Some(h) => h,
        None => p.ask(&i18n.tr_plain("cli-ask-host", &[]), "--host", None)?,
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
    let password = match &args.password_command {
        Some(cmd) => PasswordSource::Command(
            shell_words::split(cmd).context("Cannot split --password-command")?,
        ),
        None => PasswordSource::Keyring,
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
    if !args.no_test {
        println!("{}", i18n.tr_plain("cli-testing", &[]));
        let report = test(i18n, &account, false).await;
        if !report.ok() {
            if stored_secret {
                // Nothing half-added remains: no config entry, no orphaned keyring entry.
                let _ = secret::delete_password(&id).await;
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
    Ok(ExitCode::SUCCESS)
}
