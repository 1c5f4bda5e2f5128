//! The sans-IO rule: only the `actor` module may use actix, tokio or tracing.

use std::fs;
use std::path::Path;

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in fs::read_dir(dir).expect("read src") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn only_the_actor_module_does_io() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    assert!(files.len() > 10);
    for file in files {
        let relative = file.strip_prefix(&src).expect("under src");
        if relative.starts_with("actor") {
            continue;
        }
        let text = fs::read_to_string(&file).expect("read");
        for forbidden in [
            "actix",
            "tokio",
            "tracing",
            "std::net::UdpSocket",
            "std::fs",
        ] {
            let used = text
                .lines()
                .filter(|line| !line.trim_start().starts_with("//"))
                .any(|line| line.contains(forbidden));
            assert!(!used, "{} uses {forbidden}", relative.display());
        }
    }
}
