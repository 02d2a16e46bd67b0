//! The secrets of the second factor, as pure functions: six-digit codes and
//! recovery codes, and how each is stored (hashed, never as typed).

use sha2::{Digest, Sha256};

use crate::random::Random;

/// MFA-3: six digits, uniformly drawn (no modulo bias).
pub fn six_digits(rng: &dyn Random) -> String {
    loop {
        let mut b = [0u8; 4];
        rng.fill(&mut b);
        let n = u32::from_le_bytes(b);
        // 4_294_000_000 is the largest multiple of 1_000_000 below 2^32.
        if n < 4_294_000_000 {
            return format!("{:06}", n % 1_000_000);
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A random salt, hex.
pub fn salt(rng: &dyn Random) -> String {
    let mut b = [0u8; 16];
    rng.fill(&mut b);
    hex(&b)
}

/// MFA-3: how a six-digit code is stored: salted, bound to the sign-in
/// session it was sent for, SHA-256. Spaces and hyphens typed between the
/// digits do not matter.
pub fn otp_hash(salt: &str, session_hash: &str, code: &str) -> String {
    let digits: String = code.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
    let mut h = Sha256::new();
    h.update(salt.as_bytes());
    h.update(b"|");
    h.update(session_hash.as_bytes());
    h.update(b"|");
    h.update(digits.as_bytes());
    hex(&h.finalize())
}

/// Crockford's base32: no I, L, O or U, so codes read aloud and typed
/// by hand survive.
const CROCKFORD: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// MFA-5: one recovery code, 80 random bits as `XXXX-XXXX-XXXX-XXXX`.
pub fn recovery_code(rng: &dyn Random) -> String {
    let mut b = [0u8; 10];
    rng.fill(&mut b);
    let mut bits: u128 = 0;
    for x in b {
        bits = (bits << 8) | u128::from(x);
    }
    let chars: Vec<char> = (0..16)
        .map(|i| CROCKFORD[((bits >> (75 - 5 * i)) & 31) as usize] as char)
        .collect();
    chars
        .chunks(4)
        .map(|c| c.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join("-")
}

/// A recovery code as typed: case, hyphens and spaces do not matter, and
/// the letters Crockford reads as digits (O, I, L) are read so.
pub fn normalise_recovery(code: &str) -> Option<String> {
    let mut out = String::with_capacity(16);
    for c in code.chars() {
        match c.to_ascii_uppercase() {
            '-' | ' ' => {}
            'O' => out.push('0'),
            'I' | 'L' => out.push('1'),
            c if CROCKFORD.contains(&(c as u8)) && c.is_ascii() => out.push(c),
            _ => return None,
        }
    }
    (out.len() == 16).then_some(out)
}

/// MFA-5: a recovery code is stored as the SHA-256 of its normalised form
/// (80 random bits: a fast hash is enough; the store never holds the code).
pub fn recovery_hash(code: &str) -> Option<String> {
    let n = normalise_recovery(code)?;
    Some(hex(&Sha256::digest(n.as_bytes())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::random::TestRandom;

    // MFA-3
    #[test]
    fn mfa_3_codes_are_six_digits_and_stored_salted_and_bound_to_the_session() {
        let rng = TestRandom::new(7);
        for _ in 0..1000 {
            let c = six_digits(&rng);
            assert_eq!(c.len(), 6);
            assert!(c.bytes().all(|b| b.is_ascii_digit()));
        }
        let h = otp_hash("s1", "sess", "123456");
        assert_eq!(h.len(), 64);
        assert!(!h.contains("123456"));
        assert_eq!(h, otp_hash("s1", "sess", "123 456"));
        assert_ne!(h, otp_hash("s2", "sess", "123456"));
        assert_ne!(h, otp_hash("s1", "other", "123456"));
    }

    // MFA-5
    #[test]
    fn mfa_5_recovery_codes_have_80_bits_and_forgive_typing() {
        let rng = TestRandom::new(9);
        let c = recovery_code(&rng);
        assert_eq!(c.len(), 19, "{c}");
        assert_eq!(c.matches('-').count(), 3);
        let h = recovery_hash(&c).unwrap();
        assert_eq!(recovery_hash(&c.to_lowercase().replace('-', " ")), Some(h));
        assert_ne!(recovery_code(&rng), c);
        assert_eq!(recovery_hash("short"), None);
        assert_eq!(recovery_hash("ABCD-EFGH-JKMN-PQR!"), None);
        assert_eq!(
            normalise_recovery("oooo-iiii-llll-0000").as_deref(),
            Some("0000111111110000")
        );
    }
}
