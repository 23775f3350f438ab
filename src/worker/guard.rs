//! Outbound requests go only to public addresses: a merchant must not be able to make Kassa
//! probe its own network through a notification or webhook URL. Names are checked where they
//! are resolved (a resolver for the HTTP client), so a DNS answer cannot switch to a private
//! address after a check; literal addresses are checked before the request.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// Loopback, private, link-local, carrier-grade NAT, multicast, unspecified, documentation.
pub fn is_internal(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_unspecified()
                || v4.is_documentation()
                || (a == 100 && (64..128).contains(&b))
                || a == 0
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_internal(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
        }
    }
}

/// Why a target URL is refused, or `None` when it may be called.
pub fn refuse(url: &str, allow_internal: bool) -> Option<String> {
    let parsed = match reqwest::Url::parse(url) {
        Ok(u) => u,
        Err(e) => return Some(format!("not a URL: {e}")),
    };
    if !matches!(parsed.scheme(), "http" | "https") {
        return Some("only http and https URLs are called".into());
    }
    if allow_internal {
        return None;
    }
    match parsed.host() {
        Some(url::Host::Ipv4(ip)) if is_internal(IpAddr::V4(ip)) => Some(format!("{ip} is an internal address")),
        Some(url::Host::Ipv6(ip)) if is_internal(IpAddr::V6(ip)) => Some(format!("{ip} is an internal address")),
        None => Some("the URL has no host".into()),
        _ => None,
    }
}

/// A resolver that drops internal addresses, so names that resolve to them fail to connect.
pub struct PublicOnly;

impl Resolve for PublicOnly {
    fn resolve(&self, name: Name) -> Resolving {
        Box::pin(async move {
            let found = tokio::net::lookup_host((name.as_str(), 0)).await?;
            let public: Vec<SocketAddr> = found.filter(|a| !is_internal(a.ip())).collect();
            if public.is_empty() {
                return Err(format!("{} resolves only to internal addresses", name.as_str()).into());
            }
            Ok(Box::new(public.into_iter()) as Addrs)
        })
    }
}

/// The HTTP client of the worker: timeouts always; internal addresses only if allowed.
pub fn client(timeout: std::time::Duration, allow_internal: bool) -> reqwest::Client {
    let mut builder = reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout.min(std::time::Duration::from_secs(5)))
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("Kassa/", env!("CARGO_PKG_VERSION")));
    if !allow_internal {
        builder = builder.dns_resolver(Arc::new(PublicOnly));
    }
    builder.build().expect("the HTTP client builds with static settings")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_targets_are_refused() {
        for url in [
            "http://127.0.0.1:8080/x",
            "http://10.1.2.3/",
            "http://192.168.0.1/",
            "http://172.16.5.5/",
            "http://169.254.169.254/latest/meta-data",
            "http://[::1]/",
            "http://[fd00::1]/",
            "http://[::ffff:127.0.0.1]/",
            "http://100.64.0.1/",
            "ftp://example.com/",
        ] {
            assert!(refuse(url, false).is_some(), "{url}");
        }
        assert!(refuse("https://shop.example.com/notify", false).is_none());
        assert!(refuse("http://8.8.8.8/", false).is_none());
        assert!(refuse("http://127.0.0.1:8080/x", true).is_none());
    }
}
