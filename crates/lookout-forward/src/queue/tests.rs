use super::*;

fn opts() -> QueueOptions {
    QueueOptions {
        max_size: 1 << 30,
        segment_size: 1024,
    }
}

fn payload(i: u32) -> Vec<u8> {
    format!("record-{i:05}-").repeat(10).into_bytes()
}

fn read_all(q: &DiskQueue, r: &mut QueueReader) -> Vec<QueueRecord> {
    let mut out = Vec::new();
    for _ in 0..10_000 {
        let batch = r.read(q, 7).unwrap();
        if batch.is_empty() {
            break;
        }
        out.extend(batch);
    }
    out
}

fn dir_size(dir: &Path) -> u64 {
    fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().metadata().unwrap().len())
        .sum()
}

#[test]
fn append_read_ack_in_order_across_segments() {
    let tmp = tempfile::tempdir().unwrap();
    let q = DiskQueue::open(tmp.path(), opts()).unwrap();
    for i in 0..100 {
        q.append(i, &payload(i)).unwrap();
    }
    assert!(q.stats().segments > 5, "small segments roll");
    assert_eq!(q.stats().unread_items, (0..100).sum::<u32>() as u64);
    let mut r = q.reader();
    let got = read_all(&q, &mut r);
    assert_eq!(got.len(), 100);
    for (i, rec) in got.iter().enumerate() {
        assert_eq!(rec.payload, payload(i as u32));
        assert_eq!(rec.items, i as u32);
    }
    assert_eq!(q.stats().unread_items, 0);
    // Caught up: nothing more until an append.
    assert!(r.read(&q, 10).unwrap().is_empty());
    q.append(1, b"late").unwrap();
    assert_eq!(r.read(&q, 10).unwrap()[0].payload, b"late");
    let before = q.stats().segments;
    q.ack(got[99].end).unwrap();
    assert!(
        q.stats().segments < before,
        "acknowledged segments are deleted"
    );
    assert_eq!(q.acked(), got[99].end);
}

#[test]
fn restart_replays_from_the_acknowledged_position() {
    let tmp = tempfile::tempdir().unwrap();
    {
        let q = DiskQueue::open(tmp.path(), opts()).unwrap();
        for i in 0..50 {
            q.append(1, &payload(i)).unwrap();
        }
        let mut r = q.reader();
        let got = read_all(&q, &mut r);
        q.ack(got[29].end).unwrap();
    }
    let q = DiskQueue::open(tmp.path(), opts()).unwrap();
    assert_eq!(
        q.stats().unread_items,
        20,
        "only unacknowledged items are unread"
    );
    q.append(1, &payload(50)).unwrap();
    let mut r = q.reader();
    let got = read_all(&q, &mut r);
    let want: Vec<Vec<u8>> = (30..51).map(payload).collect();
    assert_eq!(got.into_iter().map(|r| r.payload).collect::<Vec<_>>(), want);
}

#[test]
fn torn_tail_is_cut_at_the_last_good_record() {
    let tmp = tempfile::tempdir().unwrap();
    let big = QueueOptions {
        max_size: 1 << 30,
        segment_size: 1 << 20,
    };
    {
        let q = DiskQueue::open(tmp.path(), big).unwrap();
        for i in 0..5 {
            q.append(1, &payload(i)).unwrap();
        }
    }
    // Simulate a crash during the sixth write: a header and half a payload.
    let seg = fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "seg"))
        .max_by_key(|p| fs::metadata(p).unwrap().len())
        .unwrap();
    let good_len = fs::metadata(&seg).unwrap().len();
    let rec = encode_record(1, &payload(5));
    let mut f = OpenOptions::new().append(true).open(&seg).unwrap();
    f.write_all(&rec[..rec.len() / 2]).unwrap();
    drop(f);
    let q = DiskQueue::open(tmp.path(), big).unwrap();
    assert_eq!(fs::metadata(&seg).unwrap().len(), good_len);
    q.append(1, &payload(6)).unwrap();
    let mut r = q.reader();
    let got: Vec<_> = read_all(&q, &mut r)
        .into_iter()
        .map(|r| r.payload)
        .collect();
    let want: Vec<_> = [0, 1, 2, 3, 4, 6].into_iter().map(payload).collect();
    assert_eq!(got, want);
}

#[test]
fn corrupt_record_in_the_middle_is_cut_too() {
    let tmp = tempfile::tempdir().unwrap();
    let big = QueueOptions {
        max_size: 1 << 30,
        segment_size: 1 << 20,
    };
    let seg;
    {
        let q = DiskQueue::open(tmp.path(), big).unwrap();
        for i in 0..4 {
            q.append(1, &payload(i)).unwrap();
        }
        seg = segment_path(tmp.path(), q.state.lock().segments.back().unwrap().id);
    }
    let mut bytes = fs::read(&seg).unwrap();
    let rec_len = encode_record(1, &payload(0)).len();
    bytes[2 * rec_len + 20] ^= 0xff;
    fs::write(&seg, &bytes).unwrap();
    let q = DiskQueue::open(tmp.path(), big).unwrap();
    let mut r = q.reader();
    assert_eq!(read_all(&q, &mut r).len(), 2);
}

#[test]
fn size_bound_drops_the_oldest_and_counts() {
    let tmp = tempfile::tempdir().unwrap();
    let o = QueueOptions {
        max_size: 8 * 1024,
        segment_size: 1024,
    };
    let q = DiskQueue::open(tmp.path(), o).unwrap();
    let mut r = q.reader();
    // Read (not ack) the first 10 records: they do not count as dropped when their segment goes.
    for i in 0..10 {
        q.append(3, &payload(i)).unwrap();
    }
    let first = r.read(&q, 30).unwrap();
    assert_eq!(first.len(), 10);
    for i in 10..500 {
        q.append(3, &payload(i)).unwrap();
        let size = dir_size(tmp.path());
        assert!(
            size <= o.max_size + o.segment_size + 200,
            "directory {size} bytes over bound"
        );
    }
    let st = q.stats();
    assert!(st.dropped_items > 0);
    let rest = read_all(&q, &mut r);
    let delivered = 30 + rest.iter().map(|r| u64::from(r.items)).sum::<u64>();
    assert_eq!(
        delivered + st.dropped_items,
        500 * 3,
        "every item is either read or counted as dropped"
    );
    // What is left is the newest records, in order.
    let last = rest.last().unwrap();
    assert_eq!(last.payload, payload(499));
    assert!(rest.windows(2).all(|w| w[0].end < w[1].end));
}
