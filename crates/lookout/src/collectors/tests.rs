use super::*;

fn section(yaml: &str) -> CollectorsSection {
    serde_yaml_ng::from_str(yaml).unwrap()
}

#[test]
fn the_host_collector_runs_when_named_and_its_job_scrapes_the_exporter_path() {
    let none = CollectorsSection::default().resolve().unwrap();
    assert!(
        none.jobs(&GlobalConfig::default(), "x:1")
            .unwrap()
            .is_empty()
    );
    let resolved = section("host: {}\n").resolve().unwrap();
    let jobs = resolved
        .jobs(&GlobalConfig::default(), "localhost:9090")
        .unwrap();
    assert_eq!(jobs.len(), 1);
    let job = &jobs[0];
    assert_eq!(job.job_name, "node");
    assert_eq!(job.metrics_path, "/exporters/node/metrics");
    assert_eq!(job.builtin_exporter.as_deref(), Some("node"));
    let labels = &job.static_configs[0].labels;
    assert_eq!(labels.get("instance"), Some(&host_name()));
}

#[test]
fn job_settings_and_exporter_options_are_split_and_checked_by_path() {
    let resolved = section(
        "host: {job_name: host, scrape_interval: 30s, instance: pve1, proc_root: /host/proc}\n",
    )
    .resolve()
    .unwrap();
    let jobs = resolved
        .jobs(&GlobalConfig::default(), "127.0.0.1:9")
        .unwrap();
    assert_eq!(jobs[0].job_name, "host");
    assert_eq!(jobs[0].interval(), PromDuration::from_secs(30));
    assert_eq!(
        jobs[0].static_configs[0]
            .labels
            .get("instance")
            .map(String::as_str),
        Some("pve1")
    );
    let err = section("host: {proc_rot: /x}\n").resolve().unwrap_err();
    assert!(
        format!("{err:#}").contains("collectors.host") && format!("{err:#}").contains("proc_rot"),
        "{err:#}"
    );
    let err = section("host: {scrape_interval: soon}\n")
        .resolve()
        .unwrap_err();
    assert!(format!("{err:#}").contains("collectors.host"), "{err:#}");
    let off = section("host: {enabled: false}\n").resolve().unwrap();
    assert!(
        off.jobs(&GlobalConfig::default(), "x:1")
            .unwrap()
            .is_empty()
    );
}

#[test]
fn proxmox_modules_become_one_target_each_with_the_pve_host_as_instance() {
    let resolved = section(
        "host: {enabled: false}\nproxmox:\n  scrape_interval: 30s\n  modules:\n    - {name: default, targets: [pve1.lan, pve2.lan], user: prometheus@pve, token_name: mon, token_value: s3cret}\n    - {name: lab, targets: ['10.0.0.5:8006'], user: root@pam, password: pw}\n",
    )
    .resolve()
    .unwrap();
    let jobs = resolved
        .jobs(&GlobalConfig::default(), "127.0.0.1:9090")
        .unwrap();
    assert_eq!(jobs.len(), 1);
    let job = &jobs[0];
    assert_eq!(job.job_name, "pve");
    assert_eq!(job.builtin_exporter.as_deref(), Some("pve"));
    assert_eq!(job.interval(), PromDuration::from_secs(30));
    let targets: Vec<(&str, &str)> = job
        .static_configs
        .iter()
        .map(|g| (g.targets[0].as_str(), g.labels["__param_module"].as_str()))
        .collect();
    assert_eq!(targets, [("pve1.lan", "default"), ("10.0.0.5:8006", "lab")]);
    let err = section(
        "proxmox: {modules: [{name: a, targets: ['https://pve1'], user: u@pve, password: p}]}\n",
    )
    .resolve()
    .unwrap_err();
    assert!(format!("{err:#}").contains("collectors.proxmox"), "{err:#}");
}
