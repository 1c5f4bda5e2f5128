//! The BitTorrent handshake (BEP 3) over any async byte stream, with a time limit.
//!
//! Both functions read exactly the handshake's bytes and no more, so whatever the peer sends
//! right after it (its bitfield, usually) stays in the stream for the framed reader. Each
//! writes our handshake with one `write_all` and flushes.
//!
//! - [`outgoing_handshake`]: we dialled. Send ours, read theirs, check the info-hash and that
//!   we have not dialled ourselves.
//! - [`incoming_handshake`]: we accepted. Read the 48-byte prefix, route it by info-hash
//!   through the caller's lookup, reply as soon as we know the torrent (BEP 3 allows waiting
//!   for the peer id, but replying first avoids a deadlock with clients that wait for ours),
//!   then read the peer id.

use std::future::Future;
use std::time::Duration;

use bt_proto::InfoHash;
use bt_proto::wire::Handshake;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use super::PeerError;

/// Both handshakes of an accepted connection: the session needs ours (its reserved bits) as
/// well as theirs to know which extensions both sides speak.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Handshakes {
    /// What we sent: the reply the lookup chose.
    pub ours: Handshake,
    /// What the peer sent.
    pub theirs: Handshake,
}

/// Sends `ours` on a connection we opened and returns the peer's handshake.
///
/// Fails with [`PeerError::InfoHashMismatch`] if the peer answers for another torrent,
/// [`PeerError::ConnectedToSelf`] if its peer id is ours, and
/// [`PeerError::HandshakeTimeout`] if the whole exchange takes longer than `timeout`.
pub async fn outgoing_handshake<S>(
    stream: &mut S,
    ours: Handshake,
    timeout: Duration,
) -> Result<Handshake, PeerError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    with_timeout(timeout, async {
        stream.write_all(&ours.to_bytes()).await?;
        stream.flush().await?;
        let mut buf = [0u8; Handshake::LEN];
        stream.read_exact(&mut buf).await?;
        let theirs = decode_full(&buf)?;
        if theirs.info_hash != ours.info_hash {
            return Err(PeerError::InfoHashMismatch {
                ours: ours.info_hash,
                theirs: theirs.info_hash,
            });
        }
        if theirs.peer_id == ours.peer_id {
            return Err(PeerError::ConnectedToSelf);
        }
        Ok(theirs)
    })
    .await
}

/// Answers a connection we accepted: reads the peer's info-hash, asks `lookup` for our reply
/// (`None` = a torrent we do not serve: [`PeerError::UnknownTorrent`], nothing is sent),
/// sends it, then reads the peer id.
///
/// Fails with [`PeerError::ConnectedToSelf`] if the peer id equals the one in our reply and
/// [`PeerError::HandshakeTimeout`] after `timeout`.
pub async fn incoming_handshake<S, F>(
    stream: &mut S,
    lookup: F,
    timeout: Duration,
) -> Result<Handshakes, PeerError>
where
    S: AsyncRead + AsyncWrite + Unpin,
    F: Fn(&InfoHash) -> Option<Handshake>,
{
    with_timeout(timeout, async {
        let mut buf = [0u8; Handshake::LEN];
        stream.read_exact(&mut buf[..Handshake::PREFIX_LEN]).await?;
        let Some((_, info_hash)) = Handshake::decode_prefix(&buf[..Handshake::PREFIX_LEN])? else {
            return Err(incomplete());
        };
        let ours = lookup(&info_hash).ok_or(PeerError::UnknownTorrent(info_hash))?;
        stream.write_all(&ours.to_bytes()).await?;
        stream.flush().await?;
        stream.read_exact(&mut buf[Handshake::PREFIX_LEN..]).await?;
        let theirs = decode_full(&buf)?;
        if theirs.peer_id == ours.peer_id {
            return Err(PeerError::ConnectedToSelf);
        }
        Ok(Handshakes { ours, theirs })
    })
    .await
}

/// Runs `work`, failing with [`PeerError::HandshakeTimeout`] if it takes longer than `limit`.
async fn with_timeout<T>(
    limit: Duration,
    work: impl Future<Output = Result<T, PeerError>>,
) -> Result<T, PeerError> {
    tokio::time::timeout(limit, work)
        .await
        .map_err(|_| PeerError::HandshakeTimeout(limit))?
}

/// Decodes 68 bytes that were read in full.
fn decode_full(buf: &[u8; Handshake::LEN]) -> Result<Handshake, PeerError> {
    Handshake::decode(buf)?.ok_or_else(incomplete)
}

/// The decoder said "need more" on a buffer we read in full: cannot happen, but is an error,
/// not a panic.
fn incomplete() -> PeerError {
    PeerError::Io(std::io::Error::new(
        std::io::ErrorKind::InvalidData,
        "handshake decoder wanted more than a full handshake",
    ))
}

#[cfg(test)]
mod tests {
    use bt_proto::PeerId;
    use bt_proto::wire::{HandshakeError, Reserved};
    use tokio::io::duplex;

