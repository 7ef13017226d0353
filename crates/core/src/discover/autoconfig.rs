//! Thunderbird's autoconfiguration file (`config-v1.1.xml`, described by the IETF mailmaint
//! autoconfig draft): the incoming servers it lists, read safely and checked before use.
//!
//! The file comes from a web server Pushmail does not trust, so the reader is strict where it
//! matters: a document with a DTD is refused outright (no internal subset, so no entity
//! definitions: a "billion laughs" or an external entity cannot even be declared); only XML's
//! five predefined entities and character references are resolved, any other `&name;` makes
//! the file unreadable; nesting and element counts are bounded (the size is bounded by the
//! fetch). Values are then checked more strictly than anything typed by hand: a DNS host name
//! (no IP literal, no control character, never `localhost`), a port 1–65535, TLS or STARTTLS
//! (never plain text), and the placeholders `%EMAILADDRESS%`, `%EMAILLOCALPART%` and
//! `%EMAILDOMAIN%` replaced — a value with any other `%…%` left is refused.

use quick_xml::Reader;
use quick_xml::events::Event;

use super::domain::{self, Address, NameProblem};
use crate::config::{Protocol, Security};

/// Deeper than any real file (`clientConfig/emailProvider/incomingServer/hostname` is 4).
const MAX_DEPTH: usize = 16;
/// A large provider's file has a few dozen elements.
const MAX_ELEMENTS: usize = 2_000;
/// The longest value kept (a host name is at most 253).
const MAX_VALUE: usize = 1_024;

/// An `<incomingServer>` as written in the file, before checking.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RawServer {
    /// The `type` attribute: `imap`, `pop3` (others are ignored).
    pub kind: String,
    pub hostname: String,
    pub port: String,
    pub socket_type: String,
    pub username: String,
    /// Every `<authentication>` value, in order (`password-cleartext`, `OAuth2`…).
    pub authentication: Vec<String>,
}

/// A server from the file that passed every check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Server {
    pub protocol: Protocol,
    pub host: String,
    pub port: u16,
    pub security: Security,
    pub username: String,
    /// The file offers the provider's sign-in (`<authentication>OAuth2</authentication>`).
    pub oauth2: bool,
    /// The file offers a password.
    pub password: bool,
}

/// Why a file, or a server in it, was not used.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AutoconfigError {
    #[error("the file declares a DTD, which a mail configuration never needs")]
    Dtd,
    #[error("the file uses an entity (&{0};) that XML does not define")]
    UnknownEntity(String),
    #[error("the file is not well-formed XML: {0}")]
    Malformed(String),
    #[error("the file is nested too deeply or has too many elements")]
    TooComplex,
    #[error("the file is not a mail configuration (no <clientConfig>)")]
    NotAConfig,
    #[error("the file lists no IMAP or POP3 server")]
    NoServer,
    #[error("server name: {0}")]
    Host(NameProblem),
    #[error("`{0}` is not a port (1–65535)")]
    Port(String),
    #[error("connection security `{0}` is not TLS or STARTTLS")]
    Security(String),
    #[error("plain-text connections are refused")]
    PlainText,
    #[error("a value still has a placeholder after substitution: `{0}`")]
    Placeholder(String),
}

