//! Sessions at the edge: links built from a request's path (SES-3).

use crate::support::Harness;

/// Every link target in an answer: `href`, `action`, `Location`.
fn links(r: &tobira::web::Response) -> Vec<String> {
    let mut out: Vec<String> = r
        .headers()
        .get_all("location")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect();
    let html = crate::support::body_text(r);
    for attr in ["href=\"", "action=\"", "src=\""] {
        let mut rest = html.as_str();
        while let Some(at) = rest.find(attr) {
            rest = &rest[at + attr.len()..];
            let end = rest.find('"').unwrap();
            out.push(unescape(&rest[..end]));
            rest = &rest[end..];
        }
    }
    out
}

/// HTML character references as a browser reads them in an attribute.
fn unescape(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        let end = rest[at..].find(';').map_or(rest.len(), |e| at + e);
        let name = &rest[at + 1..end];
        let c = match name {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            _ => name
                .strip_prefix("#x")
                .or_else(|| name.strip_prefix("#X"))
                .and_then(|h| u32::from_str_radix(h, 16).ok())
                .or_else(|| name.strip_prefix('#').and_then(|d| d.parse().ok()))
                .and_then(char::from_u32),
        };
        match c {
            Some(c) => out.push(c),
            None => out.push_str(&rest[at..=end.min(rest.len() - 1)]),
        }
        rest = &rest[(end + 1).min(rest.len())..];
    }
    out.push_str(rest);
    out
}

/// A link a browser resolves against the portal's own origin: a path with
/// exactly one leading `/`, or a query or fragment. What browsers ignore
/// (tabs, new lines) and `\` (read as `/`) must not hide a second slash.
fn same_origin(link: &str) -> bool {
    let seen: String = link
        .chars()
        .filter(|c| !matches!(c, '\t' | '\n' | '\r'))
        .map(|c| if c == '\\' { '/' } else { c })
        .collect();
    let seen = seen.trim_start_matches(|c: char| c <= ' ');
    seen.starts_with('?')
        || seen.starts_with('#')
        || (seen.starts_with('/') && !seen.starts_with("//"))
        || seen.starts_with("https://portal.example.com/")
}

// SES-3 (issue 13, item 7): no open redirect through a 404's links.
#[tokio::test]
async fn ses_3_open_redirect_a_404_links_only_to_the_portal() {
    let h = Harness::new();
    let dir = std::env::temp_dir().join(format!("tobira-open-redirect-{}", std::process::id()));
    let local = tobira_local::Local::open(&dir, crate::support::test_config()).unwrap();
    let paths = [
        "//evil.example/",
        "/\\evil.example/",
        "//evil.example/?lang=en",
        "/\\/evil.example/x?token=1",
        "///evil.example/",
        "//evil.example",
    ];
    for path in paths {
        let req = || {
            http::Request::builder()
                .method("GET")
                .uri(path)
                .body(tobira::web::Body::Empty)
                .unwrap()
        };
        let mut answers = vec![tobira_local::dispatch(&local, req()).await];
        for f in &tobira::routes::FUNCTIONS[..7] {
            answers.push(
                tobira_local::call_function(&h.app, f, req())
                    .await
                    .unwrap(),
            );
        }
        for r in answers {
            assert_eq!(r.status(), 404, "{path}");
            let found = links(&r);
            assert!(found.iter().any(|l| l.contains("lang=")), "{path}: no switch");
            for l in found {
                assert!(same_origin(&l), "{path}: link {l:?} leaves the portal");
            }
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}
