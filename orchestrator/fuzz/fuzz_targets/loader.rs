//! Fuzz target: any bytes as `ephitup.toml`. The loader must answer every input with a
//! configuration or located errors, never a panic, a stack overflow, a hang or unbounded
//! memory: it runs inside PID 1 at each live reload. A valid result also goes through what
//! `check` does with it (the plan, the stop order, its warnings), and an error through its
//! rendering.

#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;

/// A fixed environment, so that `${VAR}` paths are exercised with set, empty and unset names.
fn lookup(name: &str) -> Option<String> {
    match name {
        "PORT" => Some("8000".into()),
        "EMPTY" => Some(String::new()),
        "DEEP" => Some("${PORT}".into()),
        _ => None,
    }
}

fuzz_target!(|data: &[u8]| {
    // A directory that does not exist: relative paths (cwd, env_file, data_dir) resolve into
    // it and are refused or left alone, never read from the machine's own files.
    let path = Path::new("/nonexistent/ephitup-fuzz/ephitup.toml");
    match ephitup::config::parse_bytes(path, data, &lookup) {
        Ok(config) => {
            let _ = ephitup::plan::render(&config);
            let _ = ephitup::plan::warnings(&config);
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
});
