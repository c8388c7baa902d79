//! Every class of bad configuration is refused with its location; good ones resolve with
//! their defaults.

use std::path::Path;
use std::time::Duration;

use super::*;

fn env(name: &str) -> Option<String> {
    match name {
        "PORT" => Some("9000".into()),
        _ => None,
    }
}

fn load_text(text: &str) -> Result<Config, ConfigError> {
    parse(Path::new("/etc/app/ephitup.toml"), text, &env)
}

/// The single diagnostic of a refused config, with its 1-based line.
fn refused(text: &str) -> (Diagnostic, usize, String) {
    let err = load_text(text).expect_err("config should be refused");
    let shown = err.to_string();
    let d = err.diagnostics().first().cloned().expect("a located diagnostic");
    let span = d.span.clone().expect("a span");
    let (line, _) = line_col(text, span.start);
    assert!(shown.contains(&format!("/etc/app/ephitup.toml:{line}:")), "location missing in: {shown}");
    (d, line, shown)
}

#[test]
fn a_full_config_resolves_with_defaults_and_interpolation() {
    let cfg = load_text(
        r#"
[settings]
data_dir = "${DATA_PATH:-./data}"
log_format = "json"

[env]
SURREAL_URL = "ws://127.0.0.1:8000"
WORKERS = 4

[services.db]
command = ["db", "start", "--bind", "127.0.0.1:${PORT}"]
critical = true
stop_signal = "INT"
health = { http = "http://127.0.0.1:${PORT}/ready", interval = "250ms" }

[services.migrate]
kind = "oneshot"
command = "api migrate --dir 'my dir'"
depends_on = { db = "healthy" }

[services.api]
command = ["api", "serve"]
depends_on = { migrate = "completed" }
env = { RUST_LOG = "info" }
"#,
    )
    .expect("valid config");
    assert_eq!(cfg.settings.data_dir, Path::new("/etc/app/./data"));
    assert_eq!(cfg.settings.log_format, LogFormat::Json);
    assert_eq!(cfg.settings.shutdown_timeout, Duration::from_secs(30));
    let names: Vec<_> = cfg.services.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["db", "migrate", "api"], "declaration order is kept");
    let db = cfg.service("db").expect("db");
    assert_eq!(db.command, ["db", "start", "--bind", "127.0.0.1:9000"]);
    assert_eq!(db.stop_signal, nix::sys::signal::Signal::SIGINT);
    assert_eq!(db.restart, RestartPolicy::Always);
    assert!(db.critical);
    let probe = db.health.as_ref().expect("probe");
    assert_eq!(probe.interval, Duration::from_millis(250));
    assert_eq!(probe.retries, 3);
    assert!(matches!(&probe.check, Check::Http(u) if u.port_u16() == Some(9000)));
    let migrate = cfg.service("migrate").expect("migrate");
    assert_eq!(migrate.command, ["api", "migrate", "--dir", "my dir"]);
    assert_eq!(migrate.restart, RestartPolicy::Never);
    assert_eq!(migrate.depends_on, [Dependency { service: "db".into(), condition: Condition::Healthy }]);
    let api = cfg.service("api").expect("api");
    assert_eq!(
        api.env,
        [
            ("SURREAL_URL".to_string(), "ws://127.0.0.1:8000".to_string()),
            ("WORKERS".to_string(), "4".to_string()),
            ("RUST_LOG".to_string(), "info".to_string())
        ]
    );
    assert_eq!(api.cwd, Path::new("/etc/app"));
}

#[test]
fn toml_syntax_errors_are_located() {
    let (_, line, shown) = refused("[services.a]\ncommand = [\"x\"\n");
    assert!(line >= 2, "{shown}");
}

#[test]
fn unknown_keys_are_refused_with_their_key_path() {
    let (d, line, shown) = refused("[services.a]\ncommand = [\"x\"]\nrestrat = \"always\"\n");
    assert_eq!(line, 3, "{shown}");
    assert_eq!(d.key, "services.a.restrat", "{shown}");
    assert!(d.message.contains("unknown field `restrat`"), "{shown}");

    let (d, _, shown) = refused("[settings]\nshutdown = \"3s\"\n");
    assert!(d.message.contains("unknown field"), "{shown}");
}

