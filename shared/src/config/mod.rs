//! Typed configuration, read once from the environment at cold start. A
//! missing or malformed variable stops the function with its name.

use std::fmt;
use std::time::Duration;

mod attachments;
mod documents;
mod factors;

pub use attachments::AttachmentPolicy;
pub use documents::{Document, Documents};
pub use factors::{FactorPolicy, RelyingParty};

use crate::password::Preset;
use crate::softlock::LockPolicy;

/// ADM-2: the login ID of a user an admin creates without naming one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LoginIdPolicy {
    /// The e-mail address.
    Email,
    /// The e-mail address with `.cs` added, cut first to 37 characters so
    /// that the login ID has at most 40 (seed 002).
    EmailCs,
}

#[derive(Clone, Debug)]
pub struct Config {
    /// Brand shown in pages, mail subjects and the TOTP issuer (MSG-1).
    pub brand: String,
    /// Public base URL of the portal; every link in a mail is built from it,
    /// never from a request's Host header.
    pub base_url: String,
    /// Sender address of every mail (MSG-1).
    pub mail_from: String,
    /// DynamoDB table (Lambda only).
    pub table: Option<String>,
    /// SET-1: lifetime of a setup link.
    pub setup_link_ttl: Duration,
    /// How long the identity check's grant to set a password lasts (SET-3).
    pub grant_ttl: Duration,
    /// LOG-2 lockout.
    pub login_lock: LockPolicy,
    /// SET-2 identity-check block.
    pub identity_lock: LockPolicy,
    /// RST-2: failed "forgot password" entries per login ID before a block.
    pub reset_lock: LockPolicy,
    /// RST-1: lifetime of a password-reset link.
    pub reset_link_ttl: Duration,
    /// RST-3: no reset for this long after a completed one.
    pub reset_cooldown: Duration,
    /// RST-1: "forgot password" and SET-1's resend answer no sooner than
    /// this after the request arrived, so that the answer's timing does
    /// not tell a mailed link (a mail service call) from no link.
    pub forgot_floor: Duration,
    /// LOG-5: a sign-in attempt that locks answers no sooner than this, so
    /// that the lock notice's mail service call (a held login ID) and no
    /// call (an unknown one) take the same time (LOG-3).
    pub lock_notice_floor: Duration,
    /// CLM-1: failures per legacy service ID before a block.
    pub claim_lock: LockPolicy,
    /// CLM-1: one legacy hash per format of the export, at its cost: every
    /// claim verifies each, a claimable account's own hash taking the place
    /// of the one of its format, so that every claim does the same work
    /// (`TOBIRA_CLAIM_REFERENCE_HASHES`).
    pub claim_reference_hashes: Vec<String>,
    /// TOS-1, CLM-2: the terms and the privacy policy: current versions
    /// and where to read them.
    pub documents: Documents,
    /// PW-1 / PW-2.
    pub password_preset: Preset,
    /// ADM-2: the login ID of a user an admin creates without naming one
    /// (`TOBIRA_LOGIN_ID_POLICY`: `email`, or `email-cs`).
    pub login_id_policy: LoginIdPolicy,
    /// MIG-5 phone used when a legacy phone cannot be repaired.
    pub default_phone: String,
    /// SES-1 timeouts.
    pub session_idle: Duration,
    pub session_absolute: Duration,
    /// `Secure` cookies with the `__Host-` prefix. Off only for plain-HTTP
    /// development hosts other than loopback.
    pub cookie_secure: bool,
    /// MFA-3: e-mail and SMS codes.
    pub otp: OtpPolicy,
    /// MFA-2: e-mail OTP only after another method is enrolled (seed 001).
    pub email_otp_needs_other_method: bool,
    /// MFA-9, MFA-10: the factors offered beyond TOTP, e-mail and SMS.
    pub factors: FactorPolicy,
    /// Issue 17 item 3: open the store's connection during a Lambda's init
    /// with one cheap read (`TOBIRA_PRIME`, default true).
    pub prime: bool,
    /// MFA-7: how long "remember this device" lasts (30 days; seed 002: 8 h).
    pub remember_device: Duration,
    /// MFA-8: how long after the password a factor change needs no new proof.
    pub reauth: Duration,
    /// MIG-11 window, inclusive JST dates `YYYY-MM-DD`.
    pub migration_window: Option<(String, String)>,
    /// MIG-10: records per scheduled chunk.
    pub migrate_chunk: usize,
    /// MIG-10: a migration run stops starting new work after this long
    /// (keep it well under the function's timeout).
    pub migrate_budget: Duration,
    /// MIG-11: SHA-256 (hex) of the key the legacy portal presents as
    /// `Authorization: Bearer <key>`; unset = the route is closed.
    pub legacy_portal_key_sha256: Option<String>,
    /// CASE-1..5 and MIG-13: support cases.
    pub cases: CasePolicy,
    /// SES-3: the key that MACs the pre-sign-in CSRF cookie and derives a
    /// session's form token (`TOBIRA_CSRF_KEY`; random when local).
    pub csrf_key: SecretKey,
    /// The key that derives a password or setup link's token from its
    /// outbox item (`outbox.rs`; `TOBIRA_LINK_KEY`; locally kept in the data
    /// directory). Used for nothing else.
    pub link_key: SecretKey,
}

