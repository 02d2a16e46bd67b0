//! Legacy password hashes (CLM-1): "A user proves a legacy account with its
//! service ID and legacy password (legacy hash formats verified, then
//! upgraded to argon2id)".
//!
//! Pure and deterministic: no clock, no randomness, no I/O. This module only
//! *verifies*; the upgrade to tobira's own argon2id is
//! [`crate::password::hash`]'s job once [`verify`] has said yes.
//!
//! Recognised formats (anything else is [`None`] / `false`):
//!
//! | format | shape | crate |
//! |---|---|---|
//! | [`LegacyFormat::Bcrypt`] | `$2b$`, `$2a$`, `$2y$` + 2-digit cost + 53 chars (60 bytes) | `bcrypt` |
//! | [`LegacyFormat::Sha512Crypt`] | `$6$[rounds=N$]salt$86-char digest`, salt 1..=16 of `[./0-9A-Za-z]` | `sha-crypt` |
//! | [`LegacyFormat::Argon2id`] | PHC string `$argon2id$v=..$m=..,t=..,p=..$salt$hash` | `argon2` |
//!
//! `$2x$` (crypt_blowfish's buggy variant) and `$5$` (SHA-256-crypt) are
//! deliberately not recognised. Hashes must be exact: surrounding whitespace
//! is not trimmed here.
//!
//! # Work caps
//!
//! A stored hash carries its own cost, so a hostile or corrupt record could
//! otherwise make one verification take minutes or gigabytes. [`verify`]
//! refuses (returns `false` without hashing) when the hash asks for more than:
//!
//! * bcrypt: cost > 14 (2^14 rounds);
//! * SHA-512-crypt: `rounds` > 1 000 000;
//! * argon2id: memory > 262 144 KiB (256 MiB), or iterations `t` > 16.
//!
//! [`format_of`] still reports the format of such a hash: it is recognised,
//! just too expensive to check.
//!
//! All three crates compare the computed digest with the stored one in
//! constant time (`subtle`, `ctutils`, and `password_hash::Output`'s `Eq`).

use argon2::password_hash::{PasswordHash, PasswordVerifier as _};
use sha_crypt::PasswordVerifier as _;

/// Highest bcrypt cost [`verify`] will compute.
const MAX_BCRYPT_COST: u32 = 14;
/// Highest SHA-512-crypt `rounds=` [`verify`] will compute.
const MAX_SHA512_CRYPT_ROUNDS: u32 = 1_000_000;
/// Highest argon2 memory (`m=`, KiB) [`verify`] will allocate.
const MAX_ARGON2_MEMORY_KIB: u32 = 262_144;
/// Highest argon2 iteration count (`t=`) [`verify`] will compute.
const MAX_ARGON2_ITERATIONS: u32 = 16;

/// SHA-512-crypt's `rounds` when the hash does not say (glibc's default).
const SHA512_CRYPT_DEFAULT_ROUNDS: u32 = 5_000;
/// The range glibc writes (it clamps requests outside it).
const SHA512_CRYPT_ROUNDS_RANGE: core::ops::RangeInclusive<u32> = 1_000..=999_999_999;

/// Which legacy format a stored hash is in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LegacyFormat {
    Bcrypt,
    Sha512Crypt,
    Argon2id,
}

impl LegacyFormat {
    /// A stable name for logs and metrics: `bcrypt`, `sha512_crypt`, `argon2id`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Bcrypt => "bcrypt",
            Self::Sha512Crypt => "sha512_crypt",
            Self::Argon2id => "argon2id",
        }
    }
}

/// The format of `hash`, or None for anything unrecognised (never panics on garbage).
///
/// Structural check only (cheap, no hashing); a recognised hash may still be
/// refused by [`verify`] for exceeding the work caps.
pub fn format_of(hash: &str) -> Option<LegacyFormat> {
    if bcrypt_cost(hash).is_some() {
        Some(LegacyFormat::Bcrypt)
    } else if sha512_crypt_rounds(hash).is_some() {
        Some(LegacyFormat::Sha512Crypt)
    } else if argon2id_params(hash).is_some() {
        Some(LegacyFormat::Argon2id)
    } else {
        None
    }
}

