//! The swarm test that `README.md` opens with runs here, and the page is checked to show
//! exactly this code.

use bt_test_harness::{PayloadSpec, Swarm};
use std::time::Duration;

#[actix::test]
async fn two_leechers_get_a_tree_from_one_seeder() -> anyhow::Result<()> {
    let swarm = Swarm::builder()
        .payload(PayloadSpec::multi_file_tree("tree"), 7)
        .leechers(2)
        .build()
        .await?;
    swarm.wait_complete(Duration::from_secs(30)).await?;
    swarm.check_leecher_files()?;
    swarm.shutdown().await // fails if any actor outlived its session
}

/// The first `rust` block of the README is the code above (rustfmt may break its lines).
#[test]
fn the_readme_shows_the_test_above() {
    let dir = env!("CARGO_MANIFEST_DIR");
    let readme = std::fs::read_to_string(format!("{dir}/README.md")).expect("README.md");
    let this = std::fs::read_to_string(format!("{dir}/tests/it/readme.rs")).expect("this file");
    let block = readme
        .split("```rust\n")
        .nth(1)
        .and_then(|rest| rest.split("```\n").next())
        .expect("README.md has a rust block");
    assert!(block.lines().count() >= 5, "{block}");
    let squeeze = |text: &str| text.split_whitespace().collect::<String>();
    assert!(
        squeeze(&this).contains(&squeeze(block)),
        "README.md's first example differs from tests/it/readme.rs:\n{block}"
    );
}
