//! The configuration read from the environment: defaults, names in errors.

use super::*;
use std::collections::HashMap;

use crate::i18n::Lang;

fn lookup(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let m: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    move |k| m.get(k).cloned()
}

#[test]
fn lambda_config_names_what_is_missing() {
    let err = Config::from_lookup(
        lookup(&[
            ("TOBIRA_BASE_URL", "https://p.example"),
            ("TOBIRA_BRAND", "b"),
            ("TOBIRA_MAIL_FROM", "a@b.c"),
        ]),
        true,
    )
    .unwrap_err();
    assert_eq!(err, ConfigError::Missing("TOBIRA_TABLE"));
    assert!(err.to_string().contains("TOBIRA_TABLE"));
}

// CLM-1
#[test]
fn clm_1_reference_hashes_are_legacy_hashes_separated_by_spaces() {
    let c = Config::from_lookup(lookup(&[]), false).unwrap();
    assert_eq!(c.claim_reference_hashes.len(), 3);
    let two = format!(
        "{} {}",
        crate::legacy_hash::REFERENCE_HASHES[0],
        crate::legacy_hash::REFERENCE_HASHES[2]
    );
    let c = Config::from_lookup(lookup(&[("TOBIRA_CLAIM_REFERENCE_HASHES", &two)]), false).unwrap();
    assert_eq!(c.claim_reference_hashes.len(), 2);
    let err = Config::from_lookup(
        lookup(&[("TOBIRA_CLAIM_REFERENCE_HASHES", "md5:abc")]),
        false,
    )
    .unwrap_err();
    assert!(
        err.to_string().contains("TOBIRA_CLAIM_REFERENCE_HASHES"),
        "{err}"
    );
}

#[test]
fn lambda_config_needs_a_csrf_key_and_a_link_key_of_32_characters() {
    let base = [
        ("TOBIRA_BASE_URL", "https://p.example"),
        ("TOBIRA_BRAND", "b"),
        ("TOBIRA_MAIL_FROM", "a@b.c"),
        ("TOBIRA_TABLE", "t"),
    ];
    let err = Config::from_lookup(lookup(&base), true).unwrap_err();
    assert_eq!(err, ConfigError::Missing("TOBIRA_CSRF_KEY"));
    let short = [base.as_slice(), &[("TOBIRA_CSRF_KEY", "too-short")]].concat();
    let err = Config::from_lookup(lookup(&short), true).unwrap_err();
    assert!(err.to_string().contains("TOBIRA_CSRF_KEY"), "{err}");
    assert!(
        !err.to_string().contains("too-short"),
        "the secret is not printed"
    );
    let key = "k".repeat(32);
    let csrf = [base.as_slice(), &[("TOBIRA_CSRF_KEY", key.as_str())]].concat();
    let err = Config::from_lookup(lookup(&csrf), true).unwrap_err();
    assert_eq!(err, ConfigError::Missing("TOBIRA_LINK_KEY"));
    let short = [csrf.as_slice(), &[("TOBIRA_LINK_KEY", "too-short")]].concat();
    let err = Config::from_lookup(lookup(&short), true).unwrap_err();
    assert!(err.to_string().contains("TOBIRA_LINK_KEY"), "{err}");
    assert!(!err.to_string().contains("too-short"));
    let good = [csrf.as_slice(), &[("TOBIRA_LINK_KEY", key.as_str())]].concat();
    assert!(Config::from_lookup(lookup(&good), true).is_ok());
}

