#![allow(clippy::unwrap_used, clippy::expect_used)]
//! `ephitup import` of the seed's supervisord.conf (its output passes `ephitup check`), and
//! `ephitup export` of the root ephitup.toml in every format, validated against the compose
//! spec and the Kubernetes schemas when the validators are installed (`scripts/setup`
//! installs them; CI requires them).

mod support;

use std::path::PathBuf;
use std::process::Command;

use support::*;

/// This crate's directory, as cargo tells the running test (the compile-time path goes stale
/// when a warm build cache is shared by checkouts in other places, as CI's is).
fn crate_dir() -> PathBuf {
    PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("run by cargo"))
}

fn root() -> PathBuf {
    crate_dir().parent().unwrap().to_path_buf()
}

#[test]
fn import_of_the_seed_programs_passes_check() {
    let conf = crate_dir().join("tests/fixtures/supervisord.conf");
    let out = Command::new(ephitup()).arg("import").arg(&conf).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let toml = String::from_utf8(out.stdout).unwrap();
    let warnings = String::from_utf8(out.stderr).unwrap();
    for program in ["surrealdb", "api", "worker", "frontend"] {
        assert!(toml.contains(&format!("[services.{program}]")), "{toml}");
    }
    // One warning per key that does not map, naming it.
    assert!(warnings.contains("[program:worker] exitcodes"), "{warnings}");
    assert!(warnings.contains("[program:worker] stderr_logfile"), "{warnings}");
    // Working directories must exist for `check`: the seed's /app stands in a temp dir here.
    let app = tempfile::tempdir().unwrap();
    std::fs::create_dir(app.path().join("frontend")).unwrap();
    let app_dir = app.path().to_str().unwrap();
    let (code, plan, err) =
        check(&toml.replace("${DATA_PATH}", "/mydata").replace("cwd = \"/app", &format!("cwd = \"{app_dir}")));
    assert_eq!(code, Some(0), "{err}\n{toml}");
    // Priorities became the start order.
    let waves: Vec<&str> = plan.lines().filter(|l| l.starts_with("wave")).collect();
    assert_eq!(waves.len(), 4, "{plan}");
    assert!(plan.contains("frontend") && plan.contains("after worker started"), "{plan}");
}

/// The database password the exports run with: it must appear in none of them.
const PASSWORD: &str = "export-test-Pa55word-7c1f";

fn export(format: &str) -> String {
    let out = Command::new(ephitup())
        .args(["export", "--format", format, "--file"])
        .arg(root().join("ephitup.toml"))
        .env("DATA_PATH", "/mydata")
        .env("SURREAL_PASSWORD", PASSWORD)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// A validator program: from `EPHITUP_VALIDATORS` (a directory), or on PATH. In CI a
/// missing validator fails the test instead of skipping the validation.
fn validator(name: &str) -> Option<PathBuf> {
    let dirs = std::env::var_os("EPHITUP_VALIDATORS")
        .into_iter()
        .chain(std::env::var_os("PATH"))
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>());
    let found = dirs.map(|d| d.join(name)).find(|p| p.is_file());
    if found.is_none() {
        assert!(std::env::var("CI").is_err(), "{name} is not installed (scripts/setup installs it)");
        eprintln!("{name} not installed: schema validation skipped");
    }
    found
}

fn validate(tool: &str, args: &[&str], text: &str, ext: &str) {
    let Some(tool) = validator(tool) else { return };
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join(format!("export.{ext}"));
    std::fs::write(&file, text).unwrap();
    let out = Command::new(tool).args(args).arg(&file).output().unwrap();
    assert!(
        out.status.success(),
        "validation failed:\n{}{}\n{text}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn compose_export_is_valid() {
    let text = export("compose");
    assert!(text.contains("service_healthy") && text.contains("service_completed_successfully"), "{text}");
    validate("check-jsonschema", &["--builtin-schema", "vendor.compose-spec"], &text, "yaml");
}

#[test]
fn kubernetes_export_is_valid() {
    let text = export("kubernetes");
    assert!(text.contains("kind: Deployment") && text.contains("kind: Job"), "{text}");
    validate("kubernetes-validate", &["--strict", "--quiet"], &text, "yaml");
}

#[test]
fn render_export_parses() {
    // No validator for Render blueprints runs here: the shape is checked by the unit tests.
    let text = export("render");
    assert!(text.starts_with("services:"), "{text}");
    assert!(text.contains("preDeployCommand: ephitup-api migrate"), "{text}");
}

#[test]
fn no_secret_value_is_written_in_any_format() {
    for format in ["compose", "kubernetes", "render"] {
        let text = export(format);
        assert!(!text.contains(PASSWORD), "{format} wrote the database password:\n{text}");
        assert!(text.contains("SURREAL_PASSWORD"), "{format}: the variable is still declared\n{text}");
    }
    let compose = export("compose");
    assert!(compose.contains("${SURREAL_PASSWORD:?") && compose.contains("${SURREAL_PASS:?"), "{compose}");
    let k8s = export("kubernetes");
    assert!(k8s.contains("kind: Secret") && k8s.contains("secretKeyRef"), "{k8s}");
    assert!(export("render").contains("sync: false"));
}
