//! TLS of the forwarding clients (remote_write, Loki push): `lookout_http_tls`, shared by every outgoing HTTP client.

#[cfg(test)]
pub(crate) use lookout_http_tls::root_store;

#[cfg(test)]
mod tests;
