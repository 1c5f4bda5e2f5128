//! `TorrentSupervisor` (in progress): one per torrent.

pub mod msg;
