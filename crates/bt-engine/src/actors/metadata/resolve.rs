//! Host names in a magnet link's `x.pe=host:port` peers: resolved off the actor's turn, each
//! bounded by [`RESOLVE_TIMEOUT`], every address found learned like a literal one. A name that
//! does not resolve is a warning, not an error: the link's other peers, trackers and the DHT
//! still work.

use std::net::SocketAddr;
use std::time::Duration;

use actix::{ActorFutureExt, AsyncContext, Context, WrapFuture};
use thiserror::Error;
use tracing::{debug, warn};

use super::MetadataFetcher;

/// How long one `x.pe` host name may take to resolve.
pub const RESOLVE_TIMEOUT: Duration = Duration::from_secs(10);

/// Why an `x.pe` host name gave no address.
#[derive(Debug, Error)]
pub enum ResolveError {
    /// The resolver failed (no such host, no network).
    #[error("cannot resolve {name}")]
    Lookup {
        /// The `host:port` given.
        name: String,
        /// The resolver's error.
        #[source]
        source: std::io::Error,
    },
    /// The resolver did not answer in time.
    #[error("resolving {name} took over {timeout:?}")]
    TimedOut {
        /// The `host:port` given.
        name: String,
        /// The limit.
        timeout: Duration,
    },
    /// The name resolved to nothing.
    #[error("{name} resolves to no address")]
    NoAddress {
        /// The `host:port` given.
        name: String,
    },
}

/// The addresses of `name` (`host:port`), within `timeout`.
pub async fn resolve_peer(name: &str, timeout: Duration) -> Result<Vec<SocketAddr>, ResolveError> {
    let lookup = tokio::time::timeout(timeout, tokio::net::lookup_host(name)).await;
    let addrs: Vec<SocketAddr> = match lookup {
        Err(_) => {
            return Err(ResolveError::TimedOut {
                name: name.to_owned(),
                timeout,
            });
        }
        Ok(Err(source)) => {
            return Err(ResolveError::Lookup {
                name: name.to_owned(),
                source,
            });
        }
        Ok(Ok(addrs)) => addrs.collect(),
    };
    if addrs.is_empty() {
        return Err(ResolveError::NoAddress {
            name: name.to_owned(),
        });
    }
    Ok(addrs)
}

/// The `x.pe` values that are not IP literals (those are used as they are).
pub fn host_names(peers: &[String]) -> impl Iterator<Item = &String> {
    peers
        .iter()
        .filter(|peer| peer.parse::<SocketAddr>().is_err())
}

impl MetadataFetcher {
    /// Resolves the link's `x.pe` host names, each in its own task; the addresses found are
    /// learned (and dialled) as they come.
    pub(super) fn resolve_named_peers(&mut self, ctx: &mut Context<Self>) {
        for name in host_names(&self.magnet.peers) {
            let name = name.clone();
            let resolve = async move { resolve_peer(&name, RESOLVE_TIMEOUT).await };
            ctx.spawn(
                resolve
                    .into_actor(self)
                    .map(|result, act, ctx| match result {
                        Ok(addrs) => {
                            debug!(parent: &act.span, ?addrs, "x.pe peer resolved");
                            act.learn(ctx, addrs);
                        }
                        Err(error) => warn!(parent: &act.span, %error, "x.pe peer left out"),
                    }),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_host_names_need_resolving() {
        let peers: Vec<String> = ["127.0.0.1:1", "[::1]:2", "localhost:3", "peer.example:4"]
            .map(str::to_owned)
            .to_vec();
        let names: Vec<&String> = host_names(&peers).collect();
        assert_eq!(names, ["localhost:3", "peer.example:4"]);
    }

    #[actix::test]
    async fn localhost_resolves_to_loopback_with_its_port() {
        let addrs = resolve_peer("localhost:6881", RESOLVE_TIMEOUT)
            .await
            .unwrap();
        assert!(
            addrs
                .iter()
                .any(|a| a.ip().is_loopback() && a.port() == 6881),
            "{addrs:?}"
        );
    }

    #[actix::test]
    async fn an_unknown_host_or_a_missing_port_is_an_error() {
        // `.invalid` never resolves (RFC 2606).
        let unknown = resolve_peer("no-such-peer.invalid:6881", RESOLVE_TIMEOUT).await;
        assert!(
            matches!(
                unknown,
                Err(ResolveError::Lookup { .. } | ResolveError::TimedOut { .. })
            ),
            "{unknown:?}"
        );
        let no_port = resolve_peer("localhost", RESOLVE_TIMEOUT).await;
        assert!(
            matches!(no_port, Err(ResolveError::Lookup { .. })),
            "{no_port:?}"
        );
    }
}
