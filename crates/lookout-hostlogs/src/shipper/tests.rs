use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use lookout_model::{ByteSize, PromDuration};

use super::*;

/// Records pushes; refuses (invalid) any push holding a line with "bad"; rate-limits everything while `busy`.
#[derive(Default)]
struct Recorder {
    pushes: Mutex<Vec<Vec<String>>>,
    busy: AtomicBool,
}

impl LogSink for Recorder {
    fn push(&self, push: Vec<PushStream>) -> Result<usize, LogPushError> {
        if self.busy.load(Ordering::SeqCst) {
            return Err(LogPushError::RateLimited {
                reason: "rate_limited",
                message: "busy".into(),
            });
        }
        let lines: Vec<String> = push
            .iter()
            .flat_map(|p| p.entries.iter().map(|e| e.line.clone()))
            .collect();
        if lines.iter().any(|l| l.contains("bad")) {
            return Err(LogPushError::Invalid {
                reason: "line_too_long",
                message: "bad".into(),
            });
        }
        self.pushes.lock().unwrap().push(lines.clone());
        Ok(lines.len())
    }
}

fn items(lines: &[&str]) -> Vec<Item> {
    lines
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let stream = if i % 2 == 0 { "a" } else { "b" };
            (
                Labels::from_pairs(&[("s", stream)]).unwrap(),
                Entry {
                    ts: i as i64,
                    line: l.to_string(),
                    metadata: vec![],
                },
            )
        })
        .collect()
}

fn shipper(
    sink: Arc<Recorder>,
    cfg: BatchConfig,
) -> (watch::Sender<bool>, Shipper, Arc<SourceMetrics>) {
    let (tx, shutdown) = Shutdown::new();
    let m = Arc::new(SourceMetrics::default());
    (tx, Shipper::new(sink, m.clone(), cfg, shutdown, "test"), m)
}

#[tokio::test]
async fn pushes_are_bounded_in_entries_and_bytes() {
    let sink = Arc::new(Recorder::default());
    let cfg = BatchConfig {
        batch_entries: 4,
        batch_size: ByteSize(10),
        ..BatchConfig::default()
    };
    let (_tx, s, m) = shipper(sink.clone(), cfg);
    let lines: Vec<String> = (0..10).map(|i| format!("l{i}")).collect();
    let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
    s.ship(items(&refs), false).await.unwrap();
    let pushes = sink.pushes.lock().unwrap().clone();
    assert_eq!(
        pushes.iter().map(Vec::len).collect::<Vec<_>>(),
        vec![4, 4, 2]
    );
    let big = "x".repeat(6);
    s.ship(items(&[&big, &big, "y"]), false).await.unwrap();
    let pushes = sink.pushes.lock().unwrap().clone();
    // 6 + 6 bytes exceed 10, so the big lines go in separate pushes; the small one joins the second.
    assert_eq!(
        pushes[3..].iter().map(Vec::len).collect::<Vec<_>>(),
        vec![1, 2]
    );
    assert_eq!(m.pushed.load(Ordering::Relaxed), 13);
}

#[tokio::test]
async fn a_refused_push_is_split_until_the_bad_entries_are_found() {
    let sink = Arc::new(Recorder::default());
    let (_tx, s, m) = shipper(sink.clone(), BatchConfig::default());
    s.ship(
        items(&["1", "2", "bad 3", "4", "5", "6", "bad 7", "8"]),
        false,
    )
    .await
    .unwrap();
    let stored: Vec<String> = sink.pushes.lock().unwrap().concat();
    let mut sorted = stored.clone();
    sorted.sort();
    assert_eq!(sorted, vec!["1", "2", "4", "5", "6", "8"]);
    assert_eq!(m.dropped_count(DropReason::Invalid), 2);
    assert_eq!(m.pushed.load(Ordering::Relaxed), 6);
}

#[tokio::test]
async fn rate_limits_are_retried_until_shutdown() {
    let sink = Arc::new(Recorder::default());
    sink.busy.store(true, Ordering::SeqCst);
    let cfg = BatchConfig {
        min_backoff: PromDuration::from_millis(10),
        max_backoff: PromDuration::from_millis(40),
        ..BatchConfig::default()
    };
    let (tx, s, m) = shipper(sink.clone(), cfg);
    let s = Arc::new(s);
    let s2 = s.clone();
    let task = tokio::spawn(async move { s2.ship(items(&["a", "b", "c"]), false).await });
    let deadline = Instant::now() + Duration::from_secs(10);
    while m.push_rate_limited.load(Ordering::Relaxed) < 5 {
        assert!(Instant::now() < deadline, "no retries");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(!task.is_finished());
    tx.send(true).unwrap();
    let err = task.await.unwrap().unwrap_err();
    assert_eq!(err.unshipped, 3);
    assert!(sink.pushes.lock().unwrap().is_empty());
    // Once the store accepts again, the same entries go through.
    sink.busy.store(false, Ordering::SeqCst);
    s.ship(items(&["a", "b", "c"]), true).await.unwrap();
    let mut stored = sink.pushes.lock().unwrap().concat();
    stored.sort();
    assert_eq!(stored, vec!["a", "b", "c"]);
}