#[test]
fn wrong_types_are_refused() {
    let (d, line, shown) = refused("[services.a]\ncommand = [\"x\"]\ncritical = \"yes\"\n");
    assert_eq!(line, 3, "{shown}");
    assert_eq!(d.key, "services.a.critical");
    let (d, line, _) = refused("[services.a]\ncommand = [\"x\"]\nmax_restarts = -1\n");
    assert_eq!((d.key.as_str(), line), ("services.a.max_restarts", 3));
    let (d, _, _) = refused("[services.a]\ncommand = 5\n");
    assert!(d.message.contains("found integer"), "{}", d.message);
}

#[test]
fn bad_durations_sizes_and_signals_are_refused() {
    let (d, line, _) = refused("[services.a]\ncommand = [\"x\"]\nstop_timeout = \"ten seconds\"\n");
    assert_eq!((d.key.as_str(), line), ("services.a.stop_timeout", 3));
    assert!(d.message.contains("not a duration"));
    let (d, line, _) = refused(
        "[services.a]\ncommand = [\"x\"]\n\n[services.a.health]\ntcp = \"127.0.0.1:1\"\ninterval = \"5 parsecs\"\n",
    );
    assert_eq!((d.key.as_str(), line), ("services.a.health.interval", 6));
    let (d, _, _) = refused("[services.a]\ncommand = [\"x\"]\nstop_signal = \"SIGFOO\"\n");
    assert!(d.message.contains("not a signal name"));
    let (d, _, _) = refused("[services.a]\ncommand = [\"x\"]\nstop_signal = \"KILL\"\n");
    assert!(d.message.contains("cannot be a stop signal"));
    let (d, _, _) = refused("[services.a]\ncommand = [\"x\"]\nlog = { max_size = \"lots\" }\n");
    assert_eq!(d.key, "services.a.log.max_size");
}

#[test]
fn unknown_dependencies_are_refused() {
    let (d, line, shown) = refused("[services.a]\ncommand = [\"x\"]\ndepends_on = { nope = \"started\" }\n");
    assert_eq!((d.key.as_str(), line), ("services.a.depends_on.nope", 3));
    assert!(shown.contains("unknown service `nope`"), "{shown}");
    let (d, _, _) = refused("[services.a]\ncommand = [\"x\"]\ndepends_on = { a = \"started\" }\n");
    assert!(d.message.contains("itself"));
    let (d, _, _) =
        refused("[services.a]\ncommand = [\"x\"]\ndepends_on = { b = \"ready\" }\n[services.b]\ncommand = [\"y\"]\n");
    assert!(d.message.contains("unknown condition"));
}

#[test]
fn dependency_cycles_are_refused_and_named() {
    let (d, _, shown) = refused(
        "[services.a]\ncommand = [\"x\"]\ndepends_on = [\"b\"]\n[services.b]\ncommand = [\"x\"]\ndepends_on = [\"c\"]\n[services.c]\ncommand = [\"x\"]\ndepends_on = [\"a\"]\n",
    );
    assert!(d.message.contains("dependency cycle: a → b → c → a"), "{shown}");
}

#[test]
fn completed_on_a_daemon_and_healthy_without_probe_are_refused() {
    let (d, line, shown) = refused(
        "[services.a]\ncommand = [\"x\"]\n[services.b]\ncommand = [\"y\"]\ndepends_on = { a = \"completed\" }\n",
    );
    assert_eq!((d.key.as_str(), line), ("services.b.depends_on.a", 5));
    assert!(shown.contains("daemon and never completes"), "{shown}");
    let (d, _, _) =
        refused("[services.a]\ncommand = [\"x\"]\n[services.b]\ncommand = [\"y\"]\ndepends_on = { a = \"healthy\" }\n");
    assert!(d.message.contains("no `health` probe"));
}

#[test]
fn empty_commands_are_refused() {
    let (d, line, _) = refused("[services.a]\ncommand = []\n");
    assert_eq!((d.key.as_str(), line, d.message.as_str()), ("services.a.command", 2, "command is empty"));
    let (d, _, _) = refused("[services.a]\ncommand = \"   \"\n");
    assert_eq!(d.message, "command is empty");
    let (d, _, _) = refused("[services.a]\ncommand = \"echo 'unclosed\"\n");
    assert!(d.message.contains("unbalanced quotes"));
    let (d, _, _) = refused("[services.a]\n");
    assert!(d.message.contains("missing field `command`"), "{}", d.message);
}

