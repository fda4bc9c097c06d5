//! Requests through a trusted reverse proxy: the proxy's user header is believed only when the TCP peer is
//! inside `trusted_proxies`, and the client address (for brute-force limits) is then the nearest untrusted hop
//! of `X-Forwarded-For` rather than the proxy, so one client's failures do not lock out everyone behind it.

use std::net::IpAddr;

use http::HeaderMap;

use crate::config::ProxyConfig;

/// Whether `peer` is one of the proxy's networks.
pub(crate) fn is_trusted(proxy: &ProxyConfig, peer: IpAddr) -> bool {
    proxy.trusted_proxies.iter().any(|c| c.contains(peer))
}

/// The user the proxy vouches for, when the peer is trusted and the header is present and non-empty.
pub(crate) fn vouched_user<'a>(
    proxy: &ProxyConfig,
    peer: Option<IpAddr>,
    headers: &'a HeaderMap,
) -> Option<&'a str> {
    if !peer.is_some_and(|p| is_trusted(proxy, p)) {
        return None;
    }
    headers
        .get(proxy.user_header.as_str())
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|u| !u.is_empty())
}

/// The address failures are charged to.
pub(crate) fn client_address(
    proxy: Option<&ProxyConfig>,
    peer: Option<IpAddr>,
    headers: &HeaderMap,
) -> Option<IpAddr> {
    let peer = peer?;
    let Some(proxy) = proxy.filter(|p| is_trusted(p, peer)) else {
        return Some(peer);
    };
    // Right to left: each trusted hop appended the address it received from; the first untrusted one is the
    // client as far as we can tell. Anything left of it was written by the client and proves nothing.
    let hops: Vec<IpAddr> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|h| h.trim().parse().ok())
        .collect();
    hops.into_iter()
        .rev()
        .find(|h| !is_trusted(proxy, *h))
        .or(Some(peer))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn proxy() -> ProxyConfig {
        ProxyConfig {
            user_header: "X-Forwarded-User".into(),
            trusted_proxies: vec!["10.0.0.0/8".parse().unwrap(), "127.0.0.1".parse().unwrap()],
            default_roles: vec![],
        }
    }

    #[test]
    fn header_trusted_only_from_the_networks() {
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-user", "alice".parse().unwrap());
        let p = proxy();
        assert_eq!(
            vouched_user(&p, Some("10.1.2.3".parse().unwrap()), &h),
            Some("alice")
        );
        assert_eq!(
            vouched_user(&p, Some("127.0.0.1".parse().unwrap()), &h),
            Some("alice")
        );
        assert_eq!(
            vouched_user(&p, Some("::ffff:10.0.0.1".parse().unwrap()), &h),
            Some("alice")
        );
        assert_eq!(
            vouched_user(&p, Some("127.0.0.2".parse().unwrap()), &h),
            None
        );
        assert_eq!(
            vouched_user(&p, Some("192.168.1.1".parse().unwrap()), &h),
            None
        );
        assert_eq!(vouched_user(&p, None, &h), None);
        h.insert("x-forwarded-user", " ".parse().unwrap());
        assert_eq!(
            vouched_user(&p, Some("10.1.2.3".parse().unwrap()), &h),
            None
        );
    }

    #[test]
    fn client_address_skips_trusted_hops() {
        let p = proxy();
        let mut h = HeaderMap::new();
        h.insert(
            "x-forwarded-for",
            "6.6.6.6, 203.0.113.7, 10.0.0.9".parse().unwrap(),
        );
        let via_proxy = Some("10.0.0.1".parse().unwrap());
        assert_eq!(
            client_address(Some(&p), via_proxy, &h),
            Some("203.0.113.7".parse().unwrap())
        );
        // From an untrusted peer the header is ignored.
        let direct = Some("198.51.100.1".parse().unwrap());
        assert_eq!(client_address(Some(&p), direct, &h), direct);
        assert_eq!(client_address(None, direct, &h), direct);
        assert_eq!(
            client_address(Some(&p), via_proxy, &HeaderMap::new()),
            via_proxy
        );
    }
}
