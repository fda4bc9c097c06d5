//! PEM decoding of certificates and private keys (rustls-pki-types' parser), with messages that name the file.

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// Every certificate in `pem`, in order; an error when there is none or one is damaged.
pub(crate) fn certificates(pem: &[u8]) -> Result<Vec<CertificateDer<'static>>, String> {
    let certs = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("invalid PEM: {e}"))?;
    if certs.is_empty() {
        return Err("no PEM certificate (-----BEGIN CERTIFICATE-----) found".into());
    }
    Ok(certs)
}

/// The first private key in `pem` (PKCS#8, PKCS#1 or SEC1).
pub(crate) fn private_key(pem: &[u8]) -> Result<PrivateKeyDer<'static>, String> {
    PrivateKeyDer::from_pem_slice(pem).map_err(|e| match e {
        rustls::pki_types::pem::Error::NoItemsFound => {
            "no PEM private key (-----BEGIN PRIVATE KEY-----, RSA PRIVATE KEY or EC PRIVATE KEY) found".into()
        }
        e => format!("invalid PEM: {e}"),
    })
}

/// The serial number and `notAfter` (Unix seconds) of a DER certificate.
pub(crate) fn serial_and_not_after(der: &[u8]) -> Option<(Vec<u8>, i64)> {
    let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
    Some((
        cert.raw_serial().to_vec(),
        cert.validity().not_after.timestamp(),
    ))
}

/// The subject alternative names of a DER certificate as Go prints them (DNS names, e-mails, IPs, URIs).
pub(crate) fn subject_alt_names(der: &[u8]) -> Result<Vec<String>, String> {
    use x509_parser::extensions::GeneralName;
    let (_, cert) = x509_parser::parse_x509_certificate(der)
        .map_err(|e| format!("unparsable certificate: {e}"))?;
    let Some(san) = cert
        .subject_alternative_name()
        .map_err(|e| format!("unparsable subjectAltName: {e}"))?
    else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for name in &san.value.general_names {
        match name {
            GeneralName::DNSName(s) | GeneralName::RFC822Name(s) | GeneralName::URI(s) => {
                out.push((*s).to_string())
            }
            GeneralName::IPAddress(b) => {
                if let Ok(v4) = <[u8; 4]>::try_from(*b) {
                    out.push(std::net::Ipv4Addr::from(v4).to_string());
                } else if let Ok(v6) = <[u8; 16]>::try_from(*b) {
                    out.push(std::net::Ipv6Addr::from(v6).to_string());
                }
            }
            _ => {}
        }
    }
    Ok(out)
}