#[test]
fn duplicate_service_names_are_refused() {
    let (_, line, shown) = refused("[services.a]\ncommand = [\"x\"]\n\n[services.a]\ncommand = [\"y\"]\n");
    assert_eq!(line, 4, "{shown}");
    assert!(shown.to_lowercase().contains("duplicate"), "{shown}");
}

#[test]
fn unset_variables_and_bad_probes_are_refused() {
    let (d, line, _) = refused("[services.a]\ncommand = [\"x\", \"${NOT_SET}\"]\n");
    assert_eq!((d.key.as_str(), line), ("services.a.command", 2));
    assert!(d.message.contains("NOT_SET is not set"));
    let (d, _, _) = refused("[services.a]\ncommand = [\"x\"]\nhealth = { http = \"ftp://x/\" }\n");
    assert!(d.message.contains("not an http:// URL"));
    let (d, _, _) = refused("[services.a]\ncommand = [\"x\"]\nhealth = { tcp = \"localhost\" }\n");
    assert!(d.message.contains("host:port"));
    let (d, _, _) = refused("[services.a]\ncommand = [\"x\"]\nhealth = { tcp = \"a:1\", http = \"http://a/\" }\n");
    assert!(d.message.contains("exactly one"));
    let (d, _, _) = refused("[services.a]\ncommand = [\"x\"]\nhealth = { log = \"(\" }\n");
    assert!(d.message.contains("invalid regex"));
    let (d, _, _) = refused("[services.a]\ncommand = [\"x\"]\nliveness = { log = \"up\" }\n");
    assert!(d.message.contains("only be a readiness"));
}

#[test]
fn bad_names_and_policies_are_refused() {
    let (d, _, _) = refused("[services.\"my service\"]\ncommand = [\"x\"]\n");
    assert!(d.message.contains("service names"));
    let (d, _, _) = refused("[services.a]\nkind = \"oneshot\"\nrestart = \"always\"\ncommand = [\"x\"]\n");
    assert_eq!(d.key, "services.a.restart");
    let (d, _, _) = refused("[services.a]\nkind = \"cron\"\ncommand = [\"x\"]\n");
    assert!(d.message.contains("expected `daemon` | `oneshot`"));
    let (d, _, _) = refused("[services.a]\ncommand = [\"x\"]\nreplicas = 0\n");
    assert_eq!(d.key, "services.a.replicas");
    let (d, _, _) = refused("[services.a]\ncommand = [\"x\"]\nuser = \"no-such-user-here\"\n");
    assert!(d.message.contains("no such user"));
}

#[test]
fn several_problems_are_reported_together() {
    let err = load_text(
        "[services.a]\ncommand = []\nstop_timeout = \"x\"\n[services.b]\ncommand = [\"y\"]\ndepends_on = [\"zz\"]\n",
    )
    .expect_err("refused");
    assert_eq!(err.diagnostics().len(), 3, "{err}");
}

#[test]
fn control_and_reload_keys() {
    let c = load_text(
        "[settings]\nhttp = \"127.0.0.1:9000\"\nreload = false\n[services.a]\ncommand = [\"x\"]\n\
         on_dependency_restart = \"wait\"\nwatch = [\"src\", \"/abs\"]\n",
    )
    .expect("valid");
    assert_eq!(c.settings.http, Some("127.0.0.1:9000".parse().expect("addr")));
    assert!(!c.settings.reload);
    let a = c.service("a").expect("a");
    assert_eq!(a.on_dependency_restart, OnDependencyRestart::Wait);
    assert_eq!(a.watch, [Path::new("/etc/app/src"), Path::new("/abs")]);
    let d = load_text("[services.a]\ncommand = [\"x\"]\n").expect("valid");
    assert!(d.settings.reload && d.settings.http.is_none());
    assert_eq!(d.services[0].on_dependency_restart, OnDependencyRestart::Ignore);

    let (d, line, _) = refused("[settings]\nhttp = \"localhost\"\n");
    assert_eq!((d.key.as_str(), line), ("settings.http", 2));
    let (d, _, _) = refused("[services.a]\ncommand = [\"x\"]\non_dependency_restart = \"sometimes\"\n");
    assert_eq!(d.key, "services.a.on_dependency_restart");
    assert!(d.message.contains("`ignore` | `restart` | `wait`"), "{}", d.message);
}

