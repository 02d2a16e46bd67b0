//! The `create-case` function: support cases (CASE-1..5, MIG-13) — the API
//! of API.md and the pages (list, new case, a case with its comments and
//! its actions). Every route needs a signed-in session (SES-2); the tenant
//! is the session user's, never a request field.

use serde::Deserialize;
use tobira::cases::{Kind, ListQuery, Move, NewCase};
use tobira::i18n::{t, Lang};
use tobira::mfa::Signed;
use tobira::pages::{self, CaseForm, CaseList};
use tobira::session::Stage;
use tobira::views;
use tobira::web::{self, Request, Response};
use tobira::{App, Error};

pub async fn handle(app: &App, req: Request) -> Response {
    // SES-3: a state-changing request from another site goes no further.
    if let Some(refused) = web::cross_site_refusal(app, &req) {
        return refused;
    }
    // An API call's unknown `?lang=` is refused, not ignored.
    if let Some(refused) = web::lang_refusal(&req) {
        return refused;
    }
    let path = req.uri().path().to_string();
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    match (req.method().as_str(), parts.as_slice()) {
        ("POST", ["api", "cases"]) => api_create(app, &req).await,
        ("GET", ["api", "cases"]) => api_list(app, &req).await,
        ("GET", ["api", "cases", id]) => api_detail(app, &req, id).await,
        ("POST", ["api", "cases", id, "comments"]) => api_comment(app, &req, id).await,
        ("POST", ["api", "cases", id, action]) => match action_of(action) {
            Some(m) => api_move(app, &req, id, m).await,
            None => web::not_found(app, &req),
        },
        ("GET", ["cases"]) => list_page(app, &req).await,
        ("GET", ["cases", "new"]) => new_page(app, &req, 200, &CaseForm::default(), None).await,
        ("POST", ["cases", "new"]) => new_form(app, &req).await,
        ("GET", ["cases", id]) => case_page(app, &req, id, 200, None).await,
        ("POST", ["cases", id, "comments"]) => comment_form(app, &req, id).await,
        ("POST", ["cases", id, action]) => match action_of(action) {
            Some(m) => move_form(app, &req, id, m).await,
            None => web::not_found(app, &req),
        },
        _ => web::not_found(app, &req),
    }
}

fn action_of(action: &str) -> Option<Move> {
    match action {
        "close" => Some(Move::Close),
        "accept" => Some(Move::Accept),
        "reject" => Some(Move::Reject),
        _ => None,
    }
}