/// CASE-1: the categories a case may have (seed 002's list by default),
/// each with its Japanese and English label.
pub const DEFAULT_CASE_CATEGORIES: [(&str, &str); 11] = [
    ("サービスについて", "About the service"),
    ("製品仕様について", "Product specifications"),
    ("アラートについて", "About alerts"),
    ("故障について", "Faults"),
    ("月次レポートについて", "About the monthly report"),
    ("その他", "Other"),
    ("作業依頼", "Work request"),
    ("月次レポート送付", "Monthly report delivery"),
    ("アラーム", "Alarms"),
    (
        "正常性確認依頼(利用開始時)",
        "Health check request (at the start of use)",
    ),
    ("ご利用クレジット数超過", "Credit usage exceeded"),
];

/// CASE-8: the category of the cases that deliver the desk's monthly
/// reports (seed 002 4.8: the "monthly report" filter is this category).
pub const REPORT_DELIVERY_CATEGORY: &str = "月次レポート送付";

/// CASE-1: a case category. Its Japanese label is also the value a case
/// stores and the API carries (`category`); pages and mails show the label
/// in the reader's language.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Category {
    pub ja: String,
    pub en: String,
}

impl Category {
    pub fn id(&self) -> &str {
        &self.ja
    }
    pub fn label(&self, lang: crate::i18n::Lang) -> &str {
        match lang {
            crate::i18n::Lang::Ja => &self.ja,
            crate::i18n::Lang::En => &self.en,
        }
    }
}

impl CasePolicy {
    /// The label of a case's category in `lang`; a category no longer
    /// configured shows as it was stored.
    pub fn category_label<'a>(&'a self, id: &'a str, lang: crate::i18n::Lang) -> &'a str {
        self.categories
            .iter()
            .find(|c| c.id() == id)
            .map_or(id, |c| c.label(lang))
    }
}

/// MIG-13: whether legacy users file cases in the legacy system.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FilingSplit {
    /// While the migration window is open (the default).
    DuringWindow,
    Always,
    Never,
}

/// Support cases: what a case may hold, how numbers start, and where
/// legacy users file (MIG-13).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CasePolicy {
    pub categories: Vec<Category>,
    /// Characters (not bytes) of a subject, a body, a comment.
    pub subject_max: usize,
    pub body_max: usize,
    /// Comments per case (keeps a case's items bounded).
    pub comments_max: u32,
    /// The first number handed out (`CS` + 7 digits): start above the
    /// legacy system's numbers so that no two cases share one.
    pub number_start: u64,
    pub filing_split: FilingSplit,
    /// Where legacy users file cases (named in the refusal), if known.
    pub legacy_url: Option<String>,
    /// CASE-6: what an attachment may be.
    pub attachments: AttachmentPolicy,
}

