//! Hostile peers: first that each produces the bad input it promises (checked with bt-proto's
//! decoder from a plain TCP socket), then that the engine survives each of them in
//! in-process swarms.

// The other end of a hostile connection, played by hand with bt-proto's decoder.
mod plain;
// Each script produces its fault, byte for byte.
mod harness;
// Shared by the engine tests: event logs, waits, starting swarms.
mod support;
// The engine hangs up on malformed input, unsolicited blocks, floods and silence.
mod disconnects;
// Liars are struck and banned (across reconnections) and downloads still complete.
mod liars;
// Mid-block hang-ups and silent peers do not stall a download.
mod stalls;
