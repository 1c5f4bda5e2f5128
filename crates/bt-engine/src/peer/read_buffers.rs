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
//! allocator beyond that) and [`MAX_SPARE`] spares kept; [`ReadBufferPool::trim`], called on
//! the connection's tick, gives back what is free, and every spare if the connection read
//! nothing since the last trim, so an idle connection holds nothing but its current buffer.
//! The pool is shared by handle between the codec (inside the connection's `FramedRead`) and
//! the connection actor that trims it.

use std::collections::VecDeque;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

use bytes::BytesMut;

/// Retired buffers tracked at most: what the blocks of the pieces being received and stored
/// can hold on to.
const MAX_RETIRED: usize = 128;

/// Spare buffers kept at most.
const MAX_SPARE: usize = 4;

/// A connection's recycled read buffers, shared between its codec and the connection actor
/// (cloning gives another handle on the same buffers); see the module docs.
#[derive(Clone)]
pub struct ReadBufferPool(Arc<Mutex<ReadBuffers>>);

impl ReadBufferPool {
    /// A pool of buffers of `len` bytes.
    pub fn new(len: usize) -> Self {
        Self(Arc::new(Mutex::new(ReadBuffers::new(len))))
    }

    /// Swaps a read buffer with too little room left for a spare, when the reader needs at
    /// least `missing` more bytes (see the module docs).
    pub(super) fn refresh(&self, buffer: &mut BytesMut, missing: usize) {
        self.lock().refresh(buffer, missing);
    }

    /// Gives back to the allocator the retired buffers no frame uses any more beyond the
    /// spares kept, and every spare if nothing was read since the last trim.
    pub fn trim(&self) {
        self.lock().trim();
    }

    /// Whether `bytes` lie inside a buffer this pool allocated or reclaimed.
    #[cfg(test)]
    pub(super) fn allocated_here(&self, bytes: &[u8]) -> bool {
        let start = bytes.as_ptr() as usize;
        self.lock()
            .allocated
            .iter()
            .any(|&(at, len)| start >= at && start + bytes.len() <= at + len)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, ReadBuffers> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl fmt::Debug for ReadBufferPool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.lock().fmt(f)
    }
}

/// The buffers behind a [`ReadBufferPool`].
struct ReadBuffers {
    /// The size of each buffer.
    len: usize,
    /// Full buffers whose frames may still be alive, oldest first.
    retired: VecDeque<BytesMut>,
    /// Empty buffers ready to read into.
    spare: Vec<BytesMut>,
    /// A buffer was swapped since the last trim.
    busy: bool,
    /// The start and length of every buffer this pool allocated or reclaimed, for tests to
    /// check where frames were read.
    #[cfg(test)]
    allocated: Vec<(usize, usize)>,
}

impl ReadBuffers {
    /// Buffers of `len` bytes.
    fn new(len: usize) -> Self {
        Self {
            len,
            retired: VecDeque::new(),
            spare: Vec::new(),
            busy: false,
            #[cfg(test)]
            allocated: Vec::new(),
        }
    }

    /// Swaps `buffer` for a spare if less than an eighth of it is free (reads into less
    /// would be small and many) or too little for the `missing` bytes of the frame being
    /// read, moving the bytes not decoded yet (a partial frame) along; call it when the
    /// decoder needs more bytes, before anything grows the buffer (growing a buffer whose
    /// frames are alive allocates a new one beside the pool). A partial frame of half a
    /// buffer or more (a large bitfield) stays, for the buffer to grow around it.
    fn refresh(&mut self, buffer: &mut BytesMut, missing: usize) {
        let room = buffer.capacity() - buffer.len();
        if room >= missing.max(self.len / 8) || buffer.len() >= self.len / 2 {
            return;
        }
        self.busy = true;
        let mut next = self.spare();
        next.extend_from_slice(buffer);
        let mut full = std::mem::replace(buffer, next);
        full.clear();
        if self.retired.len() >= MAX_RETIRED {
            self.retired.pop_front();
        }
        self.retired.push_back(full);
    }

    /// Moves the retired buffers no frame uses any more to the spares (at most
    /// [`MAX_SPARE`]; the others go back to the allocator); if nothing was read since the
    /// last trim, lets every spare go too.
    fn trim(&mut self) {
        self.reclaim();
        if !std::mem::take(&mut self.busy) {
            self.spare.clear();
        }
    }

    /// A spare buffer: a retired one whose frames are all gone, or a new one.
    fn spare(&mut self) -> BytesMut {
        self.reclaim();
        self.spare.pop().unwrap_or_else(|| {
            let buffer = BytesMut::with_capacity(self.len);
            #[cfg(test)]
            self.allocated
                .push((buffer.as_ptr() as usize, buffer.capacity()));
            buffer
        })
    }

    /// Moves the retired buffers no frame uses any more to the spares, keeping at most
    /// [`MAX_SPARE`].
    fn reclaim(&mut self) {
        let len = self.len;
        let mut reclaimed = Vec::new();
        self.retired.retain_mut(|buffer| {
            if buffer.try_reclaim(len) {
                #[cfg(test)]
                self.allocated
                    .push((buffer.as_ptr() as usize, buffer.capacity()));
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
        buffers.refresh(&mut buffer, 1);
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
    fn a_buffer_too_short_for_the_frame_being_read_is_swapped() {
        let mut buffers = ReadBuffers::new(LEN);
        // More than an eighth free, but less than the rest of the frame.
        let (mut buffer, _frames) = nearly_full(&mut buffers, LEN / 8 + 100);
        buffer.extend_from_slice(b"head");
        let before = buffer.as_ptr();
        buffers.refresh(&mut buffer, LEN / 8 + 1_000);
        assert_ne!(buffer.as_ptr(), before);
        assert_eq!(&buffer[..], b"head");
        assert!(buffer.capacity() - buffer.len() >= LEN / 8 + 1_000);
        assert_eq!(buffers.retired.len(), 1);
    }

    #[test]
    fn a_buffer_with_room_stays() {
        let mut buffers = ReadBuffers::new(LEN);
        let (mut buffer, _frames) = nearly_full(&mut buffers, 100_000);
        let before = buffer.as_ptr();
        buffers.refresh(&mut buffer, 1);
        assert_eq!(buffer.as_ptr(), before);
        assert!(buffers.retired.is_empty());
    }

    #[test]
    fn a_trim_gives_back_free_buffers_and_an_idle_connection_keeps_none() {
        let mut buffers = ReadBuffers::new(LEN);
        let mut alive = Vec::new();
        for _ in 0..MAX_SPARE + 3 {
            let (mut buffer, frames) = nearly_full(&mut buffers, 1_000);
            buffers.refresh(&mut buffer, 1);
            alive.push(frames);
        }
        assert_eq!(buffers.retired.len(), MAX_SPARE + 3);
        drop(alive);
        buffers.trim();
        assert!(buffers.retired.is_empty());
        assert_eq!(buffers.spare.len(), MAX_SPARE, "busy: spares kept");
        buffers.trim();
        assert!(
            buffers.spare.is_empty(),
            "idle since the last trim: nothing kept"
        );
    }

    #[test]
    fn retired_buffers_are_bounded() {
        let mut buffers = ReadBuffers::new(4 * 1024);
        let mut held = Vec::new();
        for _ in 0..MAX_RETIRED + 10 {
            let mut buffer = BytesMut::with_capacity(4 * 1024);
            buffer.extend_from_slice(&[1u8; 4 * 1024]);
            held.push(buffer.split().freeze());
            buffers.refresh(&mut buffer, 1);
        }
        assert_eq!(buffers.retired.len(), MAX_RETIRED);
    }
}