/// MFA-3: how e-mail and SMS codes behave.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OtpPolicy {
    /// A code is valid this long.
    pub ttl: Duration,
    /// A new code can be asked for after this long.
    pub resend_after: Duration,
    /// This many wrong entries end a code.
    pub max_wrong: u32,
    /// At most this many codes per user, channel and hour.
    pub sends_per_hour: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigError {
    Missing(&'static str),
    Invalid {
        name: &'static str,
        value: String,
        expected: &'static str,
    },
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Missing(n) => write!(f, "missing required environment variable {n}"),
            Self::Invalid {
                name,
                value,
                expected,
            } => {
                write!(
                    f,
                    "environment variable {name}={value:?} is invalid: expected {expected}"
                )
            }
        }
    }
}

impl std::error::Error for ConfigError {}

impl Config {
    /// The Lambda configuration: table, base URL, sender and brand are required.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|k| std::env::var(k).ok(), true)
    }

    /// Local and test configuration: everything has a default.
    pub fn local(base_url: &str) -> Self {
        let base = base_url.to_string();
        Self::from_lookup(
            move |k| match k {
                "TOBIRA_BASE_URL" => Some(base.clone()),
                _ => std::env::var(k).ok().filter(|_| k != "TOBIRA_TABLE"),
            },
            false,
        )
        .expect("local defaults are valid")
    }

    pub fn from_lookup(
        get: impl Fn(&str) -> Option<String>,
        lambda: bool,
    ) -> Result<Self, ConfigError> {
        let get = |k: &str| get(k).filter(|v| !v.trim().is_empty());
        let required = |k: &'static str, default: &str| -> Result<String, ConfigError> {
            match get(k) {
                Some(v) => Ok(v),
                None if lambda => Err(ConfigError::Missing(k)),
                None => Ok(default.to_string()),
            }
        };
        let num =
            |k: &'static str, default: u64| -> Result<u64, ConfigError> {
                match get(k) {
                    None => Ok(default),
                    Some(v) => v.trim().parse::<u64>().ok().filter(|n| *n > 0).ok_or(
                        ConfigError::Invalid {
                            name: k,
                            value: v,
                            expected: "a positive whole number",
                        },
                    ),
                }
            };
        let boolean = |k: &'static str, default: bool| -> Result<bool, ConfigError> {
            match get(k).as_deref().map(str::trim) {
                None => Ok(default),
                Some("true" | "1") => Ok(true),
                Some("false" | "0") => Ok(false),
                Some(v) => Err(ConfigError::Invalid {
                    name: k,
                    value: v.into(),
                    expected: "true or false",
                }),
            }
        };
        let base_url = required("TOBIRA_BASE_URL", "http://127.0.0.1:3000")?;
        if !(base_url.starts_with("https://") || base_url.starts_with("http://")) {
            return Err(ConfigError::Invalid {
                name: "TOBIRA_BASE_URL",
                value: base_url,
                expected: "an http(s) URL",
            });
        }
        let preset = match get("TOBIRA_PASSWORD_PRESET").as_deref() {
            None | Some("default") => Preset::Default,
            Some("seed003") => Preset::Seed003,
            Some("seed002") => Preset::Seed002,
            Some(v) => {
                return Err(ConfigError::Invalid {
                    name: "TOBIRA_PASSWORD_PRESET",
                    value: v.into(),
                    expected: "default, seed003 or seed002",
                })
            }
        };
        let login_id_policy = match get("TOBIRA_LOGIN_ID_POLICY").as_deref().map(str::trim) {
            None | Some("email") => LoginIdPolicy::Email,
            Some("email-cs") => LoginIdPolicy::EmailCs,
            Some(v) => {
                return Err(ConfigError::Invalid {
                    name: "TOBIRA_LOGIN_ID_POLICY",
                    value: v.into(),
                    expected: "email or email-cs",
                })
            }
        };
        let window = match get("TOBIRA_MIGRATION_WINDOW") {
            None => None,
            Some(v) => Some(parse_window(&v).ok_or(ConfigError::Invalid {
                name: "TOBIRA_MIGRATION_WINDOW",
                value: v,
                expected: "YYYY-MM-DD/YYYY-MM-DD",
            })?),
        };
        let default_phone = get("TOBIRA_DEFAULT_PHONE").unwrap_or_else(|| "0312345678".into());
        if !crate::phone::is_plain_digits(&default_phone) {
            return Err(ConfigError::Invalid {
                name: "TOBIRA_DEFAULT_PHONE",
                value: default_phone,
                expected: "4 to 32 ASCII digits",
            });
        }
        let mins = |m: u64| Duration::from_secs(m * 60);
        let cases = CasePolicy {
            categories: match get("TOBIRA_CASE_CATEGORIES") {
                None => DEFAULT_CASE_CATEGORIES
                    .map(|(ja, en)| Category {
                        ja: ja.into(),
                        en: en.into(),
                    })
                    .to_vec(),
                Some(v) => parse_categories(&v).ok_or(ConfigError::Invalid {
                    name: "TOBIRA_CASE_CATEGORIES",
                    value: v,
                    expected: "distinct, non-empty categories separated by commas, each `Japanese label|English label`",
                })?,
            },
            subject_max: bounded(
                num("TOBIRA_CASE_SUBJECT_MAX", 200)?,
                1000,
                "TOBIRA_CASE_SUBJECT_MAX",
            )?,
            // A case's items stay far below DynamoDB's 400 KB per item.
            body_max: bounded(
                num("TOBIRA_CASE_BODY_MAX", 4000)?,
                20_000,
                "TOBIRA_CASE_BODY_MAX",
            )?,
            comments_max: bounded(
                num("TOBIRA_CASE_COMMENTS_MAX", 500)?,
                10_000,
                "TOBIRA_CASE_COMMENTS_MAX",
            )? as u32,
            number_start: bounded(
                num("TOBIRA_CASE_NUMBER_START", 1)?,
                9_000_000,
                "TOBIRA_CASE_NUMBER_START",
            )? as u64,
            filing_split: match get("TOBIRA_CASE_FILING_SPLIT").as_deref().map(str::trim) {
                None | Some("window") => FilingSplit::DuringWindow,
                Some("always") => FilingSplit::Always,
                Some("never") => FilingSplit::Never,
                Some(v) => {
                    return Err(ConfigError::Invalid {
                        name: "TOBIRA_CASE_FILING_SPLIT",
                        value: v.into(),
                        expected: "window, always or never",
                    })
                }
            },
            legacy_url: get("TOBIRA_LEGACY_CASE_URL").map(|v| v.trim().to_string()),
            attachments: AttachmentPolicy::read(&get)?,
        };
        Ok(Self {
            brand: required("TOBIRA_BRAND", "tobira")?,
            base_url: base_url.trim_end_matches('/').to_string(),
            mail_from: required("TOBIRA_MAIL_FROM", "no-reply@tobira.localhost")?,
            table: if lambda {
                Some(required("TOBIRA_TABLE", "")?)
            } else {
                get("TOBIRA_TABLE")
            },
            setup_link_ttl: Duration::from_secs(num("TOBIRA_SETUP_LINK_TTL_HOURS", 72)? * 3600),
            grant_ttl: mins(15),
            login_lock: LockPolicy {
                max_failures: num("TOBIRA_LOGIN_MAX_FAILURES", 5)? as u32,
                lock_for: mins(num("TOBIRA_LOGIN_LOCK_MINUTES", 20)?),
            },
            identity_lock: LockPolicy {
                max_failures: num("TOBIRA_IDENTITY_MAX_FAILURES", 5)? as u32,
                lock_for: mins(num("TOBIRA_IDENTITY_BLOCK_MINUTES", 20)?),
            },
            reset_lock: LockPolicy {
                max_failures: num("TOBIRA_RESET_MAX_FAILURES", 5)? as u32,
                lock_for: mins(num("TOBIRA_RESET_BLOCK_MINUTES", 20)?),
            },
            reset_link_ttl: mins(num("TOBIRA_RESET_LINK_MINUTES", 60)?),
            reset_cooldown: Duration::from_secs(num("TOBIRA_RESET_COOLDOWN_HOURS", 24)? * 3600),
            forgot_floor: Duration::from_millis(match get("TOBIRA_FORGOT_MIN_MILLIS") {
                None => 500,
                Some(v) => v.trim().parse::<u64>().map_err(|_| ConfigError::Invalid {
                    name: "TOBIRA_FORGOT_MIN_MILLIS",
                    value: v,
                    expected: "a whole number of milliseconds (0 = no floor)",
                })?,
            }),
            lock_notice_floor: Duration::from_millis(num("TOBIRA_LOCK_NOTICE_MIN_MILLIS", 1000)?),
            claim_lock: LockPolicy {
                max_failures: num("TOBIRA_CLAIM_MAX_FAILURES", 3)? as u32,
                lock_for: mins(num("TOBIRA_CLAIM_BLOCK_MINUTES", 10)?),
            },
            claim_reference_hashes: match get("TOBIRA_CLAIM_REFERENCE_HASHES") {
                None => crate::legacy_hash::REFERENCE_HASHES
                    .iter()
                    .map(|h| h.to_string())
                    .collect(),
                Some(v) => {
                    let hashes: Vec<String> = v.split_whitespace().map(str::to_string).collect();
                    if hashes
                        .iter()
                        .any(|h| crate::legacy_hash::format_of(h).is_none())
                    {
                        return Err(ConfigError::Invalid {
                            name: "TOBIRA_CLAIM_REFERENCE_HASHES",
                            value: v,
                            expected: "legacy hashes (bcrypt, SHA-512 crypt, argon2id) separated by spaces",
                        });
                    }
                    hashes
                }
            },
            documents: Documents::read(&get)?,
            password_preset: preset,
            login_id_policy,
            default_phone,
            session_idle: mins(num("TOBIRA_SESSION_IDLE_MINUTES", 30)?),
            session_absolute: Duration::from_secs(num("TOBIRA_SESSION_ABSOLUTE_HOURS", 12)? * 3600),
            cookie_secure: boolean("TOBIRA_COOKIE_SECURE", true)?,
            otp: OtpPolicy {
                ttl: mins(num("TOBIRA_OTP_TTL_MINUTES", 5)?),
                resend_after: Duration::from_secs(num("TOBIRA_OTP_RESEND_SECONDS", 30)?),
                max_wrong: num("TOBIRA_OTP_MAX_WRONG", 5)? as u32,
                sends_per_hour: num("TOBIRA_OTP_SENDS_PER_HOUR", 5)? as u32,
            },
            email_otp_needs_other_method: boolean("TOBIRA_EMAIL_OTP_SECOND_ONLY", false)?,
            factors: FactorPolicy::read(&get, &boolean, &base_url, lambda)?,
            prime: boolean("TOBIRA_PRIME", true)?,
            remember_device: Duration::from_secs(
                num("TOBIRA_REMEMBER_DEVICE_HOURS", 30 * 24)? * 3600,
            ),
            reauth: mins(num("TOBIRA_REAUTH_MINUTES", 5)?),
            migration_window: window,
            migrate_chunk: num("TOBIRA_MIGRATE_CHUNK", 200)? as usize,
            migrate_budget: Duration::from_secs(num("TOBIRA_MIGRATE_BUDGET_SECONDS", 240)?),
            legacy_portal_key_sha256: match get("TOBIRA_LEGACY_PORTAL_KEY_SHA256") {
                None => None,
                Some(v) => {
                    let v = v.trim().to_ascii_lowercase();
                    if v.len() != 64 || !v.bytes().all(|b| b.is_ascii_hexdigit()) {
                        return Err(ConfigError::Invalid {
                            name: "TOBIRA_LEGACY_PORTAL_KEY_SHA256",
                            value: v,
                            expected: "64 hex digits (sha256 of the key)",
                        });
                    }
                    Some(v)
                }
            },
            cases,
            csrf_key: secret(get("TOBIRA_CSRF_KEY"), "TOBIRA_CSRF_KEY", lambda)?,
            link_key: secret(get("TOBIRA_LINK_KEY"), "TOBIRA_LINK_KEY", lambda)?,
        })
    }
}

