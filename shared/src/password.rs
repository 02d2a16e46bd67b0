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
    // home of PW-1, PW-2
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

/// What a password must not contain (PW-3): the user's own identifiers.
#[derive(Clone, Copy, Debug, Default)]
pub struct Personal<'a> {
    pub login_id: &'a str,
    pub email: &'a str,
    pub name: &'a str,
}

impl Personal<'_> {
    /// The strings a password may not contain: the login ID, the e-mail's
    /// local part and every part of the name, lower-cased; shorter than
    /// three characters they say nothing.
    /// Login IDs and local parts count whole and by their parts
    /// (`t.yamada` → `yamada`).
    fn words(&self) -> Vec<String> {
        let local = |s: &str| s.split('@').next().unwrap_or_default().to_lowercase();
        let mut words = vec![
            self.login_id.to_lowercase(),
            local(self.login_id),
            local(self.email),
        ];
        let parts: Vec<String> = words
            .iter()
            .skip(1)
            .flat_map(|w| {
                w.split(|c: char| !c.is_alphanumeric())
                    .map(str::to_string)
                    .collect::<Vec<_>>()
            })
            .collect();
        words.extend(parts);
        words.extend(self.name.split([' ', '\u{3000}']).map(str::to_lowercase));
        words.retain(|w| w.chars().count() >= 3);
        words.sort();
        words.dedup();
        words
    }
}

// home of PW-3
/// Every rule that `pw` does not meet, as stable codes, in checklist order.
/// The preset's rules (PW-1, PW-2): `length`, `lower`, `upper`, `digit`,
/// `symbol`, `characters`. The weak-password rules of every preset (PW-3):
/// `repeated` (one character or block over and over), `sequence` (`abcd`,
/// `4321`, keyboard rows), `common` (a common password, zxcvbn's bundled
/// list of 30,000), `dictionary` (a dictionary word or name alone, with a
/// few digits or symbols), `personal` (contains the login ID, the e-mail's
/// local part or the name), `guessable` (zxcvbn estimates fewer than 10^6
/// guesses for any other reason).
pub fn unmet(preset: Preset, pw: &Password, who: &Personal<'_>) -> Vec<&'static str> {
    let mut out = unmet_preset(preset, pw);
    out.extend(weaknesses(pw.expose(), who));
    out
}

/// Every rule that an empty password breaks, in checklist order: the
/// codes the page and the API document.
pub fn all_rules(preset: Preset) -> Vec<&'static str> {
    let mut codes = vec!["length", "lower", "upper", "digit"];
    if preset.rules().symbol_required {
        codes.push("symbol");
    }
    codes.push("characters");
    codes.extend(WEAKNESSES);
    codes
}

/// PW-3's codes, in checklist order.
pub const WEAKNESSES: [&str; 6] = [
    "repeated",
    "sequence",
    "common",
    "dictionary",
    "personal",
    "guessable",
];

fn unmet_preset(preset: Preset, pw: &Password) -> Vec<&'static str> {
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

/// The longest run of one character (`aaaa` in `Aaaaa1`, case folded).
fn longest_run(s: &str) -> usize {
    let (mut best, mut run, mut prev) = (0, 0, None);
    for c in s.chars() {
        run = if Some(c) == prev { run + 1 } else { 1 };
        prev = Some(c);
        best = best.max(run);
    }
    best
}

