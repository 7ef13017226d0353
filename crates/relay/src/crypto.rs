//! Secrets at rest: AES-256-GCM, two levels.
//!
//! The **master key** (32 random bytes, hex or raw in a file, or a systemd credential) never
//! enters the database. Each account has its own random **account key**, stored sealed with the
//! master key; the account's password or refresh token is stored sealed with the account key.
//! Deleting an account deletes its sealed key with it, so its secret cannot be recovered even
//! from an old backup's key material alone; rotating the master key re-seals only the small
//! account keys. Every sealed value carries the account id (or the purpose) as associated data,
//! so a ciphertext copied to another row does not open.

use std::path::Path;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use anyhow::{Context, Result, bail};
use rand::RngCore;
use secrecy::{ExposeSecret, SecretBox, SecretString};

/// A 256-bit key, zeroed on drop; clones share it.
#[derive(Clone)]
pub struct Key(std::sync::Arc<SecretBox<[u8; 32]>>);

impl Key {
    /// A fresh random key.
    pub fn random() -> Key {
        let mut k = Box::new([0u8; 32]);
        rand::rng().fill_bytes(&mut k[..]);
        Key(std::sync::Arc::new(SecretBox::new(k)))
    }

    fn from_bytes(b: &[u8]) -> Result<Key> {
        let arr: [u8; 32] = b
            .try_into()
            .map_err(|_| anyhow::anyhow!("a key must be 32 bytes, not {}", b.len()))?;
        Ok(Key(std::sync::Arc::new(SecretBox::new(Box::new(arr)))))
    }

    /// Reads the master key file: 64 hex digits (a trailing newline is fine) or 32 raw bytes.
    /// The file must not be readable by group or others.
    pub fn load_master(path: &Path) -> Result<Key> {
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let meta = std::fs::metadata(path)
                .with_context(|| format!("Cannot read the master key file {}", path.display()))?;
            if meta.permissions().mode() & 0o077 != 0 {
                bail!(
                    "The master key file {} is readable by others; run `chmod 600 {}`",
                    path.display(),
                    path.display()
                );
            }
        }
        let raw = std::fs::read(path)
            .with_context(|| format!("Cannot read the master key file {}", path.display()))?;
        let text = std::str::from_utf8(&raw).map(str::trim).unwrap_or("");
        let key = if text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
            let bytes: Vec<u8> = (0..32)
                .map(|i| u8::from_str_radix(&text[2 * i..2 * i + 2], 16))
                .collect::<Result<_, _>>()?;
            Key::from_bytes(&bytes)
        } else {
            Key::from_bytes(&raw)
        };
        key.with_context(|| {
            format!(
                "The master key file {} must hold 64 hex digits (`pushmail-relay gen-key` writes one)",
                path.display()
            )
        })
    }

    /// The key as 64 hex digits (for `gen-key` only).
    pub fn to_hex(&self) -> String {
        hex(self.0.expose_secret())
    }

    /// Seals `plain` for `aad` (what the value belongs to): nonce ‖ ciphertext+tag.
    pub fn seal(&self, aad: &str, plain: &[u8]) -> Result<Vec<u8>> {
        let cipher = Aes256Gcm::new_from_slice(self.0.expose_secret())?;
        let mut nonce = [0u8; 12];
        rand::rng().fill_bytes(&mut nonce);
        let ct = cipher
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: plain,
                    aad: aad.as_bytes(),
                },
            )
            .map_err(|_| anyhow::anyhow!("encryption failed"))?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&ct);
        Ok(out)
    }

    /// Opens what [`Key::seal`] sealed for the same `aad`.
    pub fn open(&self, aad: &str, sealed: &[u8]) -> Result<Vec<u8>> {
        if sealed.len() < 12 + 16 {
            bail!("a sealed value is too short");
        }
        let cipher = Aes256Gcm::new_from_slice(self.0.expose_secret())?;
        let (nonce, ct) = sealed.split_at(12);
        cipher
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: ct,
                    aad: aad.as_bytes(),
                },
            )
            .map_err(|_| {
                anyhow::anyhow!("a sealed value does not open with this key (wrong master key?)")
            })
    }

    /// Seals a fresh account key with this (master) key.
    pub fn seal_key(&self, aad: &str, key: &Key) -> Result<Vec<u8>> {
        self.seal(aad, key.0.expose_secret())
    }

    /// Opens an account key sealed with [`Key::seal_key`].
    pub fn open_key(&self, aad: &str, sealed: &[u8]) -> Result<Key> {
        Key::from_bytes(&self.open(aad, sealed)?)
    }
}

/// Lower-case hex digits of `bytes` (ids, hashes in keys and logs, the key file).
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// An account's password or refresh token, sealed: `(sealed_key, sealed_secret)`.
pub fn seal_account_secret(
    master: &Key,
    account: &str,
    secret: &SecretString,
) -> Result<(Vec<u8>, Vec<u8>)> {
    let key = Key::random();
    let sealed_key = master.seal_key(&format!("account-key:{account}"), &key)?;
    let sealed_secret = key.seal(
        &format!("account-secret:{account}"),
        secret.expose_secret().as_bytes(),
    )?;
    Ok((sealed_key, sealed_secret))
}

/// The inverse of [`seal_account_secret`].
pub fn open_account_secret(
    master: &Key,
    account: &str,
    sealed_key: &[u8],
    sealed_secret: &[u8],
) -> Result<SecretString> {
    let key = master.open_key(&format!("account-key:{account}"), sealed_key)?;
    let plain = key.open(&format!("account-secret:{account}"), sealed_secret)?;
    let text = String::from_utf8(plain).context("a stored secret is not UTF-8")?;
    Ok(SecretString::from(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_opens_only_for_its_account_and_master_key() {
        let master = Key::random();
        let (k, s) = seal_account_secret(&master, "a1", &SecretString::from("hunter2")).unwrap();
        let back = open_account_secret(&master, "a1", &k, &s).unwrap();
        assert_eq!(back.expose_secret(), "hunter2");
        // Copied to another account's row: refused.
        assert!(open_account_secret(&master, "a2", &k, &s).is_err());
        // Another master key: refused.
        assert!(open_account_secret(&Key::random(), "a1", &k, &s).is_err());
        // Not in clear in what is stored.
        assert!(!s.windows(7).any(|w| w == b"hunter2"));
        assert!(!k.windows(7).any(|w| w == b"hunter2"));
    }

    #[test]
    fn the_master_key_file_is_hex_and_private() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("master.key");
        let key = Key::random();
        std::fs::write(&p, format!("{}\n", key.to_hex())).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
        let e = Key::load_master(&p).err().unwrap().to_string();
        assert!(e.contains("chmod 600"), "{e}");
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
        let loaded = Key::load_master(&p).unwrap();
        let sealed = key.seal("x", b"v").unwrap();
        assert_eq!(loaded.open("x", &sealed).unwrap(), b"v");
        std::fs::write(&p, "not a key").unwrap();
        let e = format!("{:#}", Key::load_master(&p).err().unwrap());
        assert!(e.contains("64 hex digits"), "{e}");
    }
}
