//! bcrypt, the password hash Prometheus's `basic_auth_users` uses. Hashes are written in the `$2y$` form that
//! `htpasswd -nBC 10` prints and the exporter-toolkit docs show; `$2a$`/`$2b$`/`$2x$` hashes verify as well.

/// The cost Prometheus's docs use (about 50–100 ms per verification).
pub const DEFAULT_COST: u32 = 10;

/// bcrypt reads at most this many bytes of a password.
pub const MAX_PASSWORD_BYTES: usize = 72;

/// A password could not be hashed, or a stored hash is not a bcrypt hash.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    /// The cost is outside bcrypt's 4..=31.
    #[error("bcrypt cost {0} is outside 4..=31")]
    Cost(u32),
    /// bcrypt would silently ignore the rest (Go's bcrypt refuses such passwords too).
    #[error("password is {0} bytes long; bcrypt uses at most 72")]
    TooLong(usize),
    /// Not a bcrypt hash.
    #[error(
        "not a bcrypt hash ({0}); create one with `lookout hash-password` or `htpasswd -nBC 10 \"\" | tr -d ':\\n'`"
    )]
    InvalidHash(String),
    /// The hash could not be computed.
    #[error("hashing failed: {0}")]
    Hash(String),
}

/// Hashes `password` with bcrypt at `cost` (4..=31; [`DEFAULT_COST`] is Prometheus's recommendation).
pub fn hash_password(password: &str, cost: u32) -> Result<String, PasswordError> {
    if !(4..=31).contains(&cost) {
        return Err(PasswordError::Cost(cost));
    }
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(PasswordError::TooLong(password.len()));
    }
    let parts =
        bcrypt::hash_with_result(password, cost).map_err(|e| PasswordError::Hash(e.to_string()))?;
    Ok(parts.format_for_version(bcrypt::Version::TwoY))
}

/// Checks that `hash` is a usable bcrypt hash (format and cost), as Prometheus does when it loads the file.
pub fn validate_hash(hash: &str) -> Result<(), PasswordError> {
    let parts: bcrypt::HashParts = hash
        .parse()
        .map_err(|e: bcrypt::BcryptError| PasswordError::InvalidHash(e.to_string()))?;
    let cost = parts.get_cost();
    if !(4..=31).contains(&cost) {
        return Err(PasswordError::InvalidHash(format!(
            "cost {cost} is outside 4..=31"
        )));
    }
    Ok(())
}

/// Whether `password` matches `hash`. Slow by design: call it off the async runtime.
pub fn verify_password(password: &str, hash: &str) -> Result<bool, PasswordError> {
    bcrypt::verify(password, hash).map_err(|e| PasswordError::InvalidHash(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let h = hash_password("s3cret pass", 4).unwrap();
        assert!(h.starts_with("$2y$04$"), "{h}");
        assert_eq!(h.len(), 60);
        validate_hash(&h).unwrap();
        assert!(verify_password("s3cret pass", &h).unwrap());
        assert!(!verify_password("s3cret pasS", &h).unwrap());
        // Salted: the same password hashes differently each time.
        assert_ne!(h, hash_password("s3cret pass", 4).unwrap());
    }

    #[test]
    fn errors() {
        assert_eq!(hash_password("x", 3), Err(PasswordError::Cost(3)));
        assert_eq!(hash_password("x", 32), Err(PasswordError::Cost(32)));
        assert_eq!(
            hash_password(&"a".repeat(73), 4),
            Err(PasswordError::TooLong(73))
        );
        let e = validate_hash("doe").unwrap_err();
        assert!(e.to_string().contains("not a bcrypt hash"), "{e}");
        assert!(verify_password("x", "doe").is_err());
    }

    #[test]
    fn verifies_the_exporter_toolkit_docs_style_hash() {
        // `$2y$` hashes as htpasswd writes them; generated here so the test owns the password.
        let h = bcrypt::hash_with_result("pw", 4)
            .unwrap()
            .format_for_version(bcrypt::Version::TwoA);
        assert!(h.starts_with("$2a$"));
        assert!(verify_password("pw", &h).unwrap());
    }
}
