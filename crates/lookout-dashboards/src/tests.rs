use super::*;

#[test]
fn every_embedded_file_is_listed_once_with_its_own_identity() {
    let list = all();
    assert_eq!(list.len(), files().len());
    for d in &list {
        let value: serde_json::Value = serde_json::from_str(d.json).expect("shipped JSON parses");
        assert_eq!(value["uid"].as_str(), Some(d.uid.as_str()), "{}", d.file);
        assert_eq!(
            value["title"].as_str(),
            Some(d.title.as_str()),
            "{}",
            d.file
        );
        assert!(d.tags.iter().any(|t| t == "lookout"), "{}", d.file);
    }
}

#[test]
fn all_is_sorted_by_title() {
    let titles: Vec<String> = all().into_iter().map(|d| d.title).collect();
    let mut sorted = titles.clone();
    sorted.sort();
    assert_eq!(titles, sorted);
}

#[test]
fn get_finds_each_uid_and_nothing_else() {
    for d in all() {
        assert_eq!(get(&d.uid).map(|g| g.file), Some(d.file));
    }
    assert_eq!(get("no-such-dashboard"), None);
}

#[test]
fn a_file_without_identity_falls_back_to_its_stem() {
    let d = identify("broken.json", "{\"title\": 3}");
    assert_eq!((d.uid.as_str(), d.title.as_str()), ("broken", "broken"));
    assert!(d.tags.is_empty());
}

#[test]
fn the_list_serialises_without_the_json() {
    let d = identify(
        "x.json",
        r#"{"uid":"u","title":"T","tags":["lookout","k"]}"#,
    );
    let v = serde_json::to_value(&d).expect("serialises");
    assert_eq!(
        v,
        serde_json::json!({"uid":"u","title":"T","tags":["lookout","k"],"file":"x.json"})
    );
}
