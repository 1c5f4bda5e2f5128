//! Hostile peers: first that each produces the bad input it promises (checked with bt-proto's
//! decoder from a plain TCP socket), then that the engine survives each of them.

// Each script against a plain socket that decodes with bt-proto.
mod harness;
// In-process swarms with a hostile peer: disconnects, bans, time-outs, floods, and no
// verified piece lost.
mod engine;
