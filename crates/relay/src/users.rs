//! The relay's users and their API tokens.
//!
//! A user is whoever holds one of its tokens: 32 random bytes, base64url without padding (43
//! characters), shown once when made. The database keeps only the token's SHA-256, so a copy
//! of the database (a backup, a read-only replica) does not let anyone act as a user. A token
//! carries 256 bits of entropy, so an unsalted fast hash is enough: there is nothing to guess.

use anyhow::{Context, Result, bail};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::db::Db;

/// Length of a token as text: 32 bytes in unpadded base64url.
const TOKEN_CHARS: usize = 43;

/// Longest user name accepted (it is only shown, never parsed).
const NAME_MAX_CHARS: usize = 100;

/// Makes a user named `name` and its first API token. Returns the user's id and the token,
/// which exists nowhere else afterwards: print it once (`pushmail-relay user add NAME`).
pub async fn create_user(db: &Db, name: &str) -> Result<(i64, String)> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > NAME_MAX_CHARS {
        bail!("A user name must be 1 to {NAME_MAX_CHARS} characters");
    }
    if name.chars().any(char::is_control) {
        bail!("A user name cannot contain control characters");
    }
    let mut client = db.get().await.context("Cannot reach the database")?;
    let tx = client.transaction().await?;
    let row = tx
        .query_one(
            "INSERT INTO relay_user (name) VALUES ($1) RETURNING id",
            &[&name],
        )
        .await
        .context("Cannot create the user")?;
    let id: i64 = row.get(0);
    let token = new_token();
    tx.execute(
        "INSERT INTO api_token (token_hash, user_id) VALUES ($1, $2)",
        &[&token_hash(&token).as_slice(), &id],
    )
    .await
    .context("Cannot store the user's token")?;
    tx.commit().await?;
    Ok((id, token))
}

/// Gives user `user_id` one more token (another device, or a replacement before the old one
/// is revoked). `None` if there is no such user.
pub async fn add_token(db: &Db, user_id: i64) -> Result<Option<String>> {
    let client = db.get().await.context("Cannot reach the database")?;
    let token = new_token();
    let n = client
        .execute(
            "INSERT INTO api_token (token_hash, user_id)
             SELECT $1, id FROM relay_user WHERE id = $2",
            &[&token_hash(&token).as_slice(), &user_id],
        )
        .await
        .context("Cannot store the token")?;
    Ok((n == 1).then_some(token))
}

/// The user a token belongs to, if any. Anything that is not shaped like a token is refused
/// before the database is asked.
pub async fn authenticate(db: &Db, token: &str) -> Result<Option<i64>> {
    if !looks_like_token(token) {
        return Ok(None);
    }
    let client = db.get().await.context("Cannot reach the database")?;
    // A lookup by hash: the hash of a guess reveals nothing about the stored hashes, so the
    // index lookup's timing leaks nothing an attacker could use.
    let row = client
        .query_opt(
            "SELECT user_id FROM api_token WHERE token_hash = $1",
            &[&token_hash(token).as_slice()],
        )
        .await
        .context("Cannot check the token")?;
    Ok(row.map(|r| r.get(0)))
}

/// The SHA-256 of a token, as stored in `api_token.token_hash`.
pub fn token_hash(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

fn new_token() -> String {
    let mut raw = [0u8; 32];
    rand::rng().fill_bytes(&mut raw);
    URL_SAFE_NO_PAD.encode(raw)
}

fn looks_like_token(token: &str) -> bool {
    token.len() == TOKEN_CHARS
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_43_base64url_characters_and_differ() {
        let a = new_token();
        let b = new_token();
        assert_ne!(a, b);
        assert!(looks_like_token(&a), "{a}");
        assert_eq!(URL_SAFE_NO_PAD.decode(&a).unwrap().len(), 32);
        assert!(!looks_like_token("short"));
        assert!(!looks_like_token(&format!("{}=", &a[..42])));
    }
}
