//! Password policy (PW-1, PW-2) and storage (PW-4: argon2id, OWASP parameters).

use std::sync::OnceLock;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

use crate::ids::Password;
use crate::random::Random;

/// PW-1 / PW-2 presets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Preset {
    /// Seed 000: 8-32, digit, upper, lower; symbols allowed.
    Default,
    /// Seed 003: 6-32, digit, upper, lower.
    Seed003,
    /// Seed 002: 12-40, lower, upper, digit and a symbol from `!@#$%&*?+-=`.
    Seed002,
}

/// PW-1's symbols (`¥` in Japanese documents is `\`).
const SYMBOLS_DEFAULT: &str = " !\"#$%&()*+,-./:;<=>?@[\\]^_`{|}~";
const SYMBOLS_SEED002: &str = "!@#$%&*?+-=";

pub struct Rules {
    pub min: usize,
    pub max: usize,
    pub symbols: &'static str,
    pub symbol_required: bool,
}

impl Preset {
    pub fn rules(self) -> Rules {
        match self {
            Preset::Default => Rules {
                min: 8,
                max: 32,
                symbols: SYMBOLS_DEFAULT,
                symbol_required: false,
            },
            Preset::Seed003 => Rules {
                min: 6,
                max: 32,
                symbols: SYMBOLS_DEFAULT,
                symbol_required: false,
            },
            Preset::Seed002 => Rules {
                min: 12,
                max: 40,
                symbols: SYMBOLS_SEED002,
                symbol_required: true,
            },
        }
    }
}

/// Every rule of the preset that `pw` does not meet, as stable codes:
/// `length`, `lower`, `upper`, `digit`, `symbol`, `characters`.
pub fn unmet(preset: Preset, pw: &Password) -> Vec<&'static str> {
    let r = preset.rules();
    let s = pw.expose();
    let mut out = Vec::new();
    let n = s.chars().count();
    if n < r.min || n > r.max {
        out.push("length");
    }
    if !s.chars().any(|c| c.is_ascii_lowercase()) {
        out.push("lower");
    }
    if !s.chars().any(|c| c.is_ascii_uppercase()) {
        out.push("upper");
    }
    if !s.chars().any(|c| c.is_ascii_digit()) {
        out.push("digit");
    }
    if r.symbol_required && !s.chars().any(|c| r.symbols.contains(c)) {
        out.push("symbol");
    }
    if !s
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || r.symbols.contains(c))
    {
        out.push("characters");
    }
    out
}

/// OWASP's argon2id recommendation: m = 19 MiB, t = 2, p = 1.
pub fn argon2() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).expect("valid argon2 parameters");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// A PHC string (`$argon2id$v=19$m=19456,t=2,p=1$…`).
pub fn hash(pw: &Password, rng: &dyn Random) -> String {
    let mut salt = [0u8; 16];
    rng.fill(&mut salt);
    let salt = SaltString::encode_b64(&salt).expect("16-byte salt encodes");
    argon2()
        .hash_password(pw.expose().as_bytes(), &salt)
        .expect("argon2 with valid parameters cannot fail")
        .to_string()
}

/// Whether a PHC string is argon2id with today's parameters (otherwise it
/// is rehashed when the password is next known, CLM-1).
pub fn is_current(phc: &str) -> bool {
    phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$")
}

/// Constant work whether or not the hash parses: a malformed stored hash is
/// checked against the dummy so it costs what a real check costs.
pub fn verify(phc: &str, pw: &Password) -> bool {
    match PasswordHash::new(phc) {
        Ok(h) => argon2().verify_password(pw.expose().as_bytes(), &h).is_ok(),
        Err(_) => {
            burn(pw);
            false
        }
    }
}

/// LOG-3: spend one argon2 verification on nothing, for users that do not
/// exist or may not sign in, so every failure takes about the same time.
pub fn burn(pw: &Password) {
    static DUMMY: OnceLock<String> = OnceLock::new();
    let phc = DUMMY.get_or_init(|| {
        hash(
            &Password::parse("tobira-dummy-password").expect("valid"),
            &crate::random::OsRandom,
        )
    });
    if let Ok(h) = PasswordHash::new(phc) {
        let _ = argon2().verify_password(pw.expose().as_bytes(), &h);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Password {
        Password::parse(s).unwrap()
    }

    // PW-1
    #[test]
    fn pw_1_default_preset() {
        assert!(unmet(Preset::Default, &p("Tobira-Door42")).is_empty());
        assert!(unmet(Preset::Default, &p("Abcdefg1")).is_empty());
        assert_eq!(unmet(Preset::Default, &p("Abcdef1")), vec!["length"]);
        assert_eq!(unmet(Preset::Default, &p("abcdefg1")), vec!["upper"]);
        assert_eq!(unmet(Preset::Default, &p("ABCDEFG1")), vec!["lower"]);
        assert_eq!(unmet(Preset::Default, &p("Abcdefgh")), vec!["digit"]);
        assert_eq!(
            unmet(Preset::Default, &p("Abcdefg1\\~")),
            Vec::<&str>::new()
        ); // ¥ is \
        assert_eq!(unmet(Preset::Default, &p("Abcdefg1あ")), vec!["characters"]);
        assert_eq!(
            unmet(Preset::Default, &p(&format!("Ab1{}", "x".repeat(30)))),
            vec!["length"]
        );
        assert_eq!(
            unmet(Preset::Default, &p("a")),
            vec!["length", "upper", "digit"]
        );
    }

    // PW-2
    #[test]
    fn pw_2_presets() {
        assert!(unmet(Preset::Seed003, &p("Abcde1")).is_empty());
        assert_eq!(unmet(Preset::Seed002, &p("Abcdefghij12")), vec!["symbol"]);
        assert!(unmet(Preset::Seed002, &p("Abcdefghij1!")).is_empty());
        assert_eq!(
            unmet(Preset::Seed002, &p("Abcdefghij1^")),
            vec!["symbol", "characters"]
        );
    }

    // PW-4
    #[test]
    fn pw_4_argon2id_with_owasp_parameters() {
        let h = hash(&p("Tobira-Door42"), &crate::random::SeededRandom::new(1));
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(!h.contains("Tobira-Door42"));
        assert!(verify(&h, &p("Tobira-Door42")));
        assert!(!verify(&h, &p("Tobira-Door43")));
        assert!(!verify("not a hash", &p("Tobira-Door42")));
    }
}