/// CLM-1: the default reference hashes, one per legacy format, each at the
/// cost the demo export uses (bcrypt cost 10, SHA-512 crypt's default 5,000
/// rounds, argon2id m=19 MiB t=2 p=1 — also the portal's own, which a
/// claimed account's hash is upgraded to). Their password is a random
/// string nobody knows.
pub const REFERENCE_HASHES: [&str; 3] = [
    "$2b$10$9ha2X5CqDYc7e03JFBn9/uPX1tVvwTq.PYLQNteG/qadvrNVLPe0y",
    "$6$UgOBfKnFV9y16pYF$AIru8ouzAyQAtMsnLh1JsVvW8alFZZO1DVXCP1hdXBXkGXIYfJXxR88kY.9ndAXM4FLwARxth53iGCQOe7/HY/",
    "$argon2id$v=19$m=19456,t=2,p=1$ZWO4Lfh3zhMw8zVW/y+hDg$P8eUNaOCYUrf4h+pjbGqOQFaZ5QxIhq0niDTCbBZyCk",
];

/// CLM-1: which of `candidates` (the legacy hashes of the accounts a
/// service ID may prove) `password` matches, with the same work whatever
/// they are — none, one, of any format: one verification per reference
/// hash, where a candidate of the reference's format takes its place. A
/// candidate of a format no reference has is verified besides (more work:
/// configure a reference for every format of the export). Never stops early.
pub fn verify_uniform(references: &[String], candidates: &[&str], password: &str) -> Option<usize> {
    uniform_with(references, candidates, |h| verify(h, password))
}

/// [`verify_uniform`] with the verifier as a parameter (for the tests).
fn uniform_with(
    references: &[String],
    candidates: &[&str],
    mut verify: impl FnMut(&str) -> bool,
) -> Option<usize> {
    let mut used = vec![false; candidates.len()];
    let mut found = None;
    let mut check = |i: usize, verify: &mut dyn FnMut(&str) -> bool| {
        if verify(candidates[i]) && found.is_none() {
            found = Some(i);
        }
    };
    for r in references {
        let format = format_of(r);
        match (0..candidates.len()).find(|&i| !used[i] && format_of(candidates[i]) == format) {
            Some(i) => {
                used[i] = true;
                check(i, &mut verify);
            }
            None => {
                verify(r);
            }
        }
    }
    for (i, done) in used.iter().enumerate() {
        if !done {
            check(i, &mut verify);
        }
    }
    found
}

/// Whether `password` matches the legacy `hash`. Unknown or malformed hashes return false (never panic). Comparison in constant time where the crate offers it.
///
/// Hashes over the work caps (see the module documentation) return false
/// without being computed.
pub fn verify(hash: &str, password: &str) -> bool {
    if let Some(cost) = bcrypt_cost(hash) {
        cost <= MAX_BCRYPT_COST && bcrypt::verify(password.as_bytes(), hash).unwrap_or(false)
    } else if let Some(rounds) = sha512_crypt_rounds(hash) {
        rounds <= MAX_SHA512_CRYPT_ROUNDS
            && sha_crypt::ShaCrypt::SHA512
                .verify_password(password.as_bytes(), hash)
                .is_ok()
    } else if let Some((parsed, params)) = argon2id_params(hash) {
        params.m_cost() <= MAX_ARGON2_MEMORY_KIB
            && params.t_cost() <= MAX_ARGON2_ITERATIONS
            // The algorithm, version and parameters come from `parsed`.
            && argon2::Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
    } else {
        false
    }
}

/// The crypt(3) base-64 alphabet.
fn is_crypt64(b: u8) -> bool {
    b == b'.' || b == b'/' || b.is_ascii_alphanumeric()
}

/// The cost of a well-formed `$2a$`/`$2b$`/`$2y$` bcrypt hash.
fn bcrypt_cost(hash: &str) -> Option<u32> {
    let b = hash.as_bytes();
    if b.len() != 60 || !matches!(&b[..4], b"$2a$" | b"$2b$" | b"$2y$") {
        return None;
    }
    let (tens, units) = (b[4], b[5]);
    if !tens.is_ascii_digit() || !units.is_ascii_digit() || b[6] != b'$' {
        return None;
    }
    if !b[7..].iter().copied().all(is_crypt64) {
        return None;
    }
    Some(u32::from(tens - b'0') * 10 + u32::from(units - b'0'))
}