    use super::*;

    const LIMIT: Duration = Duration::from_secs(5);

    fn handshake(info: u8, peer: u8) -> Handshake {
        let mut reserved = Reserved::NONE;
        reserved.set_fast(true);
        Handshake::new(reserved, InfoHash([info; 20]), PeerId([peer; 20]))
    }

    /// Serves `ours` for info-hash 0xaa and nothing else.
    fn lookup(ours: Handshake) -> impl Fn(&InfoHash) -> Option<Handshake> {
        move |hash| (*hash == ours.info_hash).then_some(ours)
    }

    #[tokio::test]
    async fn both_directions_agree_and_leave_following_bytes_in_the_stream() {
        let (mut a, mut b) = duplex(256);
        let dialler = handshake(0xaa, 1);
        let listener = handshake(0xaa, 2);
        let accept = tokio::spawn(async move {
            let result = incoming_handshake(&mut b, lookup(listener), LIMIT).await;
            let mut after = [0u8; 5];
            b.read_exact(&mut after)
                .await
                .expect("bytes after handshake");
            (result.expect("incoming"), after)
        });
        let theirs = outgoing_handshake(&mut a, dialler, LIMIT)
            .await
            .expect("outgoing");
        a.write_all(&[0, 0, 0, 1, 2]).await.expect("write");
        assert_eq!(theirs, listener);
        let (seen, after) = accept.await.expect("task");
        assert_eq!(seen.theirs, dialler);
        assert_eq!(seen.ours, listener);
        assert_eq!(after, [0, 0, 0, 1, 2]);
    }

    #[tokio::test]
    async fn outgoing_rejects_a_reply_for_another_torrent() {
        let (mut a, mut b) = duplex(256);
        tokio::spawn(async move {
            let mut buf = [0u8; Handshake::LEN];
            b.read_exact(&mut buf).await.expect("read");
            b.write_all(&handshake(0xbb, 2).to_bytes())
                .await
                .expect("write");
        });
        let result = outgoing_handshake(&mut a, handshake(0xaa, 1), LIMIT).await;
        assert!(
            matches!(result, Err(PeerError::InfoHashMismatch { .. })),
            "{result:?}"
        );
    }

    #[tokio::test]
    async fn incoming_rejects_an_unknown_torrent_without_replying() {
        let (mut a, mut b) = duplex(256);
        a.write_all(&handshake(0xcc, 1).to_bytes())
            .await
            .expect("write");
        let result = incoming_handshake(&mut b, lookup(handshake(0xaa, 2)), LIMIT).await;
        assert!(matches!(result, Err(PeerError::UnknownTorrent(h)) if h == InfoHash([0xcc; 20])));
        drop(b);
        let mut rest = Vec::new();
        a.read_to_end(&mut rest).await.expect("read");
        assert!(rest.is_empty(), "replied to an unknown torrent");
    }

    #[tokio::test]
    async fn connecting_to_ourselves_is_detected_on_both_ends() {
        let (mut a, mut b) = duplex(256);
        let me = handshake(0xaa, 7);
        let accept =
            tokio::spawn(async move { incoming_handshake(&mut b, lookup(me), LIMIT).await });
        let dialled = outgoing_handshake(&mut a, me, LIMIT).await;
        assert!(
            matches!(dialled, Err(PeerError::ConnectedToSelf)),
            "{dialled:?}"
        );
        let accepted = accept.await.expect("task");
        assert!(
            matches!(accepted, Err(PeerError::ConnectedToSelf)),
            "{accepted:?}"
        );
    }

    #[tokio::test]
    async fn silent_peer_times_out() {
        let (mut a, _b) = duplex(256);
        let limit = Duration::from_millis(50);
        let dialled = outgoing_handshake(&mut a, handshake(0xaa, 1), limit).await;
        assert!(matches!(dialled, Err(PeerError::HandshakeTimeout(l)) if l == limit));
        let (_c, mut d) = duplex(256);
        let accepted = incoming_handshake(&mut d, lookup(handshake(0xaa, 2)), limit).await;
        assert!(matches!(accepted, Err(PeerError::HandshakeTimeout(_))));
    }

    #[tokio::test]
    async fn garbage_and_hang_ups_are_errors() {
        let (mut a, mut b) = duplex(256);
        a.write_all(b"\x13BitTorrent protocoX")
            .await
            .expect("write");
        a.write_all(&[0u8; 60]).await.expect("write");
        let result = incoming_handshake(&mut b, lookup(handshake(0xaa, 2)), LIMIT).await;
        assert!(matches!(
            result,
            Err(PeerError::Handshake(HandshakeError::BadProtocol))
        ));

        let (mut c, d) = duplex(256);
        drop(d);
        let result = outgoing_handshake(&mut c, handshake(0xaa, 1), LIMIT).await;
        assert!(matches!(result, Err(PeerError::Io(_))), "{result:?}");
    }
}
