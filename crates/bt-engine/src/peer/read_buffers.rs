//! [`ReadBuffers`]: a connection's read buffers, used again once every frame sliced from them
//! is gone.
//!
//! A received block is a `Bytes` that shares the buffer the socket read it into, and it lives
//! until its piece is on disk; meanwhile the connection needs room for the next reads. Left
//! to itself, the buffer would then be replaced by a fresh 64 KiB allocation (copying the
//! partial frame at its end each time), and the old one freed once its blocks are: memory the
//! allocator hands back to the system and faults in again, page by page, zeroed (a tenth of
//! the connection thread's time in the profile of a download, where the system also gives
//! freed pages back to the hypervisor). Instead, a full buffer is retired here and swapped
//! for a spare; a retired buffer becomes a spare again once the last block sliced from it is
//! dropped ([`BytesMut::try_reclaim`]), without being freed.
//!
//! Bounded: at most [`MAX_RETIRED`] retired buffers are tracked (the oldest is let go to the
//! allocator beyond that) and [`MAX_SPARE`] spares kept, so an idle connection holds little.

use std::collections::VecDeque;
use std::fmt;

use bytes::BytesMut;

/// Retired buffers tracked at most: what the blocks of the pieces being received and stored
/// can hold on to.
const MAX_RETIRED: usize = 128;

/// Spare buffers kept at most.
const MAX_SPARE: usize = 4;

/// A connection's recycled read buffers; see the module docs.
pub(super) struct ReadBuffers {
    /// The size of each buffer.
    len: usize,
    /// Full buffers whose frames may still be alive, oldest first.
    retired: VecDeque<BytesMut>,
    /// Empty buffers ready to read into.
    spare: Vec<BytesMut>,
}

impl ReadBuffers {
    /// Buffers of `len` bytes.
    pub(super) fn new(len: usize) -> Self {
        Self {
            len,
            retired: VecDeque::new(),
            spare: Vec::new(),
        }
    }

    /// Swaps `buffer` for a spare if less than an eighth of it is free (reads into less
    /// would be small and many), moving the bytes not decoded yet (a partial frame) along;
    /// call it when the decoder needs more bytes. A partial frame of half a buffer or more
    /// (a large bitfield) stays, for the buffer to grow around it.
    pub(super) fn refresh(&mut self, buffer: &mut BytesMut) {
        if buffer.capacity() - buffer.len() >= self.len / 8 || buffer.len() >= self.len / 2 {
            return;
        }
        let mut next = self.spare();
        next.extend_from_slice(buffer);
        let mut full = std::mem::replace(buffer, next);
        full.clear();
        if self.retired.len() >= MAX_RETIRED {
            self.retired.pop_front();
        }
        self.retired.push_back(full);
    }

    /// A spare buffer: a retired one whose frames are all gone, or a new one.
    fn spare(&mut self) -> BytesMut {
        let len = self.len;
        let mut reclaimed = Vec::new();
        self.retired.retain_mut(|buffer| {
            if buffer.try_reclaim(len) {
                reclaimed.push(std::mem::take(buffer));
                false
            } else {
                true
            }
        });
        for buffer in reclaimed {
            if self.spare.len() < MAX_SPARE {
                self.spare.push(buffer);
            }
        }
        self.spare
            .pop()
            .unwrap_or_else(|| BytesMut::with_capacity(len))
    }
}

impl Clone for ReadBuffers {
    /// An empty set of buffers of the same size: buffers are never shared.
    fn clone(&self) -> Self {
        Self::new(self.len)
    }
}

impl fmt::Debug for ReadBuffers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReadBuffers")
            .field("len", &self.len)
            .field("retired", &self.retired.len())
            .field("spare", &self.spare.len())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LEN: usize = 256 * 1024;

    /// A buffer filled but for `room` bytes, `partial` of them not decoded yet.
    fn nearly_full(buffers: &mut ReadBuffers, room: usize) -> (BytesMut, Vec<bytes::Bytes>) {
        let mut buffer = buffers.spare();
        let mut frames = Vec::new();
        while buffer.capacity() - buffer.len() > room {
            let n = (buffer.capacity() - buffer.len() - room).min(16 * 1024);
            buffer.extend_from_slice(&vec![7u8; n]);
            frames.push(buffer.split().freeze());
        }
        (buffer, frames)
    }

    #[test]
    fn a_full_buffer_is_swapped_and_reused_once_its_frames_are_gone() {
        let mut buffers = ReadBuffers::new(LEN);
        let (mut buffer, frames) = nearly_full(&mut buffers, 1_000);
        buffer.extend_from_slice(b"partial");
        let first = buffer.as_ptr();
        buffers.refresh(&mut buffer);
        assert_eq!(&buffer[..], b"partial", "the partial frame moves along");
        assert!(buffer.capacity() >= LEN - 7);
        assert_ne!(buffer.as_ptr(), first);
        // Its frames alive, the retired buffer cannot be reused.
        let mut second = buffers.spare();
        assert!(second.capacity() >= LEN);
        second.extend_from_slice(b"x");
        drop(frames);
        let reused = buffers.spare();
        assert!(reused.capacity() >= LEN);
        assert_eq!(reused.len(), 0);
        assert!(
            buffers.retired.is_empty(),
            "the retired buffer became the spare handed out"
        );
    }

    #[test]
    fn a_buffer_with_room_stays() {
        let mut buffers = ReadBuffers::new(LEN);
        let (mut buffer, _frames) = nearly_full(&mut buffers, 100_000);
        let before = buffer.as_ptr();
        buffers.refresh(&mut buffer);
        assert_eq!(buffer.as_ptr(), before);
        assert!(buffers.retired.is_empty());
    }

    #[test]
    fn retired_buffers_are_bounded() {
        let mut buffers = ReadBuffers::new(4 * 1024);
        let mut held = Vec::new();
        for _ in 0..MAX_RETIRED + 10 {
            let mut buffer = BytesMut::with_capacity(4 * 1024);
            buffer.extend_from_slice(&[1u8; 4 * 1024]);
            held.push(buffer.split().freeze());
            buffers.refresh(&mut buffer);
        }
        assert_eq!(buffers.retired.len(), MAX_RETIRED);
    }
}
