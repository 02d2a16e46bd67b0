//! Randomness is a port too: tokens, salts and IDs come from a [`Random`].

use base64::Engine;
use sha2::{Digest, Sha256};

use crate::clock::Timestamp;

pub trait Random: Send + Sync {
    fn fill(&self, buf: &mut [u8]);
}

/// The operating system's CSPRNG.
#[derive(Debug, Default, Clone, Copy)]
pub struct OsRandom;

impl Random for OsRandom {
    fn fill(&self, buf: &mut [u8]) {
        // A machine without OS randomness cannot issue a safe token: stop.
        getrandom::fill(buf).expect("the OS random number generator failed");
    }
}

/// Deterministic randomness for the domain's own unit tests (the tests
/// and benches of the workspace use `tobira_test_kit::SeededRandom`).
#[cfg(test)]
pub(crate) struct TestRandom(std::sync::atomic::AtomicU8);

#[cfg(test)]
impl TestRandom {
    pub(crate) fn new(seed: u8) -> Self {
        Self(std::sync::atomic::AtomicU8::new(seed))
    }
}

#[cfg(test)]
impl Random for TestRandom {
    fn fill(&self, buf: &mut [u8]) {
        for b in buf {
            *b = self
                .0
                .fetch_add(37, std::sync::atomic::Ordering::Relaxed)
                .wrapping_mul(151);
        }
    }
}

/// A secret for a link or a cookie: 256 bits, URL-safe base64 without padding.
pub fn secret_token(rng: &dyn Random) -> String {
    let mut b = [0u8; 32];
    rng.fill(&mut b);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

/// How a secret token is stored: SHA-256, hex. The token has 256 bits of
/// entropy, so a fast hash is the right one (a slow hash protects guessable
/// secrets, not random ones); the store never holds a usable token.
pub fn token_hash(token: &str) -> String {
    let d = Sha256::digest(token.as_bytes());
    let mut s = String::with_capacity(64);
    for b in d {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

/// A new ULID from the clock and the randomness port.
pub fn new_ulid(rng: &dyn Random, now: Timestamp) -> ulid::Ulid {
    let mut b = [0u8; 16];
    rng.fill(&mut b);
    ulid::Ulid::from_parts(now.millis().max(0) as u64, u128::from_le_bytes(b))
}

/// HMAC-SHA256 (RFC 2104).
pub fn hmac_sha256(key: &[u8], msg: &[u8]) -> [u8; 32] {
    let mut k = [0u8; 64];
    if key.len() > 64 {
        k[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let pad = |b: u8| k.map(|x| x ^ b);
    let inner = Sha256::new()
        .chain_update(pad(0x36))
        .chain_update(msg)
        .finalize();
    Sha256::new()
        .chain_update(pad(0x5c))
        .chain_update(inner)
        .finalize()
        .into()
}

/// Constant-time comparison of two byte strings.
pub fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_long_and_distinct() {
        let r = OsRandom;
        let a = secret_token(&r);
        let b = secret_token(&r);
        assert_ne!(a, b);
        assert_eq!(a.len(), 43); // 32 bytes
        assert_eq!(token_hash(&a).len(), 64);
        assert_ne!(token_hash(&a), a);
    }

    #[test]
    fn constant_time_comparison() {
        assert!(ct_eq(b"abc", b"abc"));
        assert!(!ct_eq(b"abc", b"abd"));
        assert!(!ct_eq(b"abc", b"ab"));
    }
}
