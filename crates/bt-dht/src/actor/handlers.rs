//! The message handlers of [`DhtNode`]: each is a few lines around the machine.

use std::net::SocketAddr;
use std::time::Instant;

use actix::prelude::*;

use super::DhtNode;
use super::msg::{
    AddNode, Announce, AnnounceReport, DhtError, GetNodes, GetPeers, GetStats, NodeStats, Shutdown,
};

impl Handler<GetPeers> for DhtNode {
    type Result = ResponseFuture<Result<Vec<SocketAddr>, DhtError>>;

    fn handle(&mut self, msg: GetPeers, ctx: &mut Self::Context) -> Self::Result {
        let outcome = self.start_lookup(ctx, |dht, now| dht.get_peers(msg.info_hash, now));
        Box::pin(async move {
            let outcome = outcome.await.map_err(|_| DhtError::Stopped)?;
            Ok(outcome.peers)
        })
    }
}

impl Handler<Announce> for DhtNode {
    type Result = ResponseFuture<Result<AnnounceReport, DhtError>>;

    fn handle(&mut self, msg: Announce, ctx: &mut Self::Context) -> Self::Result {
        let outcome = self.start_lookup(ctx, |dht, now| {
            dht.announce(msg.info_hash, msg.port, false, now)
        });
        Box::pin(async move {
            let outcome = outcome.await.map_err(|_| DhtError::Stopped)?;
            Ok(AnnounceReport {
                peers: outcome.peers,
                announced_to: outcome.announced_to,
            })
        })
    }
}

impl Handler<GetStats> for DhtNode {
    type Result = MessageResult<GetStats>;

    fn handle(&mut self, _msg: GetStats, _ctx: &mut Self::Context) -> Self::Result {
        MessageResult(NodeStats {
            local_addr: self.local_addr,
            dht: self.machine.stats(Instant::now()),
            send_failures: self.send_failures,
        })
    }
}

impl Handler<GetNodes> for DhtNode {
    type Result = MessageResult<GetNodes>;

    fn handle(&mut self, _msg: GetNodes, _ctx: &mut Self::Context) -> Self::Result {
        MessageResult(self.machine.table().entries().map(|e| e.info).collect())
    }
}

impl Handler<AddNode> for DhtNode {
    type Result = ();

    fn handle(&mut self, msg: AddNode, ctx: &mut Self::Context) {
        self.machine.ping(msg.addr, Instant::now());
        self.flush(ctx);
    }
}

impl Handler<Shutdown> for DhtNode {
    type Result = Result<(), DhtError>;

    fn handle(&mut self, _msg: Shutdown, ctx: &mut Self::Context) -> Self::Result {
        self.saved_for_shutdown = true;
        ctx.stop();
        self.save_now()
    }
}