/// The rounds of a well-formed `$6$` SHA-512-crypt hash.
fn sha512_crypt_rounds(hash: &str) -> Option<u32> {
    let rest = hash.strip_prefix("$6$")?;
    let (rounds, rest) = match rest.strip_prefix("rounds=") {
        Some(r) => {
            let (n, rest) = r.split_once('$')?;
            if n.is_empty() || n.len() > 9 || !n.bytes().all(|c| c.is_ascii_digit()) {
                return None;
            }
            (n.parse::<u32>().ok()?, rest)
        }
        None => (SHA512_CRYPT_DEFAULT_ROUNDS, rest),
    };
    if !SHA512_CRYPT_ROUNDS_RANGE.contains(&rounds) {
        return None;
    }
    let (salt, digest) = rest.split_once('$')?;
    if salt.is_empty() || salt.len() > 16 || !salt.bytes().all(is_crypt64) {
        return None;
    }
    if digest.len() != 86 || !digest.bytes().all(is_crypt64) {
        return None;
    }
    Some(rounds)
}

/// A well-formed argon2id PHC string (with salt and output) and its parameters.
fn argon2id_params(hash: &str) -> Option<(PasswordHash<'_>, argon2::Params)> {
    if !hash.starts_with("$argon2id$") {
        return None;
    }
    let parsed = PasswordHash::new(hash).ok()?;
    if parsed.algorithm != argon2::Algorithm::Argon2id.ident() {
        return None;
    }
    parsed.salt?;
    parsed.hash?;
    let params = argon2::Params::try_from(&parsed).ok()?;
    Some((parsed, params))
}

#[cfg(test)]
mod tests {
    use super::*;

    const BCRYPT: &str = "$2b$10$NP4IfkwP/znCBdI2HUh1/O6lphHI6GnKLDoqHAwowlilLsvkPVUsa";
    const BCRYPT_PW: &str = "Legacy-Pass1";
    const SHA512: &str = "$6$u0DV3EOpyNvUVc3x$I4bI/Bbxx5SXaGtPyJMZpwlBUp4X7t0m0NnfOIN.tLPgHMaPfR2AXz2mG.wd5idt7gWLYXYcBxl6yDq7DJSyJ.";
    const SHA512_PW: &str = "Legacy-Pass2";
    const ARGON2ID: &str = "$argon2id$v=19$m=19456,t=2,p=1$fWvuugGFZA+vm0H3U2A+2g$cJNkE6yP0QrjK0TjDqIHUDA9Uk71HkNZazG8YrOeJgA";
    const ARGON2ID_PW: &str = "Legacy-Pass3";

    // CLM-1
    #[test]
    fn clm_1_uniform_verification_does_the_same_work_whatever_holds_a_service_id() {
        let refs: Vec<String> = REFERENCE_HASHES.iter().map(|h| h.to_string()).collect();
        // The formats verified, in order, for each set of candidates.
        let formats = |candidates: &[&str]| {
            let mut seen = Vec::new();
            let found = uniform_with(&refs, candidates, |h| {
                seen.push(format_of(h));
                h == candidates.first().copied().unwrap_or("-")
            });
            (seen, found)
        };
        let none = formats(&[]);
        assert_eq!(none.1, None);
        for one in [BCRYPT, SHA512, ARGON2ID] {
            let (seen, found) = formats(&[one]);
            assert_eq!(seen, none.0, "{one}");
            assert_eq!(found, Some(0));
        }
        assert_eq!(
            none.0,
            vec![
                Some(LegacyFormat::Bcrypt),
                Some(LegacyFormat::Sha512Crypt),
                Some(LegacyFormat::Argon2id)
            ]
        );
        // And it finds the right password among real hashes.
        let candidates = [SHA512, BCRYPT];
        assert_eq!(verify_uniform(&refs, &candidates, BCRYPT_PW), Some(1));
        assert_eq!(verify_uniform(&refs, &candidates, SHA512_PW), Some(0));
        assert_eq!(verify_uniform(&refs, &candidates, "Legacy-Wrong9"), None);
        // The references' password is nobody's.
        assert_eq!(verify_uniform(&refs, &[], BCRYPT_PW), None);
    }

    // CLM-1
    #[test]
    fn clm_1_bcrypt_sample_verifies() {
        assert_eq!(format_of(BCRYPT), Some(LegacyFormat::Bcrypt));
        assert!(verify(BCRYPT, BCRYPT_PW));
    }

    // CLM-1
    #[test]
    fn clm_1_bcrypt_2a_and_2y_variants_verify() {
        for prefix in ["$2a$", "$2y$"] {
            let h = format!("{prefix}{}", &BCRYPT[4..]);
            assert_eq!(format_of(&h), Some(LegacyFormat::Bcrypt), "{h}");
            assert!(verify(&h, BCRYPT_PW), "{h}");
        }
        // crypt_blowfish's buggy `$2x$` is not accepted.
        let h = format!("$2x${}", &BCRYPT[4..]);
        assert_eq!(format_of(&h), None);
        assert!(!verify(&h, BCRYPT_PW));
    }

