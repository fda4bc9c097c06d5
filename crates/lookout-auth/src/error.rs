//! Errors of this crate. Each says what is wrong, where (the file and the YAML path of the key) and why, so an
//! operator can fix the file from the log line alone.

use std::fmt;
use std::path::PathBuf;

/// The web config file, or a file it names, cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct WebConfigError {
    /// The web config file.
    pub path: PathBuf,
    /// The YAML path of the offending key (`tls_server_config.cert_file`), when one is to blame.
    pub at: Option<String>,
    /// What is wrong.
    pub message: String,
}

impl WebConfigError {
    pub(crate) fn new(
        path: impl Into<PathBuf>,
        at: Option<&str>,
        message: impl Into<String>,
    ) -> Self {
        WebConfigError {
            path: path.into(),
            at: at.map(str::to_string),
            message: message.into(),
        }
    }
}

impl fmt::Display for WebConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "web config file {}: ", self.path.display())?;
        if let Some(at) = &self.at {
            write!(f, "{at}: ")?;
        }
        f.write_str(&self.message)
    }
}

/// The `auth:` section cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("auth.{at}: {message}")]
pub struct AuthConfigError {
    /// The YAML path below `auth:` (`tokens[0].token_file`).
    pub at: String,
    /// What is wrong.
    pub message: String,
}

impl AuthConfigError {
    pub(crate) fn new(at: impl Into<String>, message: impl Into<String>) -> Self {
        AuthConfigError {
            at: at.into(),
            message: message.into(),
        }
    }
}