/// The signed-in user (SES-2: a full session only).
async fn signed(app: &App, req: &Request) -> Result<Signed, Error> {
    let token = views::session_cookie(app, req);
    app.signed(token.as_deref(), &[Stage::Full]).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateBody {
    kind: String,
    category: String,
    subject: String,
    body: String,
}

fn parse_kind(kind: &str, lang: Lang) -> Result<Kind, Error> {
    Kind::parse(kind).ok_or_else(|| Error::invalid("invalid_kind", t(lang, "case.err.kind")))
}

async fn api_create(app: &App, req: &Request) -> Response {
    let ctx = web::ctx(req);
    let result = async {
        let s = signed(app, req).await?;
        let b: CreateBody = web::json_body(req)?;
        let new = NewCase {
            kind: parse_kind(&b.kind, ctx.lang)?,
            category: &b.category,
            subject: &b.subject,
            body: &b.body,
        };
        Ok((201, app.create_case(&s.user, &new, &ctx).await?))
    }
    .await;
    web::api(result, ctx.lang)
}

/// `filter`, `q` and `cursor` of a list request; any other filter is refused.
fn list_query(req: &Request) -> Result<(bool, String, Option<String>), Error> {
    let action_needed = match web::query_param(req, "filter").as_deref() {
        None | Some("") | Some("all") => false,
        Some("action_needed") => true,
        Some(_) => {
            return Err(Error::invalid(
                "invalid_filter",
                t(web::lang_of(req), "case.err.filter"),
            ))
        }
    };
    let q = web::query_param(req, "q").unwrap_or_default();
    Ok((action_needed, q, web::query_param(req, "cursor")))
}

async fn api_list(app: &App, req: &Request) -> Response {
    let lang = web::lang_of(req);
    let result = async {
        let s = signed(app, req).await?;
        let (action_needed, q, cursor) = list_query(req)?;
        let query = ListQuery {
            action_needed,
            q: Some(q.as_str()),
            cursor: cursor.as_deref(),
        };
        Ok((200, app.list_cases(&s.user, &query, lang).await?))
    }
    .await;
    web::api(result, lang)
}

async fn api_detail(app: &App, req: &Request, id: &str) -> Response {
    let lang = web::lang_of(req);
    let result = async {
        let s = signed(app, req).await?;
        Ok((200, app.case_detail(&s.user, id).await?))
    }
    .await;
    web::api(result, lang)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CommentBody {
    body: String,
}

async fn api_comment(app: &App, req: &Request, id: &str) -> Response {
    let ctx = web::ctx(req);
    let result = async {
        let s = signed(app, req).await?;
        let b: CommentBody = web::json_body(req)?;
        Ok((201, app.comment_case(&s.user, id, &b.body, &ctx).await?))
    }
    .await;
    web::api(result, ctx.lang)
}

async fn api_move(app: &App, req: &Request, id: &str, m: Move) -> Response {
    let ctx = web::ctx(req);
    let result = async {
        let s = signed(app, req).await?;
        web::empty_body(req)?;
        let status = app.move_case(&s.user, id, m, &ctx).await?;
        Ok((200, serde_json::json!({ "status": status })))
    }
    .await;
    web::api(result, ctx.lang)
}

// ------------------------------------------------------------------ pages

async fn list_page(app: &App, req: &Request) -> Response {
    let s = match signed(app, req).await {
        Ok(s) => s,
        Err(e) => return views::session_refused(app, req, &e).await,
    };
    let lang = web::lang_of(req);
    // An unknown filter on a page is the whole list.
    let (action_needed, q, cursor) = list_query(req).unwrap_or_default();
    let query = ListQuery {
        action_needed,
        q: Some(q.as_str()),
        cursor: cursor.as_deref(),
    };
    let (page, status, error) = match app.list_cases(&s.user, &query, lang).await {
        Ok(p) => (p, 200, None),
        Err(e @ Error::Invalid { .. }) => {
            (Default::default(), 400, Some(web::error_message(&e, lang)))
        }
        Err(e) => return web::error_page(app, req, &e),
    };
    let refused = match app.check_filing_place(&s.user, lang).await {
        Err(e @ Error::Refused { .. }) => Some(web::error_message(&e, lang)),
        _ => None,
    };
    let notice = views::flash(req, "notice");
    views::frame_page(app, req, status, |f| {
        pages::cases(
            f,
            &CaseList {
                page: &page,
                action_needed,
                q: &q,
                paged: cursor.is_some(),
                refused: refused.as_deref(),
                notice,
                error: error.as_deref(),
            },
        )
    })
}

/// The new-case form; for a user who files elsewhere (MIG-13) the page
/// says where instead of showing the form.
async fn new_page(
    app: &App,
    req: &Request,
    status: u16,
    form: &CaseForm<'_>,
    error: Option<&str>,
) -> Response {
    let s = match signed(app, req).await {
        Ok(s) => s,
        Err(e) => return views::session_refused(app, req, &e).await,
    };
    let lang = web::lang_of(req);
    let (status, refused) = match app.check_filing_place(&s.user, lang).await {
        Ok(()) => (status, None),
        Err(e @ Error::Refused { .. }) => (e.status(), Some(web::error_message(&e, lang))),
        Err(e) => return web::error_page(app, req, &e),
    };
    views::frame_page(app, req, status, |f| {
        pages::case_new(f, &app.config.cases, form, refused.as_deref(), error)
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateForm {
    csrf: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    category: String,
    subject: String,
    body: String,
}

async fn new_form(app: &App, req: &Request) -> Response {
    let f: CreateForm = match web::checked_form(app, req, |f: &CreateForm| &f.csrf) {
        Ok(f) => f,
        Err(e) => return web::error_page(app, req, &e),
    };
    let s = match signed(app, req).await {
        Ok(s) => s,
        Err(e) => return views::session_refused(app, req, &e).await,
    };
    let ctx = web::ctx(req);
    let result = match parse_kind(&f.kind, ctx.lang) {
        Ok(kind) => {
            let new = NewCase {
                kind,
                category: &f.category,
                subject: &f.subject,
                body: &f.body,
            };
            app.create_case(&s.user, &new, &ctx).await
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(c) => web::redirect(&format!("/cases/{}?notice=case_created", c.id)),
        Err(e @ (Error::Invalid { .. } | Error::Refused { .. })) => {
            let form = CaseForm {
                kind: &f.kind,
                category: &f.category,
                subject: &f.subject,
                body: &f.body,
            };
            let message = web::error_message(&e, ctx.lang);
            new_page(app, req, e.status(), &form, Some(&message)).await
        }
        Err(e) => web::error_page(app, req, &e),
    }
}

async fn case_page(
    app: &App,
    req: &Request,
    id: &str,
    status: u16,
    error: Option<&str>,
) -> Response {
    let s = match signed(app, req).await {
        Ok(s) => s,
        Err(e) => return views::session_refused(app, req, &e).await,
    };
    let detail = match app.case_detail(&s.user, id).await {
        Ok(d) => d,
        Err(Error::NotFound) => return web::not_found(app, req),
        Err(e) => return web::error_page(app, req, &e),
    };
    let notice = views::flash(req, "notice");
    views::frame_page(app, req, status, |f| {
        pages::case(f, &detail, app.config.cases.body_max, notice, error)
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CommentForm {
    csrf: String,
    body: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ActionForm {
    csrf: String,
}

/// A case form's answer: back to the case with a notice, or the case page
/// again with the refusal (400, 409); a case of another tenant is 404.
async fn after_case_form(
    app: &App,
    req: &Request,
    id: &str,
    result: Result<&'static str, Error>,
) -> Response {
    match result {
        Ok(notice) => web::redirect(&format!("/cases/{id}?notice={notice}")),
        Err(Error::NotFound) => web::not_found(app, req),
        Err(e @ (Error::Invalid { .. } | Error::Conflict { .. })) => {
            let message = web::error_message(&e, web::lang_of(req));
            case_page(app, req, id, e.status(), Some(&message)).await
        }
        Err(e) => views::session_refused(app, req, &e).await,
    }
}

async fn comment_form(app: &App, req: &Request, id: &str) -> Response {
    let f: CommentForm = match web::checked_form(app, req, |f: &CommentForm| &f.csrf) {
        Ok(f) => f,
        Err(e) => return web::error_page(app, req, &e),
    };
    let result = async {
        let s = signed(app, req).await?;
        app.comment_case(&s.user, id, &f.body, &web::ctx(req))
            .await
            .map(|_| "case_commented")
    }
    .await;
    after_case_form(app, req, id, result).await
}

async fn move_form(app: &App, req: &Request, id: &str, m: Move) -> Response {
    if let Err(e) = web::checked_form(app, req, |f: &ActionForm| &f.csrf) {
        return web::error_page(app, req, &e);
    }
    let result = async {
        let s = signed(app, req).await?;
        app.move_case(&s.user, id, m, &web::ctx(req)).await?;
        Ok(match m {
            Move::Accept => "case_accepted",
            Move::Reject => "case_rejected",
            _ => "case_closed",
        })
    }
    .await;
    after_case_form(app, req, id, result).await
}
