//! `docs/EXPERIMENTS.md` still shows how to plug in one's own strategy in under 20 lines, as
//! Rust that rustdoc compiles (the library includes the page as doctests).

/// The first fenced block after the heading `## Plug in your own strategy`: its info string
/// and its lines.
fn plug_in_example(doc: &str) -> (String, Vec<String>) {
    let section = doc
        .split("\n## Plug in your own strategy\n")
        .nth(1)
        .expect("the section is in docs/EXPERIMENTS.md");
    let mut lines = section.lines().skip_while(|l| !l.starts_with("```"));
    let fence = lines.next().expect("a code block in the section");
    let body = lines
        .take_while(|l| !l.starts_with("```"))
        .map(str::to_owned)
        .collect();
    (fence.trim_start_matches('`').to_owned(), body)
}

#[test]
fn the_doc_shows_a_compiled_custom_strategy_in_under_20_lines() {
    let doc = include_str!("../../../docs/EXPERIMENTS.md");
    let (info, lines) = plug_in_example(doc);
    assert!(
        info == "rust" || info == "rust,no_run",
        "the example must be compiled, not {info:?}"
    );
    assert!(lines.len() < 20, "{} lines", lines.len());
    let code = lines.join("\n");
    for needed in [
        "impl ChokeStrategy for",
        "RunSpec::custom",
        "run_experiment",
    ] {
        assert!(code.contains(needed), "the example lacks {needed:?}");
    }
    let library = include_str!("../../src/lib.rs");
    assert!(
        library.contains(r#"#[doc = include_str!("../../docs/EXPERIMENTS.md")]"#),
        "the library no longer compiles the page's examples"
    );
}
