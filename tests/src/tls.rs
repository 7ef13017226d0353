//! A throw-away CA and server certificate per Dovecot instance, made with the `openssl` CLI.
//!
//! Per instance rather than shared so no test depends on a file another test created, and so a
//! test can hand Pushmail "the wrong CA" simply by using another instance's `ca_file()`.
//! P-256 keys: generating them takes milliseconds where RSA-2048 takes about a second.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result};

use crate::process::run_ok;

const OPENSSL_TIMEOUT: Duration = Duration::from_secs(30);

/// The server's names: `localhost` for clients that verify a host name, both loopback
/// addresses because tests connect by IP and the "insecure" instance listens on 127.0.0.2.
const SERVER_SAN: &str = "DNS:localhost,IP:127.0.0.1,IP:127.0.0.2";

pub(crate) struct TlsFiles {
    pub ca: PathBuf,
    pub cert: PathBuf,
    pub key: PathBuf,
}

pub(crate) fn make_tls(dir: &Path) -> Result<TlsFiles> {
    fs::create_dir_all(dir).with_context(|| format!("Cannot create {}", dir.display()))?;
    let cnf = dir.join("openssl.cnf");
    // Our own config instead of the system one: Debian's adds v3_ca defaults that clash with
    // explicit extensions, and rustls/webpki want exactly these (CA:TRUE + keyCertSign on the
    // CA; CA:FALSE, serverAuth and a SAN on the leaf).
    fs::write(
        &cnf,
        format!(
            "[req]\n\
             distinguished_name = dn\n\
             prompt = no\n\
             [dn]\n\
             CN = Pushmail Test CA\n\
             [ca_ext]\n\
             basicConstraints = critical,CA:TRUE\n\
             keyUsage = critical,keyCertSign,cRLSign\n\
             subjectKeyIdentifier = hash\n\
             [server_ext]\n\
             basicConstraints = critical,CA:FALSE\n\
             keyUsage = critical,digitalSignature\n\
             extendedKeyUsage = serverAuth\n\
             subjectAltName = {SERVER_SAN}\n\
             subjectKeyIdentifier = hash\n\
             authorityKeyIdentifier = keyid\n"
        ),
    )
    .with_context(|| format!("Cannot write {}", cnf.display()))?;

    let files = TlsFiles {
        ca: dir.join("ca.pem"),
        cert: dir.join("server.pem"),
        key: dir.join("server.key"),
    };
    let ca_key = dir.join("ca.key");
    let csr = dir.join("server.csr");
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
    ];

    run_ok(
        Command::new("openssl")
            .args(["req", "-x509", "-new"])
            .args(ec)
            .arg("-keyout")
            .arg(&ca_key)
            .arg("-out")
            .arg(&files.ca)
            .args(["-days", "30", "-extensions", "ca_ext", "-config"])
            .arg(&cnf),
        OPENSSL_TIMEOUT,
    )
    .context("Cannot create the test CA")?;
    run_ok(
        Command::new("openssl")
            .args(["req", "-new"])
            .args(ec)
            .arg("-keyout")
            .arg(&files.key)
            .arg("-out")
            .arg(&csr)
            .args(["-subj", "/CN=localhost", "-config"])
            .arg(&cnf),
        OPENSSL_TIMEOUT,
    )
    .context("Cannot create the server key")?;
    // A unique serial per instance: some TLS stacks cache by issuer+serial.
    let serial = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_nanos();
    run_ok(
        Command::new("openssl")
            .args(["x509", "-req", "-in"])
            .arg(&csr)
            .arg("-CA")
            .arg(&files.ca)
            .arg("-CAkey")
            .arg(&ca_key)
            .args(["-set_serial", &format!("0x{serial:x}")])
            .args(["-days", "30", "-extensions", "server_ext", "-extfile"])
            .arg(&cnf)
            .arg("-out")
            .arg(&files.cert),
        OPENSSL_TIMEOUT,
    )
    .context("Cannot sign the server certificate")?;
    Ok(files)
}