/// PW-3 with zxcvbn: its optimal decomposition of the password into
/// patterns says which weak pattern makes up most of it.
fn weaknesses(pw: &str, who: &Personal<'_>) -> Vec<&'static str> {
    use zxcvbn::matching::patterns::MatchPattern as P;

    let n = pw.chars().count();
    if n == 0 {
        return WEAKNESSES.to_vec();
    }
    let words = who.words();
    let inputs: Vec<&str> = words.iter().map(String::as_str).collect();
    let e = zxcvbn::zxcvbn(pw, &inputs);
    // Characters covered by each kind of pattern; "most of it" is half.
    let (mut repeated, mut sequence, mut common, mut personal) = (0, 0, 0, 0);
    let mut dictionary = 0usize;
    for m in e.sequence() {
        let len = m.token.chars().count();
        match &m.pattern {
            P::Repeat(_) => repeated += len,
            P::Sequence(_) | P::Spatial(_) => sequence += len,
            // zxcvbn does not export the type of `dictionary_name`; its
            // variant names are read through `Debug` (a test pins them).
            P::Dictionary(d) => match format!("{:?}", d.dictionary_name).as_str() {
                "Passwords" => common += len,
                "UserInputs" => personal += len,
                _ => dictionary = dictionary.max(len),
            },
            _ => {}
        }
    }
    let most = |covered: usize| covered * 2 >= n;
    let lower = pw.to_lowercase();
    let mut out = Vec::new();
    if most(repeated) || most(longest_run(&lower)) {
        out.push("repeated");
    }
    if most(sequence) {
        out.push("sequence");
    }
    if most(common) {
        out.push("common");
    }
    // "A dictionary word alone": one word that leaves at most a third of
    // the password to digits and symbols.
    if dictionary * 3 >= n * 2 {
        out.push("dictionary");
    }
    if personal > 0 || words.iter().any(|w| lower.contains(w.as_str())) {
        out.push("personal");
    }
    if out.is_empty() && e.guesses() < 1_000_000 {
        out.push("guessable");
    }
    out
}

/// OWASP's argon2id recommendation: m = 19 MiB, t = 2, p = 1.
pub fn argon2() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).expect("valid argon2 parameters");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

// home of PW-4
/// A PHC string (`$argon2id$v=19$m=19456,t=2,p=1$…`).
pub fn hash(pw: &Password, rng: &dyn Random) -> String {
    hash_salted(pw, salt(rng))
}

fn salt(rng: &dyn Random) -> [u8; 16] {
    let mut salt = [0u8; 16];
    rng.fill(&mut salt);
    salt
}

fn hash_salted(pw: &Password, salt: [u8; 16]) -> String {
    let salt = SaltString::encode_b64(&salt).expect("16-byte salt encodes");
    argon2()
        .hash_password(pw.expose().as_bytes(), &salt)
        .expect("argon2 with valid parameters cannot fail")
        .to_string()
}

/// CPU-heavy work of a request on tokio's blocking pool (issue 17 item 6):
/// where one host serves many requests at once (the local portal), its
/// async workers stay free for the others while argon2 runs (about 20 ms
/// of one core); in Lambda, one request per instance, it costs a thread
/// hop. Outside a runtime it runs here.
pub async fn off_thread<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> T {
    if tokio::runtime::Handle::try_current().is_err() {
        return work();
    }
    match tokio::task::spawn_blocking(work).await {
        Ok(out) => out,
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        Err(e) => panic!("the blocking pool was shut down: {e}"),
    }
}

/// [`hash`] on the blocking pool (the salt drawn here).
pub async fn hash_off_thread(pw: &Password, rng: &dyn Random) -> String {
    let (pw, salt) = (pw.clone(), salt(rng));
    off_thread(move || hash_salted(&pw, salt)).await
}

/// [`verify`] on the blocking pool.
pub async fn verify_off_thread(phc: &str, pw: &Password) -> bool {
    let (phc, pw) = (phc.to_string(), pw.clone());
    off_thread(move || verify(&phc, &pw)).await
}

