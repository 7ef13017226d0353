//! A throw-away CA and server certificate per Dovecot instance, made with the `openssl` CLI.
//!
//! Per instance rather than shared so no test depends on a file another test created, and so a
//! test can hand Pushmail "the wrong CA" simply by using another instance's `ca_file()`.
//! P-256 keys: generating them takes milliseconds where RSA-2048 takes about a second.
//!
//! [`TestCa`] is the same CA kept around to sign more leaves, for servers with many names (the
//! discovery lab in `netns.rs`).

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
    let ca = TestCa::create(dir)?;
    let leaf = ca.leaf("server", SERVER_SAN)?;
    Ok(TlsFiles {
        ca: ca.ca,
        cert: leaf.cert,
        key: leaf.key,
    })
}

/// A throw-away CA in a directory of its own, able to sign any number of server certificates.
///
/// [`make_tls`] is one CA plus one leaf for loopback; the discovery lab (`netns.rs`) keeps the
/// CA and signs a leaf per host name it serves.
pub(crate) struct TestCa {
    dir: PathBuf,
    cnf: PathBuf,
    /// The CA certificate (PEM): what a client must trust.
    pub ca: PathBuf,
    key: PathBuf,
}

/// A server certificate and its private key, both PEM files.
#[derive(Clone, Debug)]
pub(crate) struct LeafFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

const EC: [&str; 5] = [
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:prime256v1",
    "-nodes",
];

impl TestCa {
    /// Makes the CA's key and self-signed certificate in `dir` (created if needed), named
    /// `Pushmail Test CA` like every instance's CA so far.
    pub(crate) fn create(dir: &Path) -> Result<TestCa> {
        TestCa::create_named(dir, "Pushmail Test CA")
    }

    /// The same with subject `CN=common_name`.
    ///
    /// Two CAs with the same subject are not two strangers to a verifier: webpki picks a
    /// trusted issuer by subject name, so a leaf from an untrusted CA named like a trusted one
    /// fails with `BadSignature`, not `UnknownIssuer`. Give a CA meant to be unknown a name of
    /// its own.
    pub(crate) fn create_named(dir: &Path, common_name: &str) -> Result<TestCa> {
        fs::create_dir_all(dir).with_context(|| format!("Cannot create {}", dir.display()))?;
        let cnf = dir.join("openssl.cnf");
        // Our own config instead of the system one: Debian's adds v3_ca defaults that clash
        // with explicit extensions, and rustls/webpki want exactly these (CA:TRUE +
        // keyCertSign on the CA; CA:FALSE, serverAuth and a SAN on the leaf, whose SAN is in
        // a file per leaf, see `leaf`).
        fs::write(
            &cnf,
            format!(
                "[req]\n\
                 distinguished_name = dn\n\
                 prompt = no\n\
                 [dn]\n\
                 CN = {common_name}\n\
                 [ca_ext]\n\
                 basicConstraints = critical,CA:TRUE\n\
                 keyUsage = critical,keyCertSign,cRLSign\n\
                 subjectKeyIdentifier = hash\n"
            ),
        )
        .with_context(|| format!("Cannot write {}", cnf.display()))?;
        let ca = TestCa {
            dir: dir.to_owned(),
            ca: dir.join("ca.pem"),
            key: dir.join("ca.key"),
            cnf,
        };
        run_ok(
            Command::new("openssl")
                .args(["req", "-x509", "-new"])
                .args(EC)
                .arg("-keyout")
                .arg(&ca.key)
                .arg("-out")
                .arg(&ca.ca)
                .args(["-days", "30", "-extensions", "ca_ext", "-config"])
                .arg(&ca.cnf),
            OPENSSL_TIMEOUT,
        )
        .context("Cannot create the test CA")?;
        Ok(ca)
    }

    /// Signs a server certificate `STEM.pem` (key `STEM.key`) for `san`, in OpenSSL's
    /// subjectAltName syntax (`DNS:imap.example.test,IP:127.0.0.1`). The first name is also
    /// the subject's CN (clients ignore it when a SAN is present, people reading logs do not).
    pub(crate) fn leaf(&self, stem: &str, san: &str) -> Result<LeafFiles> {
        let files = LeafFiles {
            cert: self.dir.join(format!("{stem}.pem")),
            key: self.dir.join(format!("{stem}.key")),
        };
        let ext = self.dir.join(format!("{stem}.ext"));
        fs::write(
            &ext,
            format!(
                "[server_ext]\n\
                 basicConstraints = critical,CA:FALSE\n\
                 keyUsage = critical,digitalSignature\n\
                 extendedKeyUsage = serverAuth\n\
                 subjectAltName = {san}\n\
                 subjectKeyIdentifier = hash\n\
                 authorityKeyIdentifier = keyid\n"
            ),
        )
        .with_context(|| format!("Cannot write {}", ext.display()))?;
        let cn = san
            .split(',')
            .next()
            .and_then(|first| first.split_once(':'))
            .map_or("localhost", |(_, name)| name);
        let csr = self.dir.join(format!("{stem}.csr"));
        run_ok(
            Command::new("openssl")
                .args(["req", "-new"])
                .args(EC)
                .arg("-keyout")
                .arg(&files.key)
                .arg("-out")
                .arg(&csr)
                .args(["-subj", &format!("/CN={cn}"), "-config"])
                .arg(&self.cnf),
            OPENSSL_TIMEOUT,
        )
        .context("Cannot create the server key")?;
        // A unique serial per certificate: some TLS stacks cache by issuer+serial.
        let serial = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos();
        run_ok(
            Command::new("openssl")
                .args(["x509", "-req", "-in"])
                .arg(&csr)
                .arg("-CA")
                .arg(&self.ca)
                .arg("-CAkey")
                .arg(&self.key)
                .args(["-set_serial", &format!("0x{serial:x}")])
                .args(["-days", "30", "-extensions", "server_ext", "-extfile"])
                .arg(&ext)
                .arg("-out")
                .arg(&files.cert),
            OPENSSL_TIMEOUT,
        )
        .context("Cannot sign the server certificate")?;
        Ok(files)
    }
}