    // CLM-1
    #[test]
    fn clm_1_sha512_crypt_sample_verifies() {
        assert_eq!(format_of(SHA512), Some(LegacyFormat::Sha512Crypt));
        assert!(verify(SHA512, SHA512_PW));
        // The default rounds spelled out are the same hash.
        let explicit = format!("$6$rounds=5000${}", &SHA512[3..]);
        assert_eq!(format_of(&explicit), Some(LegacyFormat::Sha512Crypt));
        assert!(verify(&explicit, SHA512_PW));
    }

    // CLM-1
    #[test]
    fn clm_1_argon2id_sample_verifies() {
        assert_eq!(format_of(ARGON2ID), Some(LegacyFormat::Argon2id));
        assert!(verify(ARGON2ID, ARGON2ID_PW));
    }

    // CLM-1
    #[test]
    fn clm_1_bcrypt_wrong_password_refused() {
        assert!(!verify(BCRYPT, "Legacy-Pass2"));
        assert!(!verify(BCRYPT, ""));
    }

    // CLM-1
    #[test]
    fn clm_1_sha512_crypt_wrong_password_refused() {
        assert!(!verify(SHA512, "Legacy-Pass1"));
        assert!(!verify(SHA512, ""));
    }

    // CLM-1
    #[test]
    fn clm_1_argon2id_wrong_password_refused() {
        assert!(!verify(ARGON2ID, "Legacy-Pass2"));
        assert!(!verify(ARGON2ID, ""));
    }

    // CLM-1
    #[test]
    fn clm_1_passwords_do_not_cross_formats() {
        assert!(!verify(BCRYPT, SHA512_PW));
        assert!(!verify(SHA512, ARGON2ID_PW));
        assert!(!verify(ARGON2ID, BCRYPT_PW));
    }

    // CLM-1
    #[test]
    fn clm_1_format_names() {
        assert_eq!(LegacyFormat::Bcrypt.as_str(), "bcrypt");
        assert_eq!(LegacyFormat::Sha512Crypt.as_str(), "sha512_crypt");
        assert_eq!(LegacyFormat::Argon2id.as_str(), "argon2id");
    }

    // CLM-1
    #[test]
    fn clm_1_garbage_and_empty_hashes_refused() {
        let long = "$".repeat(10_000);
        let garbage = [
            "",
            " ",
            "$",
            "$$",
            "$$$$$$",
            "not a hash",
            "Legacy-Pass1",
            "$2b$",
            "$2b$10$",
            "$2b$1x$NP4IfkwP/znCBdI2HUh1/O6lphHI6GnKLDoqHAwowlilLsvkPVUsa",
            "$2b$10$NP4IfkwP/znCBdI2HUh1/O6lphHI6GnKLDoqHAwowlilLsvkPVUs!",
            "$2b$10$NP4IfkwP/znCBdI2HUh1/O6lphHI6GnKLDoqHAwowlilLsvkPVUsé",
            "$6$",
            "$6$$",
            "$6$rounds=$u0DV3EOpyNvUVc3x$x",
            "$6$rounds=abc$u0DV3EOpyNvUVc3x$I4bI/Bbxx5SXaGtPyJMZpwlBUp4X7t0m0NnfOIN.tLPgHMaPfR2AXz2mG.wd5idt7gWLYXYcBxl6yDq7DJSyJ.",
            "$6$rounds=999$u0DV3EOpyNvUVc3x$I4bI/Bbxx5SXaGtPyJMZpwlBUp4X7t0m0NnfOIN.tLPgHMaPfR2AXz2mG.wd5idt7gWLYXYcBxl6yDq7DJSyJ.",
            "$6$u0DV3EOpyNvUVc3xTOOLONG$I4bI/Bbxx5SXaGtPyJMZpwlBUp4X7t0m0NnfOIN.tLPgHMaPfR2AXz2mG.wd5idt7gWLYXYcBxl6yDq7DJSyJ.",
            // SHA-256-crypt and the other argon2 variants are not legacy formats here.
            "$5$rounds=5000$usesomesillystri$KqJWpanXZHKq2BOB43TSaYhEWsQ1Lr5QNyPCDH/Tp.6",
            "$argon2i$v=19$m=19456,t=2,p=1$fWvuugGFZA+vm0H3U2A+2g$cJNkE6yP0QrjK0TjDqIHUDA9Uk71HkNZazG8YrOeJgA",
            "$argon2d$v=19$m=19456,t=2,p=1$fWvuugGFZA+vm0H3U2A+2g$cJNkE6yP0QrjK0TjDqIHUDA9Uk71HkNZazG8YrOeJgA",
            "$argon2id$",
            "$argon2id$v=19$m=19456,t=2,p=1",
            "$argon2id$v=19$m=19456,t=2,p=1$fWvuugGFZA+vm0H3U2A+2g",
            "$argon2id$v=19$m=abc,t=2,p=1$fWvuugGFZA+vm0H3U2A+2g$cJNkE6yP0QrjK0TjDqIHUDA9Uk71HkNZazG8YrOeJgA",
            "$argon2id$v=19$m=19456,t=2,p=1$!!!$cJNkE6yP0QrjK0TjDqIHUDA9Uk71HkNZazG8YrOeJgA",
            "\u{0}\u{ffff}🦀$2b$10$",
            &long,
        ];
        for h in garbage {
            assert_eq!(format_of(h), None, "{h:?}");
            for pw in ["", BCRYPT_PW, SHA512_PW, ARGON2ID_PW] {
                assert!(!verify(h, pw), "{h:?}");
            }
        }
        // Surrounding whitespace is not trimmed.
        for h in [BCRYPT, SHA512, ARGON2ID] {
            for padded in [format!(" {h}"), format!("{h}\n")] {
                assert_eq!(format_of(&padded), None, "{padded:?}");
            }
        }
    }

