//! Where a job's expositions come from: an HTTP client, or an exporter built into the binary whose `collect`
//! replaces the fetch (so its samples take the normal scrape path: relabeling, limits, `up`, staleness, health).

use std::sync::Arc;
use std::time::Duration;

use lookout_model::{ExportError, Exporter};

use super::body_memory::{BodyMemory, BodyReservation};
use super::error::ScrapeError;
use super::http::{FetchedBody, JobClient};

/// The content type a built-in exporter's text is parsed as.
const EXPORTER_CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// How one job fetches.
#[derive(Clone)]
pub enum Fetcher {
    /// Over HTTP(S).
    Http(JobClient),
    /// From an exporter built into the binary.
    Builtin(Arc<dyn Exporter>),
}

impl std::fmt::Debug for Fetcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Fetcher::Http(c) => c.fmt(f),
            Fetcher::Builtin(e) => write!(f, "Builtin({})", e.name()),
        }
    }
}

impl Fetcher {
    /// Fetches `url` (for a built-in exporter, only its query parameters matter), within `timeout`,
    /// `max_body_bytes` and what is left of `memory`; the body's bytes stay reserved until the returned
    /// reservation is dropped.
    pub async fn fetch(
        &self,
        url: &str,
        timeout: Duration,
        max_body_bytes: usize,
        memory: &Arc<BodyMemory>,
    ) -> Result<(FetchedBody, BodyReservation), ScrapeError> {
        match self {
            Fetcher::Http(client) => client.fetch(url, timeout, max_body_bytes, memory).await,
            Fetcher::Builtin(exporter) => {
                let params = query_params(url);
                let text = match tokio::time::timeout(timeout, exporter.collect(&params)).await {
                    Err(_) => return Err(ScrapeError::Timeout(timeout)),
                    Ok(Err(e)) => return Err(exporter_error(exporter.name(), e)),
                    Ok(Ok(text)) => text,
                };
                if text.len() > max_body_bytes {
                    return Err(ScrapeError::BodySizeLimit {
                        limit: max_body_bytes,
                    });
                }
                let mut reservation = memory.reservation();
                if !reservation.grow(text.capacity()) {
                    return Err(ScrapeError::BodyMemory {
                        share: reservation.capacity(),
                    });
                }
                let body = FetchedBody {
                    body: text.into_bytes(),
                    content_type: Some(EXPORTER_CONTENT_TYPE.to_string()),
                };
                Ok((body, reservation))
            }
        }
    }
}

fn exporter_error(name: &str, e: ExportError) -> ScrapeError {
    ScrapeError::Exporter {
        exporter: name.to_string(),
        reason: e.to_string(),
    }
}

/// The query parameters of `url`, decoded, in order (none when it does not parse).
fn query_params(url: &str) -> Vec<(String, String)> {
    url::Url::parse(url)
        .map(|u| {
            u.query_pairs()
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use lookout_model::ExportFuture;

    struct Echo;

    impl Exporter for Echo {
        fn name(&self) -> &str {
            "echo"
        }
        fn collect<'a>(&'a self, params: &'a [(String, String)]) -> ExportFuture<'a> {
            Box::pin(async move {
                match lookout_model::exporter::param(params, "target") {
                    Some("bad") => Err(ExportError::Failed("API answered 403 Forbidden".into())),
                    Some("slow") => {
                        tokio::time::sleep(Duration::from_secs(5)).await;
                        Ok(String::new())
                    }
                    t => Ok(format!("up_from{{target=\"{}\"}} 1\n", t.unwrap_or(""))),
                }
            })
        }
    }

    #[tokio::test]
    async fn a_builtin_exporter_gets_the_url_parameters_and_its_errors_fail_the_scrape() {
        let f = Fetcher::Builtin(Arc::new(Echo));
        let t = Duration::from_millis(200);
        let mem = BodyMemory::new(0);
        let (body, reservation) = f
            .fetch(
                "http://pve1/metrics?target=pve1%3A8006&module=default",
                t,
                1 << 20,
                &mem,
            )
            .await
            .unwrap();
        assert!(mem.used() >= body.body.len());
        drop(reservation);
        assert_eq!(mem.used(), 0);
        assert_eq!(body.body, b"up_from{target=\"pve1:8006\"} 1\n");
        assert!(body.content_type.unwrap().contains("0.0.4"));
        let e = f
            .fetch("http://x/metrics?target=bad", t, 1 << 20, &mem)
            .await
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "built-in exporter echo: API answered 403 Forbidden"
        );
        let e = f
            .fetch("http://x/metrics?target=slow", t, 1 << 20, &mem)
            .await
            .unwrap_err();
        assert_eq!(e, ScrapeError::Timeout(t));
        let e = f
            .fetch("http://x/metrics?target=p", t, 4, &mem)
            .await
            .unwrap_err();
        assert_eq!(e, ScrapeError::BodySizeLimit { limit: 4 });
        let e = f
            .fetch("http://x/metrics?target=p", t, 1 << 20, &BodyMemory::new(4))
            .await
            .unwrap_err();
        assert_eq!(e, ScrapeError::BodyMemory { share: 4 });
    }
}
