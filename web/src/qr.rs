//! The QR image of the TOTP enrolment (MFA-4), as inline SVG: a picture of
//! the otpauth URI the domain issues, so it belongs to the edge.

use qrcode::render::svg;
use qrcode::{EcLevel, QrCode};

/// A QR code of `data` as an inline SVG element.
pub fn qr_svg(data: &str) -> String {
    match QrCode::with_error_correction_level(data.as_bytes(), EcLevel::M) {
        Ok(code) => code
            .render::<svg::Color<'_>>()
            .min_dimensions(200, 200)
            .quiet_zone(true)
            .build()
            .replacen("<?xml version=\"1.0\" standalone=\"yes\"?>", "", 1),
        Err(_) => String::new(),
    }
}

/// What `POST /api/mfa/totp` answers: the domain's enrolment secret and
/// URI, and the QR image of the URI.
pub fn totp_setup_json(setup: &tobira::mfa::TotpSetup) -> serde_json::Value {
    serde_json::json!({
        "secret": setup.secret,
        "otpauth_uri": setup.otpauth_uri,
        "qr_svg": qr_svg(&setup.otpauth_uri),
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn an_otpauth_uri_becomes_an_svg_element() {
        let svg = super::qr_svg(
            "otpauth://totp/tobira:user%40example.com?secret=JBSWY3DPEHPK3PXP&issuer=tobira",
        );
        assert!(
            svg.starts_with("<svg") && svg.contains("</svg>"),
            "{}",
            &svg[..40]
        );
    }
}
