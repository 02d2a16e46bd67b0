//! Enrolment pages: the choice of method (SET-4), TOTP (MFA-4), e-mail and
//! SMS codes as methods (MFA-2, MFA-6) and recovery codes (MFA-5).

use super::{page, render, Frame, Head};
use crate::i18n::{t, Lang};

page! {
    EnrollPage "enrol/enroll.html" {
    csrf: &'a str,
    login_id: &'a str,
    /// Each method offered, and whether the user has it already.
    methods: Vec<(String, bool)>,
    adding: bool,
    ask_password: bool,
    error: Option<&'a str>,
    }
}

/// What the choice of second factor shows (SET-4, MFA-2, MFA-8).
pub struct EnrollChoice<'a> {
    pub login_id: &'a str,
    /// The methods this user may enrol now.
    pub methods: &'a [tobira::mfa::Method],
    /// The user's methods: marked as in use, their button sets one up
    /// again (a new authenticator replaces the old one).
    pub enrolled: &'a [String],
    /// A signed-in user adding another method.
    pub adding: bool,
    /// MFA-8: each form asks the password (the last proof is not fresh).
    pub ask_password: bool,
    pub error: Option<&'a str>,
}

/// The choice of second factor (SET-4, MFA-2, MFA-8).
pub fn enroll(f: &Frame<'_>, c: &EnrollChoice<'_>) -> String {
    render(&EnrollPage {
        head: f.head("enroll.title"),
        csrf: f.csrf,
        login_id: c.login_id,
        methods: c
            .methods
            .iter()
            .map(|m| {
                (
                    m.as_str().to_string(),
                    c.enrolled.iter().any(|e| e == m.as_str()),
                )
            })
            .collect(),
        adding: c.adding,
        ask_password: c.ask_password,
        error: c.error,
    })
}

page! {
    TotpPage "enrol/enroll_totp.html" {
    csrf: &'a str,
    qr_svg: String,
    /// The same key as a link, for an authenticator on this device.
    otpauth_uri: &'a str,
    secret_grouped: String,
    error: Option<&'a str>,
    }
}

/// MFA-4: the QR code (inline SVG), the key as text, and the confirming code.
pub fn enroll_totp(f: &Frame<'_>, setup: &tobira::mfa::TotpSetup, error: Option<&str>) -> String {
    let secret_grouped = setup
        .secret
        .as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(" ");
    render(&TotpPage {
        head: f.head("totp.title"),
        csrf: f.csrf,
        qr_svg: crate::qr::qr_svg(&setup.otpauth_uri),
        otpauth_uri: &setup.otpauth_uri,
        secret_grouped,
        error,
    })
}

page! {
    PhonePage "enrol/enroll_phone.html" {
    csrf: &'a str,
    /// `sms` or `voice`.
    channel: &'static str,
    /// Code, name, selected.
    countries: Vec<(&'static str, &'static str, bool)>,
    phone: &'a str,
    ask_password: bool,
    error: Option<&'a str>,
    }
}

/// Country codes offered on the SMS page (MFA-6), Japan first.
pub const COUNTRIES: &[(&str, &str, &str)] = &[
    ("81", "日本", "Japan"),
    ("1", "米国・カナダ", "United States / Canada"),
    ("44", "英国", "United Kingdom"),
    ("82", "韓国", "South Korea"),
    ("86", "中国", "China"),
    ("852", "香港", "Hong Kong"),
    ("886", "台湾", "Taiwan"),
    ("65", "シンガポール", "Singapore"),
    ("61", "オーストラリア", "Australia"),
    ("49", "ドイツ", "Germany"),
    ("33", "フランス", "France"),
];

/// MFA-6 / MFA-9: the number to text or call, as country code and
/// national number. MFA-8: `ask_password` when a signed-in user's password
/// is not fresh.
pub fn enroll_phone(
    f: &Frame<'_>,
    channel: tobira::mfa::Channel,
    country: &str,
    phone: &str,
    ask_password: bool,
    error: Option<&str>,
) -> String {
    let voice = channel == tobira::mfa::Channel::Voice;
    render(&PhonePage {
        head: f.head(if voice { "voice.title" } else { "sms.title" }),
        csrf: f.csrf,
        channel: if voice { "voice" } else { "sms" },
        countries: COUNTRIES
            .iter()
            .map(|(c, ja, en)| {
                (
                    *c,
                    if f.lang == Lang::Ja { *ja } else { *en },
                    *c == country,
                )
            })
            .collect(),
        phone,
        ask_password,
        error,
    })
}