#[test]
fn settings_user_is_every_services_default_and_empty_means_none() {
    let text =
        "[settings]\nuser = \"root\"\n[services.a]\ncommand = [\"x\"]\n[services.b]\ncommand = [\"x\"]\nuser = \"\"\n";
    let cfg = load_text(text).expect("valid");
    assert_eq!(cfg.settings.user.as_ref().map(|u| u.uid), Some(0));
    assert_eq!(cfg.service("a").and_then(|s| s.user.as_ref()).map(|u| u.name.as_str()), Some("root"));
    assert!(cfg.service("b").and_then(|s| s.user.as_ref()).is_none(), "an empty user switches nothing");

    let none = load_text("[settings]\nuser = \"${NOT_SET:-}\"\n[services.a]\ncommand = [\"x\"]\n").expect("valid");
    assert!(none.settings.user.is_none() && none.service("a").and_then(|s| s.user.as_ref()).is_none());

    let (d, line, _) = refused("[settings]\nuser = \"no-such-user-here\"\n");
    assert_eq!((d.key.as_str(), line), ("settings.user", 2));
}

/// The refusal of `text`, shown, which must name the file with line and column.
fn refused_shown(text: &str) -> String {
    let shown = load_text(text).expect_err("config should be refused").to_string();
    assert!(shown.starts_with("error: /etc/app/ephitup.toml:"), "{}", super::diagnostic::clip(&shown));
    let location = shown["error: /etc/app/ephitup.toml:".len()..].split(':').take(2).collect::<Vec<_>>();
    assert!(location.iter().all(|n| n.parse::<usize>().is_ok()), "no line:col in {}", super::diagnostic::clip(&shown));
    shown
}

#[test]
fn durations_and_sizes_past_a_sane_bound_are_refused() {
    // It passed `check`, then `up` panicked on SIGTERM adding it to an Instant.
    let (d, line, _) = refused("[services.a]\ncommand = \"x\"\nstop_timeout = \"18446744073709551615s\"\n");
    assert_eq!((d.key.as_str(), line), ("services.a.stop_timeout", 3));
    assert!(d.message.contains("longer than the longest duration allowed, 365 days"), "{}", d.message);
    let (d, _, _) = refused("[settings]\nshutdown_timeout = \"400days\"\n");
    assert_eq!(d.key, "settings.shutdown_timeout");
    assert!(load_text("[settings]\nshutdown_timeout = \"365days\"\n").is_ok());
    let (d, line, _) = refused("[services.a]\ncommand = \"x\"\nlog = { max_size = \"99999999999999999999999MB\" }\n");
    assert_eq!((d.key.as_str(), line), ("services.a.log.max_size", 3));
    assert!(d.message.contains("larger than the largest size allowed, 1.0 TiB"), "{}", d.message);
    let (d, _, _) = refused("[services.a]\ncommand = \"x\"\nlog = { max_line = \"1GiB\" }\n");
    assert_eq!(d.key, "services.a.log.max_line");
    for (key, value) in [("replicas", "1001"), ("log.max_files", "1001")] {
        let (table, field) = key.split_once('.').unwrap_or(("", key));
        let text = if table.is_empty() {
            format!("[services.a]\ncommand = \"x\"\n{field} = {value}\n")
        } else {
            format!("[services.a]\ncommand = \"x\"\n{table} = {{ {field} = {value} }}\n")
        };
        let (d, _, _) = refused(&text);
        assert_eq!(d.key, format!("services.a.{key}"), "{}", d.message);
        assert!(d.message.contains("at most 1000"), "{}", d.message);
    }
}

#[test]
fn ports_outside_1_to_65535_are_refused_in_probes() {
    for (probe, value) in [
        ("http", "http://127.0.0.1:0/"),
        ("http", "http://127.0.0.1:65536/"),
        ("http", "http://127.0.0.1:99999/"),
        ("tcp", "127.0.0.1:0"),
        ("tcp", "127.0.0.1:65536"),
        ("tcp", "127.0.0.1:+80"),
        ("tcp", "127.0.0.1:"),
    ] {
        let text = format!("[services.a]\ncommand = \"x\"\nhealth = {{ {probe} = \"{value}\" }}\n");
        match load_text(&text) {
            Ok(_) => panic!("{value} accepted"),
            Err(e) => {
                let d = e.diagnostics().first().cloned().expect("a diagnostic");
                assert_eq!(d.key, format!("services.a.health.{probe}"), "{value}: {}", d.message);
                assert!(e.to_string().contains("/etc/app/ephitup.toml:3:"), "{e}");
            }
        }
    }
    let ok = "[services.a]\ncommand = \"x\"\nhealth = { http = \"http://127.0.0.1:65535/x\" }\n\
              liveness = { tcp = \"[::1]:1\" }\n[services.b]\ncommand = \"x\"\nhealth = { http = \"http://[::1]/\" }\n";
    assert!(load_text(ok).is_ok(), "{:?}", load_text(ok).err().map(|e| e.to_string()));
}

