//! MFA-9: what a voice call says. The code is read digit by digit, with a
//! pause after each, and said twice, in the user's language; the words are
//! SSML for the service's voice and the same words as plain text for the
//! local outbox. Pure functions: the call itself is the `VoiceCaller` port.

use crate::i18n::Lang;

/// SSML's five reserved characters, escaped (the brand is configuration).
fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// The digits of a code, one by one: SSML with a pause after each, and the
/// plain text with a separator the reader would pause at.
fn spelled(code: &str, lang: Lang) -> (String, String) {
    let digits: Vec<char> = code.chars().filter(char::is_ascii_digit).collect();
    let ssml = digits
        .iter()
        .map(|d| format!("<say-as interpret-as=\"digits\">{d}</say-as><break time=\"400ms\"/>"))
        .collect::<String>();
    let sep = match lang {
        Lang::Ja => "、",
        Lang::En => ", ",
    };
    let text = digits
        .iter()
        .map(char::to_string)
        .collect::<Vec<_>>()
        .join(sep);
    (ssml, text)
}

// home of MFA-9
/// MFA-9: the words of a voice code: `(ssml, text)`. The code is read
/// twice, digit by digit, in `lang`; the call says how long it is valid
/// and that it is never to be shared. An English call leaves out a brand
/// that is not ASCII (the English voice cannot read it).
pub fn otp_voice(brand: &str, lang: Lang, code: &str, minutes: u64) -> (String, String) {
    let (digits_ssml, digits_text) = spelled(code, lang);
    let brand = match lang {
        Lang::En if !brand.is_ascii() => String::new(),
        _ => brand.chars().take(40).collect(),
    };
    let (hello, again, valid) = match lang {
        Lang::Ja => (
            format!("{brand}です。ワンタイムパスワードをお伝えします。"),
            "繰り返します。".to_string(),
            format!("このコードは{minutes}分間、1回だけ使えます。誰にも教えないでください。"),
        ),
        Lang::En => (
            if brand.is_empty() {
                "Your one-time code is:".to_string()
            } else {
                format!("This is {brand}. Your one-time code is:")
            },
            "Again:".to_string(),
            format!("It works once within {minutes} minutes. Never share it with anyone."),
        ),
    };
    let pause = "<break time=\"700ms\"/>";
    let ssml = format!(
        "<speak>{}{pause}{digits_ssml}{pause}{}{pause}{digits_ssml}{pause}{}</speak>",
        xml_escape(&hello),
        xml_escape(&again),
        xml_escape(&valid),
    );
    let text = format!("{hello} {digits_text}。 {again} {digits_text}。 {valid}");
    let text = match lang {
        Lang::Ja => text,
        Lang::En => text.replace('。', "."),
    };
    (ssml, text)
}

#[cfg(test)]
mod tests {
    use super::*;

    // MFA-9
    #[test]
    fn mfa_9_the_code_is_spoken_digit_by_digit_twice_in_the_users_language() {
        let (ssml, text) = otp_voice("扉ポータル", Lang::Ja, "012345", 5);
        assert!(
            ssml.starts_with("<speak>") && ssml.ends_with("</speak>"),
            "{ssml}"
        );
        // Each digit on its own, with a pause, and the code said twice.
        let one = (0..6)
            .map(|d| format!("<say-as interpret-as=\"digits\">{d}</say-as><break time=\"400ms\"/>"))
            .collect::<String>();
        assert_eq!(ssml.matches(&one).count(), 2, "{ssml}");
        assert!(!ssml.contains("012345"), "never as one number: {ssml}");
        assert!(text.contains("0、1、2、3、4、5"), "{text}");
        assert!(
            text.contains("扉ポータル") && text.contains("5分間"),
            "{text}"
        );

        let (ssml, text) = otp_voice("扉ポータル", Lang::En, "987654", 10);
        assert!(text.contains("9, 8, 7, 6, 5, 4"), "{text}");
        assert!(text.contains("10 minutes"), "{text}");
        assert!(!ssml.contains('扉') && !text.contains('扉'), "{text}");
        assert!(text.starts_with("Your one-time code"), "{text}");

        // The brand is configuration: it cannot break out of the SSML.
        let (ssml, _) = otp_voice("A&B <x>", Lang::En, "111111", 5);
        assert!(ssml.contains("A&amp;B &lt;x&gt;"), "{ssml}");
        assert_eq!(ssml.matches("<speak>").count(), 1);
    }
}
