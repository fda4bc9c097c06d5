//! Configuration parsing and the checks that name the field at fault.

use super::*;

fn module_yaml(extra: &str) -> String {
    format!("modules:\n  - name: default\n    targets: [pve1]\n    user: prometheus@pve\n{extra}")
}

fn err(yaml: &str) -> ConfigError {
    ProxmoxConfig::from_yaml(yaml).unwrap_err()
}

fn field_of(e: &ConfigError) -> &str {
    match e {
        ConfigError::Field { field, .. } => field,
        ConfigError::Syntax(_) => "<syntax>",
    }
}

#[test]
fn defaults_follow_upstream() {
    let c = ProxmoxConfig::from_yaml(&module_yaml(
        "    token_name: monitoring\n    token_value: secret\n",
    ))
    .unwrap();
    let m = &c.modules[0];
    assert_eq!(m.timeout, PromDuration::from_secs(5));
    assert_eq!(m.body_size_limit, ByteSize(16 << 20));
    assert!(m.cluster && m.node);
    assert_eq!(m.collectors, CollectorSwitches::default());
    assert!(m.collectors.qdevice && m.collectors.backup_info);
    assert!(!m.tls_config.insecure_skip_verify);
    assert_eq!(
        m.auth().unwrap(),
        AuthMethod::Token {
            user: "prometheus@pve".into(),
            token_name: "monitoring".into(),
            secret: Secret::Inline("secret".into()),
        }
    );
}

#[test]
fn token_wins_over_password_and_files_are_accepted() {
    let c = ProxmoxConfig::from_yaml(&module_yaml(
        "    token_name: t\n    token_value_file: /run/secrets/token\n    password: p\n",
    ))
    .unwrap();
    assert!(matches!(
        c.modules[0].auth().unwrap(),
        AuthMethod::Token {
            secret: Secret::File {
                field: "token_value_file",
                ..
            },
            ..
        }
    ));
    let c = ProxmoxConfig::from_yaml(&module_yaml("    password_file: /run/pw\n")).unwrap();
    assert!(matches!(
        c.modules[0].auth().unwrap(),
        AuthMethod::Ticket { .. }
    ));
    let debug = format!("{:?}", Secret::Inline("hunter2".into()));
    assert!(!debug.contains("hunter2"));
}

#[test]
fn switches_and_aliases_parse() {
    let c = ProxmoxConfig::from_yaml(&module_yaml(
        "    password: p\n    collectors: {config: false, backup-info: false}\n    cluster: false\n    timeout: 15s\n    tls_config: {insecure_skip_verify: true}\n",
    ))
    .unwrap();
    let m = &c.modules[0];
    assert!(!m.collectors.config && !m.collectors.backup_info && m.collectors.status);
    assert!(!m.cluster && m.node);
    assert_eq!(m.timeout, PromDuration::from_secs(15));
    assert!(m.tls_config.insecure_skip_verify);
}

#[test]
fn bad_modules_name_the_field() {
    let e = err(
        "modules:\n  - name: default\n    targets: ['https://pve1:8006']\n    user: u@pve\n    password: p\n",
    );
    assert_eq!(field_of(&e), "targets[0]");
    assert!(e.to_string().contains("scheme"), "{e}");

    let e =
        err(&module_yaml("    password: p\n")
            .replace("prometheus@pve", "'prometheus@pve!monitoring'"));
    assert_eq!(field_of(&e), "user");
    assert!(e.to_string().contains("#388"), "{e}");

    assert_eq!(
        field_of(&err(
            &module_yaml("    password: p\n").replace("prometheus@pve", "prometheus")
        )),
        "user"
    );
    assert_eq!(field_of(&err(&module_yaml(""))), "token_name");
    assert_eq!(
        field_of(&err(&module_yaml("    token_name: t\n"))),
        "token_value"
    );
    assert_eq!(
        field_of(&err(&module_yaml("    token_value: v\n"))),
        "token_name"
    );
    assert_eq!(
        field_of(&err(&module_yaml(
            "    token_name: t\n    token_value: v\n    token_value_file: f\n"
        ))),
        "token_value_file"
    );
    assert_eq!(
        field_of(&err(&module_yaml(
            "    password: p\n    password_file: f\n"
        ))),
        "password_file"
    );
    assert_eq!(
        field_of(&err(&module_yaml("    password: p\n    timeout: 0s\n"))),
        "timeout"
    );
    assert_eq!(
        field_of(&err(&module_yaml(
            "    password: p\n    tls_config: {cert_file: c}\n"
        ))),
        "tls_config.key_file"
    );
    assert_eq!(
        field_of(&err(
            "modules:\n  - name: default\n    targets: []\n    user: u@pve\n    password: p\n"
        )),
        "targets"
    );
    let twice = format!(
        "{}{}",
        module_yaml("    password: p\n"),
        "  - name: default\n    targets: [pve2]\n    user: u@pve\n    password: p\n"
    );
    assert_eq!(field_of(&err(&twice)), "name");
    assert!(matches!(
        err(&module_yaml("    password: p\n    verify_ssl: false\n")),
        ConfigError::Syntax(_)
    ));
    assert!(matches!(
        err(&module_yaml(
            "    password: p\n    collectors: {bogus: true}\n"
        )),
        ConfigError::Syntax(_)
    ));
}