page! {
    CodePage "enrol/enroll_code.html" {
    csrf: &'a str,
    instruction: String,
    confirm_action: &'a str,
    resend_channel: Option<&'static str>,
    resend_fields: Vec<(&'static str, String)>,
    resend_in_s: u64,
    error: Option<&'a str>,
    notice: Option<&'a str>,
    }
}

/// The code that proves a new e-mail, SMS or voice method (MFA-3, MFA-6,
/// MFA-9).
pub struct EnrolCode<'a> {
    pub channel: tobira::mfa::Channel,
    pub destination: String,
    pub resend_in_s: u64,
    /// SMS, voice: the number, to send to it again.
    pub resend_fields: Vec<(&'static str, String)>,
    pub error: Option<&'a str>,
    pub notice: Option<&'a str>,
}

pub fn enroll_code(f: &Frame<'_>, c: &EnrolCode<'_>) -> String {
    use tobira::mfa::Channel;
    let (title, action, ch) = match c.channel {
        Channel::Email => ("email.title", "/enroll/email", "email"),
        Channel::Sms => ("sms.verify_title", "/otp/sms/verify", "sms"),
        Channel::Voice => ("voice.verify_title", "/otp/voice/verify", "voice"),
    };
    let instruction = match (f.lang, c.channel) {
        (Lang::Ja, Channel::Voice) => format!(
            "{} に電話をかけ、ワンタイムパスワードを読み上げます。聞き取った6桁のコードを入力してください。",
            c.destination
        ),
        (Lang::En, Channel::Voice) => format!(
            "We call {} and read out a one-time code. Enter the 6 digits you hear.",
            c.destination
        ),
        (Lang::Ja, _) => format!(
            "{} にワンタイムパスワードを送りました。届いた6桁のコードを入力してください。",
            c.destination
        ),
        (Lang::En, _) => format!(
            "We sent a one-time code to {}. Enter the 6 digits it holds.",
            c.destination
        ),
    };
    render(&CodePage {
        head: Head::new(f.lang, f.req, f.brand, t(f.lang, title)),
        csrf: f.csrf,
        instruction,
        confirm_action: action,
        resend_channel: Some(ch),
        resend_fields: c.resend_fields.clone(),
        resend_in_s: c.resend_in_s,
        error: c.error,
        notice: c.notice,
    })
}

page! {
    RecoveryPage "enrol/recovery.html" {
    csrf: &'a str,
    codes: &'a [String],
    ack_method: &'static str,
    ack_action: &'static str,
    ack_label: &'static str,
    notice: Option<&'a str>,
    download_href: String,
    download_name: &'static str,
    }
}

/// MFA-5: the codes as a text file to keep, one a line, as a `data:` link
/// (no script, nothing stored; the page already holds the codes).
fn codes_file_href(brand: &str, codes: &[String]) -> String {
    let mut text = format!("{brand} recovery codes\r\n\r\n");
    for c in codes {
        text.push_str(c);
        text.push_str("\r\n");
    }
    let mut href = String::from("data:text/plain;charset=utf-8,");
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            href.push(b as char);
        } else {
            href.push_str(&format!("%{b:02X}"));
        }
    }
    href
}

/// MFA-5: the codes, shown once, and "I have recorded these". After the
/// first enrolment the confirmation ends the session (sign in again,
/// SET-4); after a regeneration it leads back to the dashboard.
pub fn recovery(f: &Frame<'_>, codes: &[String], first: bool, notice: Option<&str>) -> String {
    render(&RecoveryPage {
        // No language switch: the codes are shown once, and leaving this
        // page (to see it in the other language) would lose them (MFA-5).
        head: Head {
            switch_href: String::new(),
            ..Head::new(f.lang, f.req, f.brand, t(f.lang, "recovery.title"))
        },
        csrf: f.csrf,
        codes,
        ack_method: if first { "post" } else { "get" },
        ack_action: if first { "/enroll/recovery/ack" } else { "/" },
        ack_label: t(
            f.lang,
            if first {
                "recovery.ack_signin"
            } else {
                "recovery.ack"
            },
        ),
        notice,
        download_href: codes_file_href(f.brand, codes),
        download_name: "recovery-codes.txt",
    })
}
