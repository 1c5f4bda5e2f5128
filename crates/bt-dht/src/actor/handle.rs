//! [`DhtHandle`]: the node's address and typed calls on it, for embedders and tests.

use std::net::SocketAddr;

use actix::Addr;
use bt_proto::InfoHash;

use super::DhtNode;
use super::msg::{
    AddNode, Announce, AnnounceReport, DhtError, GetNodes, GetPeers, GetStats, NodeStats, Shutdown,
};
use crate::compact::NodeInfo;

/// A running [`DhtNode`]: where it listens, and calls that wait for its answers.
#[derive(Clone, Debug)]
pub struct DhtHandle {
    addr: Addr<DhtNode>,
    local_addr: SocketAddr,
}

impl DhtHandle {
    pub(super) fn new(addr: Addr<DhtNode>, local_addr: SocketAddr) -> Self {
        Self { addr, local_addr }
    }

    /// The actor's address (take `Recipient`s of its messages from it).
    pub fn addr(&self) -> &Addr<DhtNode> {
        &self.addr
    }

    /// The UDP address the node is bound to.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// [`GetPeers`]: the peers of `info_hash`, once the lookup ends.
    pub async fn get_peers(&self, info_hash: InfoHash) -> Result<Vec<SocketAddr>, DhtError> {
        self.addr
            .send(GetPeers { info_hash })
            .await
            .map_err(|_| DhtError::Stopped)?
    }

    /// [`Announce`]: announces our peer on TCP `port` for `info_hash`.
    pub async fn announce(
        &self,
        info_hash: InfoHash,
        port: u16,
    ) -> Result<AnnounceReport, DhtError> {
        self.addr
            .send(Announce { info_hash, port })
            .await
            .map_err(|_| DhtError::Stopped)?
    }

    /// [`GetStats`].
    pub async fn stats(&self) -> Result<NodeStats, DhtError> {
        self.addr
            .send(GetStats)
            .await
            .map_err(|_| DhtError::Stopped)
    }

    /// [`GetNodes`]: the nodes of the routing table.
    pub async fn nodes(&self) -> Result<Vec<NodeInfo>, DhtError> {
        self.addr
            .send(GetNodes)
            .await
            .map_err(|_| DhtError::Stopped)
    }

    /// [`AddNode`]: pings `addr`; it joins the table if it answers.
    pub fn add_node(&self, addr: SocketAddr) {
        self.addr.do_send(AddNode { addr });
    }

    /// [`Shutdown`]: saves the table and stops the node.
    pub async fn shutdown(&self) -> Result<(), DhtError> {
        self.addr
            .send(Shutdown)
            .await
            .map_err(|_| DhtError::Stopped)?
    }
}
