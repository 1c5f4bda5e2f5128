//! Uploads read adjacent requests from disk together: the remote peer, played by the test,
//! asks for several blocks in one write and gets each one right, from fewer disk reads.

use std::sync::{Arc, Mutex};

use actix::{Actor, Addr, Context, Handler, ResponseFuture};
use bt_proto::geometry::BlockRef;
use bt_proto::wire::{BlockRequest, PeerMessage};
use bytes::Bytes;

use super::msg::Unchoke;
use super::tests::{fixture, recv};
use crate::actors::disk::{DiskError, DiskWriter, ReadBlock};
use crate::config::PeerSettings;
use crate::peer::{PeerCodec, PeerConfig};

/// Forwards reads to the disk pool and logs the range of each.
pub(super) struct ReadLog {
    pub(super) disk: Addr<DiskWriter>,
    pub(super) ranges: Arc<Mutex<Vec<BlockRef>>>,
}

impl Actor for ReadLog {
    type Context = Context<Self>;
}

impl Handler<ReadBlock> for ReadLog {
    type Result = ResponseFuture<Result<Bytes, DiskError>>;

    fn handle(&mut self, msg: ReadBlock, _: &mut Context<Self>) -> Self::Result {
        self.ranges.lock().unwrap().push(msg.block);
        let read = self.disk.send(msg);
        Box::pin(async move { read.await.map_err(DiskError::from).and_then(|r| r) })
    }
}

#[actix::test]
async fn adjacent_requests_are_read_together_and_served_one_by_one() {
    let mut f = fixture(true, PeerSettings::default(), PeerConfig::default()).await;
    assert!(matches!(
        recv(&mut f.remote).await,
        PeerMessage::Bitfield(_)
    ));
    f.session.do_send(Unchoke);
    assert_eq!(recv(&mut f.remote).await, PeerMessage::Unchoke);
    // Every block of the torrent, asked for in one write: two runs (a run stays in its
    // piece) and the last piece's.
    let blocks: Vec<BlockRef> = f
        .lengths
        .pieces()
        .flat_map(|p| f.lengths.blocks(p))
        .collect();
    let mut frames = bytes::BytesMut::new();
    for block in &blocks {
        let request = BlockRequest {
            piece: block.piece.get(),
            offset: block.offset,
            length: block.len,
        };
        tokio_util::codec::Encoder::encode(
            &mut PeerCodec::default(),
            PeerMessage::Request(request),
            &mut frames,
        )
        .unwrap();
    }
    tokio::io::AsyncWriteExt::write_all(f.remote.get_mut(), &frames)
        .await
        .unwrap();
    // Reads run on two disk threads, so runs may be served in either order.
    let mut served = Vec::new();
    for _ in &blocks {
        let PeerMessage::Piece {
            piece,
            offset,
            data,
        } = recv(&mut f.remote).await
        else {
            panic!("only blocks follow");
        };
        let start =
            f.lengths.piece_offset(f.lengths.piece(piece).unwrap()) as usize + offset as usize;
        assert_eq!(&data[..], &f.data[start..start + data.len()]);
        served.push((piece, offset, data.len() as u32));
    }
    served.sort_unstable();
    let asked: Vec<(u32, u32, u32)> = blocks
        .iter()
        .map(|b| (b.piece.get(), b.offset, b.len))
        .collect();
    assert_eq!(served, asked, "each block once");
    let ranges = f.reads.lock().unwrap().clone();
    assert!(
        ranges.len() < blocks.len(),
        "{} blocks from {ranges:?}",
        blocks.len()
    );
    let read: u32 = ranges.iter().map(|r| r.len).sum();
    assert_eq!(read as usize, f.data.len(), "every byte read once");
}
