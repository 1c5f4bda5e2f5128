//! `PeerSession` (in progress): one per connection.

pub mod handle;
pub mod msg;

pub use handle::PeerHandle;
