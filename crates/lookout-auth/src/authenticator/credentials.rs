//! The `Authorization` header: `Basic base64(user:password)` or `Bearer token`, schemes case-insensitive as
//! RFC 9110 says.

use base64::Engine as _;
use http::HeaderValue;

/// What a request presented.
#[derive(PartialEq, Eq)]
pub(crate) enum Presented {
    /// No `Authorization` header.
    Missing,
    /// A header that is not usable Basic or Bearer credentials.
    Malformed,
    /// Basic credentials.
    Basic { user: String, password: String },
    /// A bearer token.
    Bearer(String),
}

impl std::fmt::Debug for Presented {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Presented::Missing => f.write_str("Missing"),
            Presented::Malformed => f.write_str("Malformed"),
            Presented::Basic { user, .. } => write!(f, "Basic({user:?}, <secret>)"),
            Presented::Bearer(_) => f.write_str("Bearer(<secret>)"),
        }
    }
}

/// Reads the `Authorization` header value.
pub(crate) fn parse(header: Option<&HeaderValue>) -> Presented {
    let Some(value) = header else {
        return Presented::Missing;
    };
    let Ok(value) = value.to_str() else {
        return Presented::Malformed;
    };
    let (scheme, rest) = value.trim().split_once(' ').unwrap_or((value, ""));
    let rest = rest.trim();
    if scheme.eq_ignore_ascii_case("basic") {
        let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(rest) else {
            return Presented::Malformed;
        };
        let Ok(decoded) = String::from_utf8(decoded) else {
            return Presented::Malformed;
        };
        match decoded.split_once(':') {
            Some((user, password)) => Presented::Basic {
                user: user.to_string(),
                password: password.to_string(),
            },
            None => Presented::Malformed,
        }
    } else if scheme.eq_ignore_ascii_case("bearer") && !rest.is_empty() {
        Presented::Bearer(rest.to_string())
    } else {
        Presented::Malformed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Presented {
        parse(Some(&HeaderValue::from_str(s).unwrap()))
    }

    #[test]
    fn schemes() {
        assert_eq!(parse(None), Presented::Missing);
        // "alice:pa:ss" — the password may contain ':'.
        assert_eq!(
            p("Basic YWxpY2U6cGE6c3M="),
            Presented::Basic {
                user: "alice".into(),
                password: "pa:ss".into()
            }
        );
        assert_eq!(
            p("basic YWxpY2U6cGE6c3M="),
            Presented::Basic {
                user: "alice".into(),
                password: "pa:ss".into()
            }
        );
        assert_eq!(p("Bearer abc.def"), Presented::Bearer("abc.def".into()));
        assert_eq!(p("BEARER  abc"), Presented::Bearer("abc".into()));
        assert_eq!(p("Basic !!!"), Presented::Malformed);
        assert_eq!(p("Basic YWxpY2U="), Presented::Malformed); // "alice", no colon
        assert_eq!(p("Bearer"), Presented::Malformed);
        assert_eq!(p("Digest x"), Presented::Malformed);
        let shown = format!("{:?}", p("Basic YWxpY2U6cGE6c3M="));
        assert!(!shown.contains("pa:ss"), "{shown}");
    }
}
