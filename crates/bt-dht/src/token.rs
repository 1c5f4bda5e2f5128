//! `get_peers` tokens (BEP 5): SHA-1 of the asker's IP address and a secret that changes every
//! five minutes; a token made with the current or the previous secret is accepted, so a token
//! stays good for five to ten minutes. The token binds an `announce_peer` to the IP that asked,
//! so nobody can announce someone else's address.

use std::net::IpAddr;
use std::time::{Duration, Instant};

use rand::{Rng, RngExt};
use sha1::{Digest, Sha1};

/// How often the secret changes (BEP 5: five minutes).
pub const ROTATION: Duration = Duration::from_secs(5 * 60);

/// The length of our tokens: a whole SHA-1.
pub const TOKEN_LEN: usize = 20;

/// The secrets tokens are made from.
#[derive(Clone)]
pub struct TokenSecrets {
    current: [u8; 20],
    previous: [u8; 20],
    rotated_at: Instant,
    rotation: Duration,
}

impl std::fmt::Debug for TokenSecrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The secrets themselves stay out of logs.
        f.debug_struct("TokenSecrets")
            .field("rotated_at", &self.rotated_at)
            .field("rotation", &self.rotation)
            .finish_non_exhaustive()
    }
}

impl TokenSecrets {
    /// Fresh random secrets that rotate every `rotation` ([`ROTATION`] outside tests).
    pub fn new(rotation: Duration, now: Instant, rng: &mut impl Rng) -> Self {
        Self {
            current: rng.random(),
            previous: rng.random(),
            rotated_at: now,
            rotation,
        }
    }

    /// Replaces the secret if it is due; call it from a timer (cheap when nothing is due).
    pub fn rotate_if_due(&mut self, now: Instant, rng: &mut impl Rng) {
        if now.saturating_duration_since(self.rotated_at) >= self.rotation {
            self.previous = self.current;
            self.current = rng.random();
            self.rotated_at = now;
        }
    }

    /// The token for `ip` under the current secret.
    pub fn token_for(&self, ip: IpAddr) -> [u8; TOKEN_LEN] {
        make(ip, &self.current)
    }

    /// Whether `token` was made for `ip` with the current or the previous secret.
    pub fn is_valid(&self, token: &[u8], ip: IpAddr) -> bool {
        token == make(ip, &self.current) || token == make(ip, &self.previous)
    }
}

/// SHA-1 over the IP address bytes and the secret.
fn make(ip: IpAddr, secret: &[u8; 20]) -> [u8; TOKEN_LEN] {
    let mut hasher = Sha1::new();
    match ip {
        IpAddr::V4(v4) => hasher.update(v4.octets()),
        // An IPv4-mapped address is the same host as its IPv4 form.
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => hasher.update(v4.octets()),
            None => hasher.update(v6.octets()),
        },
    }
    hasher.update(secret);
    hasher.finalize().into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    #[test]
    fn tokens_bind_the_ip_and_live_for_two_rotations() {
        let mut rng = StdRng::seed_from_u64(5);
        let start = Instant::now();
        let mut secrets = TokenSecrets::new(ROTATION, start, &mut rng);
        let ip: IpAddr = "192.0.2.7".parse().unwrap();
        let other: IpAddr = "192.0.2.8".parse().unwrap();
        let token = secrets.token_for(ip);
        assert!(secrets.is_valid(&token, ip));
        assert!(!secrets.is_valid(&token, other));
        assert!(!secrets.is_valid(&token[..4], ip));
        // Not due yet: nothing changes.
        secrets.rotate_if_due(start + ROTATION / 2, &mut rng);
        assert_eq!(secrets.token_for(ip), token);
        // One rotation: a new token, the old one still accepted.
        secrets.rotate_if_due(start + ROTATION, &mut rng);
        assert_ne!(secrets.token_for(ip), token);
        assert!(secrets.is_valid(&token, ip));
        // Two rotations: the old one is refused.
        secrets.rotate_if_due(start + 2 * ROTATION, &mut rng);
        assert!(!secrets.is_valid(&token, ip));
        assert!(secrets.is_valid(&secrets.token_for(ip), ip));
    }

    #[test]
    fn a_mapped_ipv4_address_gets_the_ipv4_token() {
        let mut rng = StdRng::seed_from_u64(6);
        let secrets = TokenSecrets::new(ROTATION, Instant::now(), &mut rng);
        let v4: IpAddr = "192.0.2.7".parse().unwrap();
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().unwrap();
        assert!(secrets.is_valid(&secrets.token_for(v4), mapped));
    }
}