#[test]
fn nul_bytes_in_arguments_environment_and_paths_are_refused() {
    for (text, key) in [
        ("[services.a]\ncommand = [\"echo\", \"a\\u0000b\"]\n", "services.a.command"),
        ("[services.a]\ncommand = \"echo a\\u0000b\"\n", "services.a.command"),
        ("[services.a]\ncommand = \"x\"\nenv = { A = \"1\\u0000\" }\n", "services.a.env.A"),
        ("[env]\nA = \"${NOPE:-\\u0000}\"\n", "env.A"),
        ("[services.a]\ncommand = \"x\"\nhealth = { exec = [\"t\\u0000\"] }\n", "services.a.health.exec"),
        ("[settings]\ndata_dir = \"d\\u0000\"\n", "settings.data_dir"),
    ] {
        let (d, _, shown) = refused(text);
        assert_eq!(d.key, key, "{shown}");
        assert!(d.message.contains("NUL byte"), "{shown}");
    }
}

#[test]
fn a_missing_or_non_directory_cwd_and_a_data_dir_that_is_a_file_are_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("file"), "").expect("write");
    std::fs::create_dir(dir.path().join("sub")).expect("mkdir");
    let at = |text: &str| parse(&dir.path().join("ephitup.toml"), text, &env);
    let key_of = |r: Result<Config, ConfigError>| match r {
        Ok(_) => panic!("accepted"),
        Err(e) => {
            assert!(e.to_string().contains("ephitup.toml:"), "{e}");
            e.diagnostics().first().map(|d| (d.key.clone(), d.message.clone())).unwrap_or_default()
        }
    };
    let (key, message) = key_of(at("[services.a]\ncommand = \"x\"\ncwd = \"missing\"\n"));
    assert_eq!(key, "services.a.cwd");
    assert!(message.contains("No such file or directory"), "{message}");
    let (key, message) = key_of(at("[services.a]\ncommand = \"x\"\ncwd = \"file\"\n"));
    assert_eq!(key, "services.a.cwd");
    assert!(message.contains("is not a directory"), "{message}");
    let (key, message) = key_of(at("[settings]\ndata_dir = \"file\"\n"));
    assert_eq!(key, "settings.data_dir");
    assert!(message.contains("is not a directory"), "{message}");
    // A directory that exists, and a data_dir still to be created, are fine.
    let good = at("[settings]\ndata_dir = \"new\"\n[services.a]\ncommand = \"x\"\ncwd = \"sub\"\n").expect("valid");
    assert_eq!(good.services[0].cwd, dir.path().join("sub"));
}

#[test]
fn invalid_utf8_is_refused_at_the_first_bad_byte() {
    let err = parse_bytes(Path::new("/etc/app/ephitup.toml"), b"[services.a]\ncommand = \"x\xff\"\n", &env)
        .expect_err("refused");
    let shown = err.to_string();
    assert!(shown.starts_with("error: /etc/app/ephitup.toml:2:13: not UTF-8 text (byte 0xff)"), "{shown}");
}

#[test]
fn deep_nesting_is_refused_with_a_location() {
    // The TOML parser's recursion limit, through arrays, inline tables, dotted keys, headers.
    let cases = [
        format!("[services.a]\ncommand = {}{}\n", "[".repeat(100_000), "]".repeat(100_000)),
        format!("[services.a]\ncommand = \"x\"\nenv = {{ A = {}{} }}\n", "[".repeat(300), "]".repeat(300)),
        format!("a = {}1{}\n", "{b=".repeat(3000), "}".repeat(3000)),
        format!("[services.a]\ncommand = \"x\"\n\n{} = 1\n", vec!["a"; 100_000].join(".")),
        format!("[{}]\n", vec!["a"; 100_000].join(".")),
    ];
    for text in &cases {
        let shown = refused_shown(text);
        assert!(shown.len() < 2000, "{} bytes: {}", shown.len(), super::diagnostic::clip(&shown));
    }
    let shown = refused_shown(&cases[3]);
    assert!(shown.starts_with("error: /etc/app/ephitup.toml:4:"), "the dotted line: {}", &shown[..100]);
    // `${X:-${X:-...}}` 100,000 deep once overflowed the stack of PID 1 at a live reload.
    let deep = format!("[services.a]\ncommand = \"{}x{}\"\n", "${X:-".repeat(100_000), "}".repeat(100_000));
    let shown = refused_shown(&deep);
    assert!(shown.contains(":2:11: `services.a.command`: `${` nested more than 16 deep"), "{}", &shown[..200]);
}