/// [`burn`] on the blocking pool.
pub async fn burn_off_thread(pw: &Password) {
    let pw = pw.clone();
    off_thread(move || burn(&pw)).await
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
        assert!(unmet_preset(Preset::Default, &p("Tobira-Door42")).is_empty());
        assert!(unmet_preset(Preset::Default, &p("Kumo-Tori7")).is_empty());
        assert_eq!(unmet_preset(Preset::Default, &p("Abcdef1")), vec!["length"]);
        assert_eq!(unmet_preset(Preset::Default, &p("abcdefg1")), vec!["upper"]);
        assert_eq!(unmet_preset(Preset::Default, &p("ABCDEFG1")), vec!["lower"]);
        assert_eq!(unmet_preset(Preset::Default, &p("Abcdefgh")), vec!["digit"]);
        assert_eq!(
            unmet_preset(Preset::Default, &p("Abcdefg1\\~")),
            Vec::<&str>::new()
        ); // ¥ is \
        assert_eq!(
            unmet_preset(Preset::Default, &p("Abcdefg1あ")),
            vec!["characters"]
        );
        assert_eq!(
            unmet_preset(Preset::Default, &p(&format!("Ab1{}", "x".repeat(30)))),
            vec!["length"]
        );
        assert_eq!(
            unmet_preset(Preset::Default, &p("a")),
            vec!["length", "upper", "digit"]
        );
    }

    // PW-2
    #[test]
    fn pw_2_presets() {
        assert!(unmet_preset(Preset::Seed003, &p("Abcde1")).is_empty());
        assert_eq!(
            unmet_preset(Preset::Seed002, &p("Abcdefghij12")),
            vec!["symbol"]
        );
        assert!(unmet_preset(Preset::Seed002, &p("Abcdefghij1!")).is_empty());
        assert_eq!(
            unmet_preset(Preset::Seed002, &p("Abcdefghij1^")),
            vec!["symbol", "characters"]
        );
    }

    fn weak(s: &str) -> Vec<&'static str> {
        let who = Personal {
            login_id: "yamada.taro@example.co.jp",
            email: "t.yamada@example.co.jp",
            name: "山田 Taro",
        };
        weaknesses(s, &who)
    }

    // PW-3
    #[test]
    fn pw_3_weak_passwords_are_refused_with_every_unmet_rule() {
        // Strong ones pass, under the default preset too.
        for ok in [
            "Tobira-Door42",
            "Kagi-Sanbon73",
            "Narrow-Screen58",
            "Another-Door77",
            "Kumo-Tori7",
            "mK7#vQ2!pL9x",
        ] {
            assert_eq!(weak(ok), Vec::<&str>::new(), "{ok}");
        }
        assert!(
            weak("Aaaaaaaa1").contains(&"repeated"),
            "{:?}",
            weak("Aaaaaaaa1")
        );
        assert!(weak("Abcabcabc1").contains(&"repeated"));
        assert!(
            weak("Abcdefgh1").contains(&"sequence"),
            "{:?}",
            weak("Abcdefgh1")
        );
        assert!(weak("98765432Zy").contains(&"sequence"));
        assert!(weak("Poiuytrew5").contains(&"sequence")); // a keyboard row
        assert!(weak("Qwertyui1").contains(&"common"));
        assert!(
            weak("Password1").contains(&"common"),
            "{:?}",
            weak("Password1")
        );
        assert!(weak("P@ssw0rd1").contains(&"common"));
        assert!(weak("Iloveyou2").contains(&"common"));
        assert!(weak("Government7").contains(&"dictionary"));
        assert!(weak("Kilimanjaro1").contains(&"dictionary"));
        assert!(weak("Yesterday9").contains(&"dictionary"));
        assert!(weak("Yamada-2024x").contains(&"personal"));
        assert!(weak("Xt.Yamada99").contains(&"personal"));
        assert!(weak("Taro-Kagi83").contains(&"personal"));
        assert!(weak("yamada.TARO@example.co.jp").contains(&"personal"));
        // Every rule at once, in checklist order, through `unmet`.
        let who = Personal::default();
        assert_eq!(
            unmet(Preset::Default, &p("aaa"), &who),
            vec!["length", "upper", "digit", "repeated"]
        );
        let all = all_rules(Preset::Seed002);
        assert_eq!(
            &all[..6],
            ["length", "lower", "upper", "digit", "symbol", "characters"]
        );
        assert_eq!(&all[6..], WEAKNESSES);
    }

    // PW-3
    #[test]
    fn pw_3_zxcvbn_dictionary_names_are_the_ones_read() {
        // `weaknesses` reads zxcvbn's dictionary names through Debug.
        let names = |pw: &str, inputs: &[&str]| -> Vec<String> {
            zxcvbn::zxcvbn(pw, inputs)
                .sequence()
                .iter()
                .filter_map(|m| match &m.pattern {
                    zxcvbn::matching::patterns::MatchPattern::Dictionary(d) => {
                        Some(format!("{:?}", d.dictionary_name))
                    }
                    _ => None,
                })
                .collect()
        };
        assert_eq!(names("password", &[]), ["Passwords"]);
        assert_eq!(names("zqxjkuvwyt", &["zqxjkuvwyt"]), ["UserInputs"]);
    }

    // PW-4
    #[test]
    fn pw_4_argon2id_with_owasp_parameters() {
        let h = hash(&p("Tobira-Door42"), &crate::random::TestRandom::new(1));
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(!h.contains("Tobira-Door42"));
        assert!(verify(&h, &p("Tobira-Door42")));
        assert!(!verify(&h, &p("Tobira-Door43")));
        assert!(!verify("not a hash", &p("Tobira-Door42")));
    }
}
