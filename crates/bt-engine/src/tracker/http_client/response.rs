//! Reading an HTTP/1.1 response off a socket: status line, headers, and a body framed by
//! `Content-Length`, chunked transfer-encoding, or the end of the connection.
//!
//! Every read is bounded: a line is at most [`MAX_LINE`] bytes, a head at most [`MAX_HEADERS`]
//! lines, and the body at most the caller's limit, checked against the announced length before
//! any buffer is sized for it.

use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncReadExt};

use crate::tracker::TrackerError;

/// The longest status, header or chunk-size line we accept; real ones are under 200 bytes.
const MAX_LINE: usize = 8 * 1024;
/// The most header lines we read; trackers send fewer than 20.
const MAX_HEADERS: usize = 100;
/// The most interim (1xx) responses skipped before the real one.
const MAX_INTERIM: usize = 4;

/// A response as read, before redirects are followed.
#[derive(Debug)]
pub(super) struct RawResponse {
    /// The status code.
    pub status: u16,
    /// The `Location` header, for redirects.
    pub location: Option<String>,
    /// The decoded body (chunks joined).
    pub body: Vec<u8>,
}

/// What the headers say about the body.
#[derive(Debug, Default)]
struct Head {
    content_length: Option<usize>,
    chunked: bool,
    location: Option<String>,
}

fn bad(reason: impl Into<String>) -> TrackerError {
    TrackerError::BadResponse(reason.into())
}

/// Reads one response, skipping interim 1xx ones, with the body capped at `max_body` bytes.
pub(super) async fn read_response<R>(
    r: &mut R,
    max_body: usize,
) -> Result<RawResponse, TrackerError>
where
    R: AsyncBufRead + Unpin,
{
    for _ in 0..=MAX_INTERIM {
        let line = read_line(r)
            .await?
            .ok_or_else(|| bad("connection closed before the status line"))?;
        let status = parse_status_line(&line)?;
        let head = read_head(r, max_body).await?;
        if (100..200).contains(&status) {
            continue;
        }
        let body = if status == 204 || status == 304 {
            Vec::new()
        } else if head.chunked {
            read_chunked(r, max_body).await?
        } else if let Some(len) = head.content_length {
            read_exact_len(r, len).await?
        } else {
            read_to_close(r, max_body).await?
        };
        return Ok(RawResponse {
            status,
            location: head.location,
            body,
        });
    }
    Err(bad("too many interim responses"))
}

/// `HTTP/1.1 200 OK` → 200. The reason phrase is optional and ignored.
fn parse_status_line(line: &[u8]) -> Result<u16, TrackerError> {
    let text = std::str::from_utf8(line).map_err(|_| bad("status line is not text"))?;
    let mut parts = text.split_ascii_whitespace();
    let version = parts.next().unwrap_or_default();
    if !version.starts_with("HTTP/") {
        return Err(bad(format!("not an http status line: {:.64?}", text)));
    }
    parts
        .next()
        .filter(|code| code.len() == 3)
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| bad(format!("bad status code in {:.64?}", text)))
}

/// Reads header lines up to the empty line, keeping what framing and redirects need.
async fn read_head<R>(r: &mut R, max_body: usize) -> Result<Head, TrackerError>
where
    R: AsyncBufRead + Unpin,
{
    let mut head = Head::default();
    for _ in 0..MAX_HEADERS {
        let line = read_line(r)
            .await?
            .ok_or_else(|| bad("connection closed in the headers"))?;
        if line.is_empty() {
            return Ok(head);
        }
        // An obsolete folded continuation line carries nothing we need.
        if line.first().is_some_and(|b| *b == b' ' || *b == b'\t') {
            continue;
        }
        let text = String::from_utf8_lossy(&line);
        let (name, value) = text
            .split_once(':')
            .ok_or_else(|| bad(format!("malformed header line {:.64?}", text)))?;
        let value = value.trim();
        if name.eq_ignore_ascii_case("content-length") {
            let len = parse_content_length(value, max_body)?;
            if head.content_length.is_some_and(|earlier| earlier != len) {
                return Err(bad("conflicting content-length headers"));
            }
            head.content_length = Some(len);
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            let last = value.rsplit(',').next().unwrap_or_default().trim();
            head.chunked = last.eq_ignore_ascii_case("chunked");
        } else if name.eq_ignore_ascii_case("location") {
            head.location = Some(value.to_owned());
        }
    }
    Err(bad(format!("more than {MAX_HEADERS} header lines")))
}