/// Reads the incoming servers of a configuration file, in the file's order.
pub fn parse(xml: &str) -> Result<Vec<RawServer>, AutoconfigError> {
    let mut reader = Reader::from_str(xml);
    reader.config_mut().trim_text(true);
    let mut path: Vec<String> = Vec::new();
    let mut elements = 0usize;
    let mut servers = Vec::new();
    let mut current: Option<RawServer> = None;
    let mut text = String::new();
    let mut saw_root = false;
    loop {
        let event = reader.read_event().map_err(|e| {
            AutoconfigError::Malformed(crate::text::truncate_for_log(&e.to_string()))
        })?;
        match event {
            Event::DocType(_) => return Err(AutoconfigError::Dtd),
            Event::Start(e) => {
                elements += 1;
                if elements > MAX_ELEMENTS || path.len() >= MAX_DEPTH {
                    return Err(AutoconfigError::TooComplex);
                }
                let name = e.local_name().as_ref().to_owned();
                if path.is_empty() {
                    saw_root = name == "clientConfig";
                    if !saw_root {
                        return Err(AutoconfigError::NotAConfig);
                    }
                }
                if name == "incomingServer" && current.is_none() {
                    let kind = e
                        .attributes()
                        .flatten()
                        .find(|a| a.key.local_name().as_ref() == "type")
                        .and_then(|a| a.normalized_value(quick_xml::XmlVersion::Implicit1_0).ok())
                        .map(|v| v.trim().to_ascii_lowercase())
                        .unwrap_or_default();
                    current = Some(RawServer {
                        kind,
                        ..RawServer::default()
                    });
                }
                path.push(name);
                text.clear();
            }
            Event::Empty(_) => {
                elements += 1;
                if elements > MAX_ELEMENTS {
                    return Err(AutoconfigError::TooComplex);
                }
            }
            Event::Text(t) => push_capped(
                &mut text,
                &t.xml_content(quick_xml::XmlVersion::Implicit1_0),
            ),
            Event::CData(t) => push_capped(&mut text, &t),
            Event::GeneralRef(r) => {
                let name = (*r).to_owned();
                let resolved = match r.resolve_char_ref() {
                    Ok(Some(c)) => Some(c.to_string()),
                    Ok(None) => {
                        quick_xml::escape::resolve_predefined_entity(&name).map(str::to_owned)
                    }
                    Err(_) => None,
                };
                match resolved {
                    Some(s) => push_capped(&mut text, &s),
                    None => {
                        return Err(AutoconfigError::UnknownEntity(
                            crate::text::truncate_for_log(&name),
                        ));
                    }
                }
            }
            Event::End(_) => {
                let name = path.pop().unwrap_or_default();
                let in_server = path.last().is_some_and(|p| p == "incomingServer");
                if let (true, Some(server)) = (in_server, current.as_mut()) {
                    let value = text.trim().to_owned();
                    match name.as_str() {
                        "hostname" => server.hostname = value,
                        "port" => server.port = value,
                        "socketType" => server.socket_type = value,
                        "username" => server.username = value,
                        "authentication" => server.authentication.push(value),
                        _ => {}
                    }
                } else if name == "incomingServer"
                    && let Some(server) = current.take()
                {
                    servers.push(server);
                }
                text.clear();
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !saw_root {
        return Err(AutoconfigError::NotAConfig);
    }
    Ok(servers)
}

fn push_capped(text: &mut String, more: &str) {
    if text.len() + more.len() <= MAX_VALUE {
        text.push_str(more);
    }
}

/// The first usable server: IMAP before POP3 (push needs IMAP), then in the file's order.
/// When none is usable the error is the first IMAP server's (the one the user would expect).
pub fn choose(servers: &[RawServer], address: &Address) -> Result<Server, AutoconfigError> {
    let ranked = servers
        .iter()
        .filter(|s| s.kind == "imap")
        .chain(servers.iter().filter(|s| s.kind == "pop3"));
    let mut first_error = None;
    for raw in ranked {
        match check(raw, address) {
            Ok(server) => return Ok(server),
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    Err(first_error.unwrap_or(AutoconfigError::NoServer))
}

/// Substitutes the placeholders in one server and checks every value.
pub fn check(raw: &RawServer, address: &Address) -> Result<Server, AutoconfigError> {
    let protocol = match raw.kind.as_str() {
        "imap" => Protocol::Imap,
        "pop3" => Protocol::Pop3,
        _ => return Err(AutoconfigError::NoServer),
    };
    let host = substitute(&raw.hostname, address)?;
    let host = domain::server_host(&host).map_err(AutoconfigError::Host)?;
    let security = match raw.socket_type.to_ascii_uppercase().as_str() {
        "SSL" | "TLS" => Security::Tls,
        "STARTTLS" => Security::Starttls,
        "PLAIN" => return Err(AutoconfigError::PlainText),
        other => {
            return Err(AutoconfigError::Security(crate::text::truncate_for_log(
                other,
            )));
        }
    };
    let port = match raw.port.trim() {
        "" => protocol.default_port(security),
        p => p
            .parse::<u16>()
            .ok()
            .filter(|p| *p > 0)
            .ok_or_else(|| AutoconfigError::Port(crate::text::truncate_for_log(p)))?,
    };
    let username = match raw.username.trim() {
        "" => address.address.clone(),
        u => substitute(u, address)?,
    };
    // No control character, and no invisible formatting one (a right-to-left override would
    // show the user a name other than the one sent).
    let invisible = |c: char| matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}');
    if username.chars().any(|c| c.is_control() || invisible(c)) {
        return Err(AutoconfigError::Placeholder(crate::text::truncate_for_log(
            &username,
        )));
    }
    let oauth2 = raw
        .authentication
        .iter()
        .any(|a| a.eq_ignore_ascii_case("OAuth2"));
    let password = raw.authentication.is_empty()
        || raw.authentication.iter().any(|a| {
            matches!(
                a.to_ascii_lowercase().as_str(),
                "password-cleartext" | "plain" | "password-encrypted" | "secure"
            )
        });
    Ok(Server {
        protocol,
        host,
        port,
        security,
        username,
        oauth2,
        password,
    })
}

/// Replaces the three placeholders the format defines; anything else between `%` signs is an
/// error, not something to send to a server.
pub fn substitute(value: &str, address: &Address) -> Result<String, AutoconfigError> {
    let out = value
        .replace("%EMAILADDRESS%", &address.address)
        .replace("%EMAILLOCALPART%", &address.local)
        .replace("%EMAILDOMAIN%", &address.domain);
    // Checked on the template, so an address containing `%` is not mistaken for one.
    let rest = value
        .replace("%EMAILADDRESS%", "")
        .replace("%EMAILLOCALPART%", "")
        .replace("%EMAILDOMAIN%", "");
    if let Some(start) = rest.find('%')
        && rest[start + 1..].contains('%')
    {
        return Err(AutoconfigError::Placeholder(crate::text::truncate_for_log(
            value,
        )));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ana() -> Address {
        domain::parse_address("ana@example.com").unwrap()
    }

    const GOOD: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<clientConfig version="1.1">
  <emailProvider id="example.com">
    <domain>example.com</domain>
    <displayName>Example &amp; Co</displayName>
    <incomingServer type="pop3">
      <hostname>pop.example.com</hostname><port>995</port><socketType>SSL</socketType>
      <username>%EMAILADDRESS%</username><authentication>password-cleartext</authentication>
    </incomingServer>
    <incomingServer type="imap">
      <hostname>imap.%EMAILDOMAIN%</hostname>
      <port>143</port>
      <socketType>STARTTLS</socketType>
      <username>%EMAILLOCALPART%</username>
      <authentication>password-cleartext</authentication>
      <authentication>OAuth2</authentication>
    </incomingServer>
    <outgoingServer type="smtp"><hostname>smtp.example.com</hostname></outgoingServer>
  </emailProvider>
</clientConfig>"#;

    #[test]
    fn a_good_file_gives_its_imap_server_before_pop3() {
        let servers = parse(GOOD).unwrap();
        assert_eq!(servers.len(), 2);
        let s = choose(&servers, &ana()).unwrap();
        assert_eq!(
            s,
            Server {
                protocol: Protocol::Imap,
                host: "imap.example.com".into(),
                port: 143,
                security: Security::Starttls,
                username: "ana".into(),
                oauth2: true,
                password: true,
            }
        );
    }

    #[test]
    fn a_pop3_only_file_gives_pop3() {
        let only_pop = GOOD.replace("type=\"imap\"", "type=\"exchange\"");
        let s = choose(&parse(&only_pop).unwrap(), &ana()).unwrap();
        assert_eq!((s.protocol, s.port), (Protocol::Pop3, 995));
    }

    #[test]
    fn dtds_and_unknown_entities_are_refused() {
        let laughs = r#"<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;">]>
<clientConfig><emailProvider><incomingServer type="imap"><hostname>&lol2;</hostname>
</incomingServer></emailProvider></clientConfig>"#;
        assert_eq!(parse(laughs), Err(AutoconfigError::Dtd));
        let external = r#"<?xml version="1.0"?><!DOCTYPE c [<!ENTITY x SYSTEM "file:///etc/passwd">]><clientConfig>&x;</clientConfig>"#;
        assert_eq!(parse(external), Err(AutoconfigError::Dtd));
        let undeclared = "<clientConfig><emailProvider><incomingServer type=\"imap\"><hostname>&x;</hostname></incomingServer></emailProvider></clientConfig>";
        assert_eq!(
            parse(undeclared),
            Err(AutoconfigError::UnknownEntity("x".into()))
        );
        let refs = "<clientConfig><emailProvider><incomingServer type=\"imap\"><hostname>imap&#46;example.com</hostname><socketType>SSL</socketType></incomingServer></emailProvider></clientConfig>";
        assert_eq!(
            choose(&parse(refs).unwrap(), &ana()).unwrap().host,
            "imap.example.com"
        );
    }

    #[test]
    fn what_is_not_a_config_or_too_deep_is_refused() {
        assert_eq!(
            parse("<html><body>404</body></html>"),
            Err(AutoconfigError::NotAConfig)
        );
        assert_eq!(parse(""), Err(AutoconfigError::NotAConfig));
        assert!(matches!(
            parse("<clientConfig><a></b></clientConfig>"),
            Err(AutoconfigError::Malformed(_))
        ));
        let deep = format!(
            "<clientConfig>{}{}</clientConfig>",
            "<a>".repeat(40),
            "</a>".repeat(40)
        );
        assert_eq!(parse(&deep), Err(AutoconfigError::TooComplex));
        let wide = format!("<clientConfig>{}</clientConfig>", "<a/>".repeat(5_000));
        assert_eq!(parse(&wide), Err(AutoconfigError::TooComplex));
    }

    fn server(host: &str, port: &str, socket: &str, user: &str) -> RawServer {
        RawServer {
            kind: "imap".into(),
            hostname: host.into(),
            port: port.into(),
            socket_type: socket.into(),
            username: user.into(),
            authentication: vec!["password-cleartext".into()],
        }
    }

    #[test]
    fn hostile_values_are_refused_one_by_one() {
        let a = ana();
        let cases = [
            (server("127.0.0.1", "993", "SSL", "x"), "IP literal"),
            (
                server("imap.example.com\u{1}", "993", "SSL", "x"),
                "control",
            ),
            (server("imap.example.com", "0", "SSL", "x"), "port 0"),
            (
                server("imap.example.com", "70000", "SSL", "x"),
                "port 70000",
            ),
            (server("imap.example.com", "993", "plain", "x"), "plain"),
            (
                server("imap.example.com", "993", "SSL", "%EMAILADRESS%"),
                "misspelt placeholder",
            ),
            (
                server("%SERVER%.example.com", "993", "SSL", "x"),
                "unknown placeholder",
            ),
            (
                server("imap.example.com", "993", "magic", "x"),
                "socket type",
            ),
            (
                server("imap.example.com", "993", "SSL", "ana\u{202E}moc"),
                "bidi override",
            ),
        ];
        for (raw, what) in cases {
            assert!(check(&raw, &a).is_err(), "{what} was accepted");
        }
        // Not even for this machine: a file from the network never gets a password sent here.
        assert!(check(&server("localhost", "143", "plain", "x"), &a).is_err());
        assert!(check(&server("localhost", "993", "SSL", "x"), &a).is_err());
    }

    #[test]
    fn an_address_with_a_percent_sign_is_not_a_placeholder() {
        let a = domain::parse_address("50%off@example.com").unwrap();
        assert_eq!(
            substitute("%EMAILADDRESS%", &a).unwrap(),
            "50%off@example.com"
        );
        assert_eq!(substitute("%EMAILLOCALPART%", &a).unwrap(), "50%off");
    }
}