#[test]
fn thousands_of_unknown_dependencies_give_short_messages() {
    let mut text = String::new();
    for i in 0..10_000 {
        text.push_str(&format!("[services.s{i}]\ncommand = \"x\"\ndepends_on = [\"missing{i}\"]\n"));
    }
    let err = load_text(&text).expect_err("refused");
    assert_eq!(err.diagnostics().len(), 10_000);
    assert!(err.diagnostics().iter().all(|d| d.message.len() < 200), "{}", err.diagnostics()[0].message);
    let shown = err.to_string();
    assert!(shown.starts_with("error: /etc/app/ephitup.toml:3:14: `services.s0.depends_on.missing0`: unknown service `missing0` (10000 declared: s0, s1, s10, "), "{}", &shown[..300]);
    assert!(shown.contains("9950 more problems not shown"), "{}", &shown[shown.len().saturating_sub(300)..]);
    assert!(shown.len() < 50_000, "{} bytes", shown.len());
}

#[test]
fn a_long_cycle_is_named_briefly() {
    let mut text = String::new();
    for i in 0..5_000 {
        text.push_str(&format!("[services.s{i}]\ncommand = \"x\"\ndepends_on = [\"s{}\"]\n", (i + 1) % 5_000));
    }
    let (d, _, _) = refused(&text);
    assert!(d.message.starts_with("dependency cycle: s0 → s1 → "), "{}", d.message);
    assert!(d.message.contains("more … → s0"), "{}", d.message);
    assert!(d.message.len() < 300, "{}", d.message);
}

#[test]
fn an_env_file_that_is_no_regular_file_is_refused_without_reading_it() {
    // /dev/zero never ends: reading it would hang the load.
    let (d, line, _) = refused("[services.a]\ncommand = \"x\"\nenv_file = \"/dev/zero\"\n");
    assert_eq!((d.key.as_str(), line), ("services.a.env_file", 3));
    assert!(d.message.contains("not a regular file"), "{}", d.message);
}

#[test]
fn a_config_file_that_is_no_regular_file_is_refused() {
    let err = load(Path::new("/dev/zero")).expect_err("refused");
    assert!(err.to_string().contains("not a regular file"), "{err}");
}

#[test]
fn every_fuzz_seed_loads_or_is_refused_without_a_panic() {
    // The committed corpus of the loader's fuzz target (orchestrator/fuzz), replayed by every
    // test run; a crash the fuzzer finds becomes a seed here.
    let dir = std::path::PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("run by cargo"))
        .join("fuzz/corpus/loader");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).expect("the corpus") {
        let path = entry.expect("entry").path();
        let bytes = std::fs::read(&path).expect("read seed");
        match parse_bytes(Path::new("/nonexistent/ephitup-fuzz/ephitup.toml"), &bytes, &env) {
            Ok(config) => {
                let graph = config.graph();
                let _ = (graph.startup_waves(), graph.stop_steps());
            }
            Err(e) => assert!(e.to_string().starts_with("error: "), "{}: {e}", path.display()),
        }
        seen += 1;
    }
    assert!(seen >= 5, "only {seen} seeds in {}", dir.display());
}

#[test]
fn export_secret_overrides_are_read_and_checked() {
    let text = "[export]\nsecret = { SURREAL_PASS = true, PUBLIC_KEY_ID = false }\n[services.a]\ncommand = \"a\"\n";
    let config = load_text(text).expect("valid");
    assert_eq!(config.export_secret.get("SURREAL_PASS"), Some(&true));
    assert_eq!(config.export_secret.get("PUBLIC_KEY_ID"), Some(&false));
    let (d, line, _) = refused("[export]\nsecret = { X = \"yes\" }\n[services.a]\ncommand = \"a\"\n");
    assert_eq!((d.key.as_str(), line), ("export.secret.X", 2), "{d:?}");
}
