//! Integration tests of the examples' library (`cargo test -p bt-examples`).

// The Choker actor alone with synthetic peers: its decisions follow tit-for-tat.
mod choker_lab;
// A reduced run of the swarm lab: the shape of its CSVs, plots and summary.
mod swarm_lab;
// docs/EXPERIMENTS.md still shows a compiled custom strategy.
mod docs;
