//! Cross-site requests (SES-3; issue 13, item 9).
//!
//! Two layers, both stateless (no store round trip per page):
//! - [`cross_site_refusal`]: every state-changing request is refused when
//!   the browser says it comes from another site (`Sec-Fetch-Site`, or an
//!   `Origin` other than the portal's own), and an `/api/` one unless it is
//!   `application/json` (which a cross-site form or `fetch` without CORS
//!   cannot send).
//! - [`Csrf`]: every page form carries a token the server issued. With a
//!   session cookie the token is an HMAC of the session token (HttpOnly, 256
//!   random bits): it works for that session only. Before sign-in it is the
//!   value of a `csrf` cookie `nonce.mac`, MACed under the server's key, so a
//!   cookie the client chose is never adopted.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

use crate::errors;
use crate::web::{self, Request, Response};
use tobira::app::App;
use tobira::error::Error;
use tobira::random::ct_eq;

use tobira::config::SecretKey;

fn hmac_of(key: &SecretKey, purpose: &str, value: &str) -> String {
    let mut msg = Vec::with_capacity(purpose.len() + value.len() + 16);
    msg.extend_from_slice(b"tobira csrf\0");
    msg.extend_from_slice(purpose.as_bytes());
    msg.push(0);
    msg.extend_from_slice(value.as_bytes());
    URL_SAFE_NO_PAD.encode(hmac_sha256(key.expose(), &msg))
}

use tobira::random::hmac_sha256;

/// The form token of a page (SES-3), issued by the server.
pub struct Csrf {
    pub token: String,
    /// A new pre-sign-in cookie to set.
    fresh: bool,
}

fn session_of(app: &App, req: &Request) -> Option<String> {
    web::named_cookie(req, &app.config, "session").filter(|s| !s.is_empty())
}

/// A pre-sign-in cookie value `nonce.mac` whose MAC verifies.
fn verified_cookie(app: &App, req: &Request) -> Option<String> {
    let c = web::named_cookie(req, &app.config, "csrf")?;
    let (nonce, mac) = c.split_once('.')?;
    let expected = hmac_of(&app.config.csrf_key, "cookie", nonce);
    (nonce.len() >= 32 && ct_eq(mac.as_bytes(), expected.as_bytes())).then_some(c)
}

impl Csrf {
    pub fn for_page(app: &App, req: &Request) -> Self {
        if let Some(session) = session_of(app, req) {
            return Self {
                token: hmac_of(&app.config.csrf_key, "session", &session),
                fresh: false,
            };
        }
        match verified_cookie(app, req) {
            Some(token) => Self {
                token,
                fresh: false,
            },
            None => {
                let nonce = tobira::random::secret_token(app.rng.as_ref());
                let mac = hmac_of(&app.config.csrf_key, "cookie", &nonce);
                Self {
                    token: format!("{nonce}.{mac}"),
                    fresh: true,
                }
            }
        }
    }

    /// Set the pre-sign-in cookie on the page's response if it was new.
    pub fn attach(&self, app: &App, r: &mut Response) {
        if self.fresh {
            web::set_cookie(r, &app.config, "csrf", &self.token, None);
        }
    }

    /// A form's token: the session's while there is a session cookie, else
    /// the verified pre-sign-in cookie's value.
    pub fn check(app: &App, req: &Request, form_value: &str) -> Result<(), Error> {
        let expected = match session_of(app, req) {
            Some(session) => Some(hmac_of(&app.config.csrf_key, "session", &session)),
            None => verified_cookie(app, req),
        };
        match expected {
            Some(e) if ct_eq(e.as_bytes(), form_value.as_bytes()) => Ok(()),
            _ => Err(Error::Forbidden),
        }
    }
}

/// What changes state: everything but `GET`, `HEAD` and `OPTIONS`.
fn changes_state(req: &Request) -> bool {
    !matches!(
        *req.method(),
        http::Method::GET | http::Method::HEAD | http::Method::OPTIONS
    )
}

/// `scheme://host[:port]` of a URL, lower case.
fn origin_of(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    format!("{scheme}://{host}").to_ascii_lowercase()
}

// home of SES-3
/// The answer to a request from another site, if this is one: a browser's
/// `Sec-Fetch-Site` other than `same-origin` or `none` (typed or
/// bookmarked), or an `Origin` other than the portal's (`base_url`) or
/// `null`, on a state-changing request; and on `/api/` a state-changing request that is
/// not `application/json` (400 `unsupported_content_type`, like any JSON
/// body of the wrong type). Clients that send neither header (servers, the
/// legacy portal) are judged by the rest.
pub fn cross_site_refusal(app: &App, req: &Request) -> Option<Response> {
    if !changes_state(req) {
        return None;
    }
    let lang = web::lang_of(req);
    let refuse = |e: Error| {
        Some(if web::is_api(req) {
            errors::error_response(&e, lang)
        } else {
            errors::error_page(app, req, &e)
        })
    };
    let site_ok = web::header(req, "sec-fetch-site")
        .is_none_or(|s| matches!(s.trim(), "same-origin" | "none"));
    // `Origin: null` says nothing: browsers send it for every form post
    // from a page with `Referrer-Policy: no-referrer` (ours), so
    // `Sec-Fetch-Site`, the token and the content type decide.
    let origin_ok = web::header(req, "origin")
        .map(str::trim)
        .is_none_or(|o| o == "null" || o.eq_ignore_ascii_case(&origin_of(&app.config.base_url)));
    if !(site_ok && origin_ok) {
        return refuse(Error::Forbidden);
    }
    if web::is_api(req) && !web::content_type_is(req, "application/json") {
        return refuse(Error::invalid("unsupported_content_type").with("type", "application/json"));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_sha256_matches_rfc_4231() {
        // Test case 2.
        let mac = hmac_sha256(b"Jefe", b"what do ya want for nothing?");
        let hex: String = mac.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(
            hex,
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        // Test case 6: a key longer than the block.
        let mac = hmac_sha256(
            &[0xaa; 131],
            b"Test Using Larger Than Block-Size Key - Hash Key First",
        );
        assert_eq!(mac[..4], [0x60, 0xe4, 0x31, 0x59]);
    }

    #[test]
    fn origins_compare_scheme_host_and_port() {
        assert_eq!(
            origin_of("https://Portal.example.com/base"),
            "https://portal.example.com"
        );
        assert_eq!(origin_of("http://127.0.0.1:3000"), "http://127.0.0.1:3000");
    }

    #[test]
    fn keys_are_long_and_hidden() {
        assert!(SecretKey::new(b"short").is_none());
        let k = SecretKey::new(&[7; 32]).unwrap();
        assert_eq!(format!("{k:?}"), "SecretKey(..)");
        assert_ne!(hmac_of(&k, "session", "a"), hmac_of(&k, "cookie", "a"));
    }
}