/// A `Content-Length` value, refused past `max_body` before anything is allocated.
fn parse_content_length(value: &str, max_body: usize) -> Result<usize, TrackerError> {
    let len: u64 = value
        .parse()
        .map_err(|_| bad(format!("bad content-length {value:.32?}")))?;
    match usize::try_from(len) {
        Ok(len) if len <= max_body => Ok(len),
        _ => Err(too_large(len, max_body)),
    }
}

fn too_large(len: impl std::fmt::Display, max: usize) -> TrackerError {
    bad(format!("body of {len} bytes is over the limit of {max}"))
}

/// Reads exactly `len` bytes (already checked against the limit).
async fn read_exact_len<R>(r: &mut R, len: usize) -> Result<Vec<u8>, TrackerError>
where
    R: AsyncBufRead + Unpin,
{
    let mut body = vec![0; len];
    r.read_exact(&mut body).await.map_err(eof_is_truncation)?;
    Ok(body)
}

/// Reads until the server closes, failing once past `max_body`.
async fn read_to_close<R>(r: &mut R, max_body: usize) -> Result<Vec<u8>, TrackerError>
where
    R: AsyncBufRead + Unpin,
{
    let mut body = Vec::new();
    let limit = u64::try_from(max_body)
        .unwrap_or(u64::MAX)
        .saturating_add(1);
    r.take(limit)
        .read_to_end(&mut body)
        .await
        .map_err(TrackerError::Io)?;
    if body.len() > max_body {
        return Err(too_large(format_args!("more than {max_body}"), max_body));
    }
    Ok(body)
}

/// Reads a chunked body (RFC 9112 §7.1), ignoring chunk extensions and trailers.
async fn read_chunked<R>(r: &mut R, max_body: usize) -> Result<Vec<u8>, TrackerError>
where
    R: AsyncBufRead + Unpin,
{
    let mut body = Vec::new();
    loop {
        let line = read_line(r)
            .await?
            .ok_or_else(|| bad("connection closed in a chunked body"))?;
        let size = parse_chunk_size(&line)?;
        if size == 0 {
            break;
        }
        let total = body.len().checked_add(size).filter(|t| *t <= max_body);
        let Some(total) = total else {
            return Err(too_large(format_args!("more than {max_body}"), max_body));
        };
        let start = body.len();
        body.resize(total, 0);
        r.read_exact(&mut body[start..])
            .await
            .map_err(eof_is_truncation)?;
        match read_line(r).await? {
            Some(end) if end.is_empty() => {}
            _ => return Err(bad("chunk not followed by a line end")),
        }
    }
    // Trailer fields, up to the empty line (or the end of the connection).
    for _ in 0..MAX_HEADERS {
        match read_line(r).await? {
            Some(line) if !line.is_empty() => {}
            _ => return Ok(body),
        }
    }
    Err(bad(format!("more than {MAX_HEADERS} trailer lines")))
}

/// The hex size at the start of a chunk-size line, before any `;extension`.
fn parse_chunk_size(line: &[u8]) -> Result<usize, TrackerError> {
    let text = String::from_utf8_lossy(line);
    let digits = text.split(';').next().unwrap_or_default().trim();
    u64::from_str_radix(digits, 16)
        .ok()
        .and_then(|size| usize::try_from(size).ok())
        .ok_or_else(|| bad(format!("bad chunk size {:.32?}", text)))
}

fn eof_is_truncation(err: std::io::Error) -> TrackerError {
    if err.kind() == std::io::ErrorKind::UnexpectedEof {
        bad("connection closed before the whole body arrived")
    } else {
        TrackerError::Io(err)
    }
}