/// A server secret from `value` (variable `name`): required in Lambda,
/// random when local and unset; at least 32 characters, never printed.
fn secret(
    value: Option<String>,
    name: &'static str,
    lambda: bool,
) -> Result<SecretKey, ConfigError> {
    match value {
        None if lambda => Err(ConfigError::Missing(name)),
        None => Ok(SecretKey::random()),
        Some(v) => SecretKey::new(v.trim().as_bytes()).ok_or(ConfigError::Invalid {
            name,
            value: "(hidden)".into(),
            expected: "a secret of at least 32 characters",
        }),
    }
}

/// A positive number no larger than `max`.
fn bounded(n: u64, max: u64, name: &'static str) -> Result<usize, ConfigError> {
    if n > max {
        return Err(ConfigError::Invalid {
            name,
            value: n.to_string(),
            expected: "a smaller number (see README, configuration)",
        });
    }
    Ok(n as usize)
}

/// `ja|en, ja|en, …` (a label without `|` is both); the Japanese labels
/// are the categories' values, so they must differ.
fn parse_categories(v: &str) -> Option<Vec<Category>> {
    let list: Vec<Category> = v
        .split(',')
        .map(|c| {
            let (ja, en) = c.split_once('|').unwrap_or((c, c));
            Category {
                ja: ja.trim().to_string(),
                en: en.trim().to_string(),
            }
        })
        .collect();
    let mut ids: Vec<&str> = list.iter().map(Category::id).collect();
    ids.sort();
    ids.dedup();
    let fine = |l: &str| !l.is_empty() && l.chars().count() <= 100 && !l.contains('|');
    let ok = list.iter().all(|c| fine(&c.ja) && fine(&c.en)) && ids.len() == list.len();
    ok.then_some(list)
}

fn parse_window(v: &str) -> Option<(String, String)> {
    let (a, b) = v.trim().split_once('/')?;
    let ok = |d: &str| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").is_ok();
    (ok(a) && ok(b) && a <= b).then(|| (a.to_string(), b.to_string()))
}

/// A server secret (`TOBIRA_CSRF_KEY`, `TOBIRA_LINK_KEY`); never printed.
#[derive(Clone)]
pub struct SecretKey(Vec<u8>);

impl SecretKey {
    /// The secret itself, for the web edge's HMAC; never log it.
    pub fn expose(&self) -> &[u8] {
        &self.0
    }
    /// At least 32 bytes of secret.
    pub fn new(key: &[u8]) -> Option<Self> {
        (key.len() >= 32).then(|| Self(key.to_vec()))
    }
    /// A fresh random key (the local portal, tests).
    pub fn random() -> Self {
        let mut k = vec![0u8; 32];
        getrandom::fill(&mut k).expect("the OS random number generator failed");
        Self(k)
    }
}

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretKey(..)")
    }
}

#[cfg(test)]
mod tests;
