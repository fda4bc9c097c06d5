//! A PVE API address as upstream takes it: a bare host or IP with an optional port (8006 by default), never a
//! URL. IPv6 addresses are written in brackets when a port follows (`[fd00::1]:8006`); a bare IPv6 address gets
//! the default port.

use std::net::Ipv6Addr;

/// PVE's API port.
pub const DEFAULT_PORT: u16 = 8006;

/// A parsed `host[:port]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ApiTarget {
    /// Host name or IP; IPv6 without brackets.
    pub host: String,
    /// TCP port.
    pub port: u16,
}

impl ApiTarget {
    /// Parses `host[:port]`; the error says why (a scheme, a path, a bad port).
    pub fn parse(text: &str) -> Result<Self, String> {
        if text.contains("://") {
            return Err(format!(
                "{text:?} has a scheme: give host[:port] only (e.g. pve1.example.com or 10.0.0.11:8006); \
                 the API is always https"
            ));
        }
        if text.is_empty() {
            return Err("empty target: give host[:port]".to_string());
        }
        if text.contains(['/', '?', '#', '@']) || text.contains(char::is_whitespace) {
            return Err(format!(
                "{text:?} is not host[:port]: no path, query, user or spaces allowed"
            ));
        }
        let bad_port = |p: &str| format!("{text:?}: port {p:?} is not a number from 1 to 65535");
        let parse_port = |p: &str| match p.parse::<u16>() {
            Ok(0) | Err(_) => Err(bad_port(p)),
            Ok(port) => Ok(port),
        };
        if let Some(rest) = text.strip_prefix('[') {
            let (addr, after) = rest
                .split_once(']')
                .ok_or_else(|| format!("{text:?}: missing ']' after an IPv6 address"))?;
            addr.parse::<Ipv6Addr>()
                .map_err(|_| format!("{text:?}: {addr:?} is not an IPv6 address"))?;
            let port = match after {
                "" => DEFAULT_PORT,
                _ => parse_port(
                    after
                        .strip_prefix(':')
                        .ok_or_else(|| format!("{text:?}: expected ':port' after ']'"))?,
                )?,
            };
            return Ok(ApiTarget {
                host: addr.to_string(),
                port,
            });
        }
        if text.parse::<Ipv6Addr>().is_ok() {
            return Ok(ApiTarget {
                host: text.to_string(),
                port: DEFAULT_PORT,
            });
        }
        let (host, port) = match text.split_once(':') {
            Some((host, port)) => (host, parse_port(port)?),
            None => (text, DEFAULT_PORT),
        };
        if host.is_empty() {
            return Err(format!("{text:?}: empty host"));
        }
        Ok(ApiTarget {
            host: host.to_string(),
            port,
        })
    }

    /// `https://host:port` (brackets around IPv6).
    pub fn base_url(&self) -> String {
        if self.host.contains(':') {
            format!("https://[{}]:{}", self.host, self.port)
        } else {
            format!("https://{}:{}", self.host, self.port)
        }
    }
}

impl std::fmt::Display for ApiTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.host.contains(':') {
            write!(f, "[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{}:{}", self.host, self.port)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_hosts_ports_and_refuses_urls() {
        let t = |s: &str| ApiTarget::parse(s).map(|t| (t.host, t.port));
        assert_eq!(t("pve1"), Ok(("pve1".into(), 8006)));
        assert_eq!(t("10.0.0.11:8443"), Ok(("10.0.0.11".into(), 8443)));
        assert_eq!(t("[fd00::1]:9000"), Ok(("fd00::1".into(), 9000)));
        assert_eq!(t("[fd00::1]"), Ok(("fd00::1".into(), 8006)));
        assert_eq!(t("fd00::1"), Ok(("fd00::1".into(), 8006)));
        assert!(t("https://pve1:8006").unwrap_err().contains("scheme"));
        assert!(t("pve1/api2").is_err());
        assert!(t("pve1:0").is_err());
        assert!(t("pve1:99999").is_err());
        assert!(t(":8006").is_err());
        assert!(t("").is_err());
        assert_eq!(
            ApiTarget::parse("fd00::1").unwrap().base_url(),
            "https://[fd00::1]:8006"
        );
        assert_eq!(ApiTarget::parse("pve1").unwrap().to_string(), "pve1:8006");
    }
}
