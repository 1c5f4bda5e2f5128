//! The engine against hostile peers, in in-process swarms.