/// One line without its `\n` (and `\r`), at most [`MAX_LINE`] bytes; `None` at a clean end of
/// the stream.
async fn read_line<R>(r: &mut R) -> Result<Option<Vec<u8>>, TrackerError>
where
    R: AsyncBufRead + Unpin,
{
    let mut line = Vec::new();
    loop {
        let buf = r.fill_buf().await.map_err(TrackerError::Io)?;
        if buf.is_empty() {
            return if line.is_empty() {
                Ok(None)
            } else {
                Err(bad("connection closed mid-line"))
            };
        }
        let (take, done) = match buf.iter().position(|&b| b == b'\n') {
            Some(at) => (at, true),
            None => (buf.len(), false),
        };
        if line.len() + take > MAX_LINE {
            return Err(bad(format!("line longer than {MAX_LINE} bytes")));
        }
        line.extend_from_slice(&buf[..take]);
        r.consume(if done { take + 1 } else { take });
        if done {
            break;
        }
    }
    if line.last() == Some(&b'\r') {
        line.pop();
    }
    Ok(Some(line))
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn read(bytes: &[u8], max: usize) -> Result<RawResponse, TrackerError> {
        let mut reader = bytes;
        read_response(&mut reader, max).await
    }

    #[test]
    fn status_lines() {
        assert_eq!(parse_status_line(b"HTTP/1.1 200 OK").unwrap(), 200);
        assert_eq!(parse_status_line(b"HTTP/1.0 404").unwrap(), 404);
        assert!(parse_status_line(b"SSH-2.0-OpenSSH").is_err());
        assert!(parse_status_line(b"HTTP/1.1 20x OK").is_err());
        assert!(parse_status_line(b"HTTP/1.1 2000 OK").is_err());
        assert!(parse_status_line(b"").is_err());
    }

    #[test]
    fn chunk_sizes() {
        assert_eq!(parse_chunk_size(b"1a").unwrap(), 26);
        assert_eq!(parse_chunk_size(b"A;name=value").unwrap(), 10);
        assert!(parse_chunk_size(b"zz").is_err());
        assert!(parse_chunk_size(b"fffffffffffffffffffff").is_err());
    }

    #[tokio::test]
    async fn bare_newlines_and_case_insensitive_headers() {
        let raw = b"HTTP/1.1 200 OK\ncontent-LENGTH: 3\n\nabcdef";
        let resp = read(raw, 100).await.unwrap();
        assert_eq!((resp.status, resp.body.as_slice()), (200, &b"abc"[..]));
    }

    #[tokio::test]
    async fn interim_response_is_skipped() {
        let raw = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
        assert_eq!(read(raw, 100).await.unwrap().body, b"ok");
    }

    #[tokio::test]
    async fn chunked_with_trailers() {
        let raw = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\
                    3;x=y\r\nabc\r\n2\r\nde\r\n0\r\nX-Trailer: 1\r\n\r\n";
        assert_eq!(read(raw, 100).await.unwrap().body, b"abcde");
    }

    #[tokio::test]
    async fn limits_are_enforced() {
        let huge = b"HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n";
        assert!(matches!(
            read(huge, 10).await,
            Err(TrackerError::BadResponse(_))
        ));
        let chunk = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffff\r\n";
        assert!(matches!(
            read(chunk, 10).await,
            Err(TrackerError::BadResponse(_))
        ));
        let long_line = [b"HTTP/1.1 200 OK\r\nX: ".as_slice(), &[b'a'; MAX_LINE + 1]].concat();
        assert!(matches!(
            read(&long_line, 10).await,
            Err(TrackerError::BadResponse(_))
        ));
        let conflict = b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab";
        assert!(matches!(
            read(conflict, 10).await,
            Err(TrackerError::BadResponse(_))
        ));
    }

    #[tokio::test]
    async fn truncated_bodies_are_errors() {
        let raw = b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc";
        assert!(matches!(
            read(raw, 100).await,
            Err(TrackerError::BadResponse(_))
        ));
        let raw = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab";
        assert!(matches!(
            read(raw, 100).await,
            Err(TrackerError::BadResponse(_))
        ));
        assert!(matches!(
            read(b"", 100).await,
            Err(TrackerError::BadResponse(_))
        ));
    }
}
