//! One immutable snapshot of who is who: the `auth:` section with its token files read. Rebuilt on a config
//! reload or when a token file changes, and swapped in whole, so a request sees one consistent view.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use crate::config::AuthConfig;
use crate::error::AuthConfigError;
use crate::file_stamp::{Stamps, digest, read_stamped};
use crate::role::RoleSet;
use crate::secret::Secret;

/// Who a bearer token stands for.
#[derive(Debug, Clone)]
pub(crate) struct TokenIdentity {
    pub(crate) name: String,
    pub(crate) roles: RoleSet,
}

/// The snapshot.
#[derive(Debug)]
pub(crate) struct Policy {
    pub(crate) config: AuthConfig,
    /// SHA-256 of each token → identity (comparing digests keeps the lookup free of token-dependent timing).
    pub(crate) tokens: HashMap<[u8; 32], TokenIdentity>,
}

impl Policy {
    /// Builds the snapshot, reading token files (blocking). Returns the stamps of the files read either way.
    pub(crate) fn build(config: &AuthConfig) -> (Result<Policy, AuthConfigError>, Stamps) {
        let mut stamps: Stamps = Vec::new();
        let result = Self::build_into(config, &mut stamps);
        (result, stamps)
    }

    fn build_into(config: &AuthConfig, stamps: &mut Stamps) -> Result<Policy, AuthConfigError> {
        config.validate()?;
        let mut tokens: HashMap<[u8; 32], TokenIdentity> = HashMap::new();
        for (i, t) in config.tokens.iter().enumerate() {
            let value = match (&t.token_file, &t.token) {
                (Some(path), _) => read_token(path, stamps)
                    .map_err(|m| AuthConfigError::new(format!("tokens[{i}].token_file"), m))?,
                (None, Some(inline)) => inline.expose().trim().to_string(),
                (None, None) => unreachable!("validate() requires one of token_file and token"),
            };
            let identity = TokenIdentity {
                name: t.name.clone(),
                roles: RoleSet::of(&t.roles),
            };
            if let Some(other) = tokens.insert(digest(value.as_bytes()), identity) {
                return Err(AuthConfigError::new(
                    format!("tokens[{i}]"),
                    format!(
                        "has the same value as token {:?}; each token must be distinct",
                        other.name
                    ),
                ));
            }
        }
        Ok(Policy {
            config: config.clone(),
            tokens,
        })
    }

    /// Whether any credential is configured (this section's, or the web config's users): otherwise auth is off.
    pub(crate) fn enabled(&self, web_users: Option<&BTreeMap<String, Secret>>) -> bool {
        self.config.has_credentials() || web_users.is_some_and(|u| !u.is_empty())
    }

    /// Whether `path` is served without authentication.
    pub(crate) fn is_public(&self, path: &str) -> bool {
        self.config.public_paths.iter().any(|p| p == path)
    }

    /// The bcrypt hash `user` logs in with: this section's own, else the web config's.
    pub(crate) fn password_hash<'a>(
        &'a self,
        user: &str,
        web_users: Option<&'a BTreeMap<String, Secret>>,
    ) -> Option<&'a str> {
        self.config
            .users
            .get(user)
            .and_then(|u| u.password_hash.as_ref())
            .or_else(|| web_users.and_then(|w| w.get(user)))
            .map(Secret::expose)
    }

    /// The roles of a user who logged in with a password.
    pub(crate) fn user_roles(&self, user: &str) -> RoleSet {
        match self.config.users.get(user) {
            Some(u) => RoleSet::of(&u.roles),
            None => RoleSet::of(&self.config.default_roles),
        }
    }
}

/// Reads a token file: surrounding whitespace (the trailing newline of `echo > file`) is not part of the token.
fn read_token(path: &Path, stamps: &mut Stamps) -> Result<String, String> {
    match read_stamped(path) {
        Ok((bytes, stamp)) => {
            stamps.push((path.to_path_buf(), Some(stamp)));
            let text = String::from_utf8(bytes)
                .map_err(|_| format!("{} is not UTF-8 text", path.display()))?;
            let token = text.trim();
            if token.is_empty() {
                return Err(format!("{} is empty", path.display()));
            }
            Ok(token.to_string())
        }
        Err(e) => {
            stamps.push((path.to_path_buf(), None));
            Err(format!("cannot read {}: {e}", path.display()))
        }
    }
}
