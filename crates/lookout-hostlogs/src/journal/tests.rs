use tokio::io::BufReader;

use super::read_line;

#[tokio::test]
async fn read_line_splits_and_survives_partial_reads() {
    let data: &[u8] = b"{\"a\":1}\n\n{\"b\":2}";
    let mut r = BufReader::with_capacity(3, data);
    let (mut buf, mut over) = (Vec::new(), false);
    let mut lines = Vec::new();
    while let Some(true) = read_line(&mut r, &mut buf, &mut over).await.unwrap() {
        lines.push(String::from_utf8(std::mem::take(&mut buf)).unwrap());
    }
    assert_eq!(lines, vec!["{\"a\":1}", "", "{\"b\":2}"]);
    assert!(!over);
}
