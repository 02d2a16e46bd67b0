//! TOS-1, CLM-2: the documents a user consents to — links on the pages
//! that ask for consent, and the portal's own pages of the documents when
//! the operator has configured no address of theirs.

use super::{page, render, Frame};
use tobira::config::Document;

/// A link to a document, in the page's language, with its version.
pub struct DocLink {
    /// `terms` or `privacy` (the link's `id` is `<id>-link`).
    pub id: &'static str,
    pub label: &'static str,
    pub href: String,
    pub version: String,
}

/// The links the terms step and the claim's registration show.
pub fn doc_links(f: &Frame<'_>) -> Vec<DocLink> {
    Document::ALL
        .into_iter()
        .map(|d| DocLink {
            id: d.as_str(),
            label: super::t(f.lang, &format!("doc.{}", d.as_str())),
            href: f.documents.url(d, f.lang),
            version: f.documents.version(d).to_string(),
        })
        .collect()
}

page! {
    LegalPage "signin/legal.html" {
    doc: &'static str,
    version: &'a str,
    body: &'static str,
    }
}

/// `/legal/terms`, `/legal/privacy`: the document in the page's language.
pub fn legal(f: &Frame<'_>, doc: Document) -> String {
    let key = |part: &str| format!("doc.{}.{part}", doc.as_str());
    render(&LegalPage {
        head: f.head(&key("title")),
        doc: doc.as_str(),
        version: f.documents.version(doc),
        body: super::t(f.lang, &key("body")),
    })
}
