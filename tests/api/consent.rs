//! Consent with the documents (TOS-1, CLM-2; issue 16 item 6): the terms
//! step and the claim's registration link the terms of use and the privacy
//! policy in the page's language, and record the versions accepted.

use serde_json::json;
use tobira::ids::LoginId;

use crate::mfa_support::*;
use crate::portal_support::*;
use crate::support::{
    body_json, body_text, get, json_req, sample_records, test_config, Harness, Jar,
};

fn config_with(privacy: &str, urls: bool) -> tobira::Config {
    let mut c = test_config();
    c.documents.privacy_version = privacy.into();
    if urls {
        c.documents.terms_url = Some("https://example.com/{lang}/terms".into());
        c.documents.privacy_url = Some("https://example.com/privacy?hl={lang}".into());
    }
    c
}

// TOS-1: the terms step records both versions; a new privacy policy is
// asked for at the next sign-in, and an outdated one is refused.
#[tokio::test]
async fn tos_1_accepting_records_the_terms_and_the_privacy_policy_versions() {
    let h = Harness::with_config(config_with("2024-09", false));
    let (secret, _) = totp_user(&h, "consent@example.com").await;
    let mut c = Client::at_challenge(&h, "consent@example.com").await;
    let (_, b) = c.mfa("totp", &totp_code(&h, &secret, 0)).await;
    assert_eq!(b["next"], "terms");
    assert_eq!(b["privacy_version"], "2024-09");
    // A page that showed another privacy policy version: 409, not recorded.
    let wrong = json!({ "version": "2024-07", "privacy_version": "2024-07" });
    let (s, b) = c.post("/api/terms/accept", wrong).await;
    assert_eq!((s, b["error"].as_str()), (409, Some("terms_changed")));
    let right = json!({ "version": "2024-07", "privacy_version": "2024-09" });
    assert_eq!(c.post("/api/terms/accept", right).await.0, 200);
    let me = c.me().await;
    assert_eq!(me["terms"]["accepted_version"], "2024-07");
    assert_eq!(me["privacy"]["accepted_version"], "2024-09");
    assert_eq!(me["privacy"]["current_version"], "2024-09");

    // The privacy policy changes: the next sign-in asks again.
    let h2 = Harness::over(
        config_with("2025-01", false),
        h.memory.clone(),
        h.memory.clone(),
    );
    h2.clock.set(h.app.now());
    let mut c = Client::at_challenge(&h2, "consent@example.com").await;
    let (_, b) = c.mfa("totp", &totp_code(&h2, &secret, 1)).await;
    assert_eq!(b["next"], "terms", "a new privacy policy is accepted first");
    // Without `privacy_version` (an older client) the current one is recorded.
    assert_eq!(c.accept_terms("2024-07").await.0, 200);
    assert_eq!(c.me().await["privacy"]["accepted_version"], "2025-01");
}

// TOS-1: the terms page links both documents in the page's language: the
// portal's own pages by default, the operator's when configured.
#[tokio::test]
async fn tos_1_the_terms_step_links_the_documents_in_the_pages_language() {
    for (urls, ja, en) in [
        (false, "/legal/privacy?lang=ja", "/legal/terms?lang=en"),
        (
            true,
            "https://example.com/privacy?hl=ja",
            "https://example.com/en/terms",
        ),
    ] {
        let h = Harness::with_config(config_with("2024-09", urls));
        let (secret, _) = totp_user(&h, "links@example.com").await;
        let mut c = Client::at_challenge(&h, "links@example.com").await;
        c.mfa("totp", &totp_code(&h, &secret, 0)).await;
        let page = |lang: &str| {
            let mut r = get(&format!("/terms?lang={lang}"));
            let cookie = format!("__Host-tobira-session={}", c.session().unwrap());
            r.headers_mut().insert("cookie", cookie.parse().unwrap());
            r
        };
        let html = body_text(&h.send(page("ja")).await);
        assert!(
            html.contains(&format!("href=\"{}\"", ja.replace('&', "&amp;"))),
            "{html}"
        );
        assert!(html.contains("id=\"privacy-version\">2024-09<"), "{html}");
        assert!(
            html.contains("name=\"privacy_version\" value=\"2024-09\""),
            "{html}"
        );
        let html = body_text(&h.send(page("en")).await);
        assert!(html.contains(&format!("href=\"{en}\"")), "{html}");
        assert!(html.contains(">Terms of use</a>"), "{html}");
    }
    // The portal's pages: anyone may read them, in either language.
    let h = Harness::with_config(config_with("2024-09", false));
    for (path, lang, words) in [
        ("/legal/terms", "ja", "利用規約"),
        ("/legal/privacy", "en", "Privacy policy"),
    ] {
        let r = h.send(get(&format!("{path}?lang={lang}"))).await;
        assert_eq!(r.status(), 200);
        let html = body_text(&r);
        assert!(html.contains(&format!("<html lang=\"{lang}\"")), "{html}");
        assert!(html.contains(words), "{html}");
    }
    let html = body_text(&h.send(get("/legal/privacy")).await);
    assert!(html.contains("data-doc=\"privacy\">2024-09<"), "{html}");
}

// CLM-2: registering a claim records the privacy policy's own version (it
// recorded the terms version for both).
#[tokio::test]
async fn clm_2_registering_records_the_versions_of_both_documents() {
    let h = Harness::with_config(config_with("2024-09", false));
    h.migrate(&sample_records()).await;
    let mut jar = Jar::default();
    let r = h.send(claim_req(BCRYPT_SID, BCRYPT_PW)).await;
    jar.take(&r);
    // The registration page links the documents.
    let html = body_text(&h.send(jar.apply(get("/claim/register?lang=en"))).await);
    assert!(html.contains("href=\"/legal/terms?lang=en\""), "{html}");
    assert!(html.contains("href=\"/legal/privacy?lang=en\""), "{html}");
    // A client that showed another version: 409, nothing registered.
    let stale = json!({ "email": "owner@example.jp", "accept_terms": true, "accept_privacy": true,
        "terms_version": "2024-07", "privacy_version": "2024-07" });
    let r = h
        .send(jar.apply(json_req("POST", "/api/claim/register", &stale.to_string())))
        .await;
    assert_eq!(r.status(), 409);
    assert_eq!(body_json(&r)["error"], "terms_changed");
    let login = LoginId::parse("owner@example.jp").unwrap();
    assert!(h.app.user_by_login(&login).await.unwrap().is_none());
    let body = json!({ "email": "owner@example.jp", "accept_terms": true, "accept_privacy": true,
        "terms_version": "2024-07", "privacy_version": "2024-09" });
    let r = h
        .send(jar.apply(json_req("POST", "/api/claim/register", &body.to_string())))
        .await;
    assert_eq!(r.status(), 202, "{}", body_json(&r));
    let (user, _) = h.app.user_by_login(&login).await.unwrap().unwrap();
    assert_eq!(user.terms.unwrap().version, "2024-07");
    assert_eq!(user.privacy.unwrap().version, "2024-09");
}