#[test]
fn invalid_values_are_refused_with_their_name() {
    let err =
        Config::from_lookup(lookup(&[("TOBIRA_LOGIN_MAX_FAILURES", "five")]), false).unwrap_err();
    assert!(err.to_string().contains("TOBIRA_LOGIN_MAX_FAILURES"));
    let err = Config::from_lookup(
        lookup(&[("TOBIRA_MIGRATION_WINDOW", "2024-08-27/2024-07-17")]),
        false,
    )
    .unwrap_err();
    assert!(err.to_string().contains("TOBIRA_MIGRATION_WINDOW"));
    for (k, v) in [
        ("TOBIRA_CASE_CATEGORIES", "a,,b"),
        ("TOBIRA_CASE_CATEGORIES", "a,a"),
        ("TOBIRA_CASE_BODY_MAX", "1000000"),
        ("TOBIRA_CASE_FILING_SPLIT", "sometimes"),
    ] {
        let err = Config::from_lookup(lookup(&[(k, v)]), false).unwrap_err();
        assert!(err.to_string().contains(k), "{err}");
    }
    let c = Config::from_lookup(lookup(&[("TOBIRA_CASE_CATEGORIES", " A , B ")]), false).unwrap();
    let ids: Vec<&str> = c.cases.categories.iter().map(|c| c.id()).collect();
    assert_eq!(ids, ["A", "B"]);
    assert_eq!(c.cases.categories[1].en, "B", "a label without `|` is both");
    let c = Config::from_lookup(
        lookup(&[("TOBIRA_CASE_CATEGORIES", "障害 | Outage ,その他|Other")]),
        false,
    )
    .unwrap();
    assert_eq!(c.cases.category_label("障害", Lang::En), "Outage");
    assert_eq!(c.cases.category_label("障害", Lang::Ja), "障害");
    assert_eq!(c.cases.category_label("昔の", Lang::En), "昔の");
    for bad in ["a|", "|b", "a|b|c", "a|x,a|y"] {
        let err = Config::from_lookup(lookup(&[("TOBIRA_CASE_CATEGORIES", bad)]), false);
        assert!(err.is_err(), "{bad}");
    }
}

#[test]
fn defaults_follow_the_rules() {
    let c = Config::from_lookup(
        lookup(&[("TOBIRA_MIGRATION_WINDOW", "2024-07-17/2024-08-27")]),
        false,
    )
    .unwrap();
    assert_eq!(c.setup_link_ttl, Duration::from_secs(72 * 3600)); // SET-1
    assert_eq!(c.reset_lock.max_failures, 5); // RST-2
    assert_eq!(c.reset_lock.lock_for, Duration::from_secs(20 * 60));
    assert_eq!(c.reset_cooldown, Duration::from_secs(24 * 3600)); // RST-3
    assert_eq!(c.reset_link_ttl, Duration::from_secs(3600));
    assert_eq!(c.login_lock.max_failures, 5); // LOG-2
    assert_eq!(c.login_lock.lock_for, Duration::from_secs(20 * 60));
    assert_eq!(c.default_phone, "0312345678"); // MIG-5
    assert_eq!(c.cases.categories.len(), 11); // CASE-1, seed 002, ja and en
    assert_eq!(c.cases.categories[9].id(), "正常性確認依頼(利用開始時)");
    assert!(c
        .cases
        .categories
        .iter()
        .all(|k| !k.en.is_empty() && k.en != k.ja && k.en.is_ascii()));
    assert_eq!(c.cases.filing_split, FilingSplit::DuringWindow); // MIG-13
    assert_eq!(
        c.migration_window,
        Some(("2024-07-17".into(), "2024-08-27".into()))
    );
}

// TOS-1, CLM-2 (issue 16 item 6): where the documents are read.
#[test]
fn documents_are_the_portals_pages_or_the_operators_https_addresses() {
    use super::Document::{Privacy, Terms};
    let c = Config::from_lookup(lookup(&[]), false).unwrap();
    assert_eq!(c.documents.url(Terms, Lang::Ja), "/legal/terms?lang=ja");
    assert_eq!(c.documents.url(Privacy, Lang::En), "/legal/privacy?lang=en");
    assert_eq!(c.documents.version(Privacy), "2024-07");
    let c = Config::from_lookup(
        lookup(&[
            ("TOBIRA_TERMS_URL", "https://example.com/{lang}/terms"),
            ("TOBIRA_PRIVACY_VERSION", "2025-04"),
        ]),
        false,
    )
    .unwrap();
    assert_eq!(
        c.documents.url(Terms, Lang::En),
        "https://example.com/en/terms"
    );
    assert_eq!(c.documents.url(Privacy, Lang::Ja), "/legal/privacy?lang=ja");
    assert_eq!(c.documents.version(Privacy), "2025-04");
    for bad in [
        "http://example.com/terms",
        "javascript:alert(1)",
        "https://a b",
        "https://x\"y",
    ] {
        let err = Config::from_lookup(lookup(&[("TOBIRA_PRIVACY_URL", bad)]), false).unwrap_err();
        assert!(
            err.to_string().contains("TOBIRA_PRIVACY_URL"),
            "{bad}: {err}"
        );
    }
}
