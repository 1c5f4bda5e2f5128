//! `bt`: the command-line BitTorrent client.
fn main() {
    println!("bt: under construction");
}