    // CLM-1
    #[test]
    fn clm_1_truncated_hashes_refused() {
        for (hash, pw) in [
            (BCRYPT, BCRYPT_PW),
            (SHA512, SHA512_PW),
            (ARGON2ID, ARGON2ID_PW),
        ] {
            for len in 0..hash.len() {
                let prefix = &hash[..len];
                assert!(!verify(prefix, pw), "{prefix:?}");
            }
        }
        // bcrypt and SHA-512-crypt have fixed-length digests: any prefix is unrecognised.
        for hash in [BCRYPT, SHA512] {
            for len in 0..hash.len() {
                assert_eq!(format_of(&hash[..len]), None, "{:?}", &hash[..len]);
            }
        }
        // argon2id: cut anywhere before the output it is unrecognised.
        let output_at = ARGON2ID.rfind('$').expect("sample has an output field");
        for len in 0..=output_at + 1 {
            assert_eq!(format_of(&ARGON2ID[..len]), None, "{:?}", &ARGON2ID[..len]);
        }
    }

    // CLM-1
    #[test]
    fn clm_1_corrupted_hashes_never_panic() {
        for (hash, pw) in [
            (BCRYPT, BCRYPT_PW),
            (SHA512, SHA512_PW),
            (ARGON2ID, ARGON2ID_PW),
        ] {
            for i in 0..hash.len() {
                for c in ["é", "\u{0}", "🦀"] {
                    let h = format!("{}{c}{}", &hash[..i], &hash[i + 1..]);
                    assert!(!verify(&h, pw), "{h:?}");
                }
            }
        }
    }

    // CLM-1
    #[test]
    fn clm_1_over_cost_bcrypt_refused() {
        for cost in ["15", "20", "31", "99"] {
            let h = format!("$2b${cost}{}", &BCRYPT[6..]);
            assert_eq!(format_of(&h), Some(LegacyFormat::Bcrypt), "{h}");
            assert!(!verify(&h, BCRYPT_PW), "{h}");
        }
    }

    // CLM-1
    #[test]
    fn clm_1_over_cost_sha512_crypt_refused() {
        for rounds in ["1000001", "50000000", "999999999"] {
            let h = format!("$6$rounds={rounds}${}", &SHA512[3..]);
            assert_eq!(format_of(&h), Some(LegacyFormat::Sha512Crypt), "{h}");
            assert!(!verify(&h, SHA512_PW), "{h}");
        }
    }

    // CLM-1
    #[test]
    fn clm_1_over_cost_argon2id_refused() {
        for params in [
            "m=262145,t=2,p=1",
            "m=4194304,t=2,p=1",
            "m=19456,t=17,p=1",
            "m=19456,t=4294967295,p=1",
        ] {
            let h = ARGON2ID.replace("m=19456,t=2,p=1", params);
            assert_eq!(format_of(&h), Some(LegacyFormat::Argon2id), "{h}");
            assert!(!verify(&h, ARGON2ID_PW), "{h}");
        }
    }
}
