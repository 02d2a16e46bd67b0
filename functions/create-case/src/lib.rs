//! The `create-case` function: support cases (CASE-1..5, MIG-13) — the API
//! of API.md and the pages (list, new case, a case with its comments and
//! its actions). Every route needs a signed-in session (SES-2); the tenant
//! is the session user's, never a request field.

use serde::Deserialize;
use tobira::cases::{transition, Filter, Kind, ListQuery, Move, NewCase};
use tobira::mfa::Signed;
use tobira::session::Stage;
use tobira::{App, Error};
use tobira_web::call::Call;
use tobira_web::errors;
use tobira_web::or_refuse;
use tobira_web::pages::{self, CaseForm, CaseList};
use tobira_web::views;
use tobira_web::web::{self, Request, Response};

mod attachments;

tobira_web::handler!(routes);

/// The function's routes: one handler per use case, page and JSON alike.
async fn routes(app: &App, call: &Call<'_>) -> Response {
    let req = call.req;
    let path = req.uri().path().to_string();
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    // The API's paths are the pages' under `/api` (but `POST /api/cases`
    // files what the page `POST /cases/new` does).
    let parts = match parts.as_slice() {
        ["api", rest @ ..] => rest,
        all => all,
    };
    match (req.method().as_str(), parts, call.is_json()) {
        ("POST", ["cases"], true) | ("POST", ["cases", "new"], false) => file(app, call).await,
        ("GET", ["cases"], true) => api_list(app, call).await,
        ("GET", ["cases"], false) => list_page(app, call).await,
        ("GET", ["cases", "new"], false) => {
            new_page(app, call, 200, &CaseForm::default(), None).await
        }
        ("GET", ["cases", id], true) => api_detail(app, call, id).await,
        ("GET", ["cases", id], false) => case_page(app, call, id, None).await,
        ("POST", ["cases", id, "comments"], _) => comment(app, call, id).await,
        ("POST", ["cases", id, "uploads"], true) => attachments::api_form(app, call, id).await,
        ("POST", ["cases", id, "attachments"], true) => {
            attachments::api_confirm(app, call, id).await
        }
        ("GET", ["cases", id, "uploads", "confirm"], false) => {
            attachments::confirm_page(app, call, id).await
        }
        ("GET", ["cases", id, "attachments", file], _) => {
            attachments::download(app, call, id, file).await
        }
        ("POST", ["cases", id, action], _) => match action_of(action) {
            Some(m) => move_case(app, call, id, m).await,
            None => errors::not_found(app, req),
        },
        _ => errors::not_found(app, req),
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
pub(crate) async fn signed(app: &App, call: &Call<'_>) -> Result<Signed, Error> {
    app.signed(call.session(), &[Stage::Full]).await
}

/// A refusal before the use case: the API's error, or for a page the way
/// back to sign-in (no session) or the error page.
pub(crate) async fn refused(app: &App, call: &Call<'_>, e: &Error) -> Response {
    match (call.is_json(), e) {
        (false, Error::NotSignedIn | Error::Forbidden) => {
            views::session_refused(app, call.req, e).await
        }
        _ => call.refuse(app, e),
    }
}

/// CASE-1: the page's form may leave kind and category unchosen.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileInput {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    category: String,
    subject: String,
    body: String,
}

fn parse_kind(kind: &str) -> Result<Kind, Error> {
    Kind::parse(kind).ok_or_else(|| Error::invalid("invalid_kind"))
}

/// CASE-1, MIG-13: file a case.
async fn file(app: &App, call: &Call<'_>) -> Response {
    let s = match signed(app, call).await {
        Ok(s) => s,
        Err(e) => return refused(app, call, &e).await,
    };
    let f: FileInput = or_refuse!(app, call, call.input(app));
    let result = match parse_kind(&f.kind) {
        Ok(kind) => {
            let new = NewCase {
                kind,
                category: &f.category,
                subject: &f.subject,
                body: &f.body,
            };
            app.create_case(&s.user, &new, &call.ctx).await
        }
        Err(e) => Err(e),
    };
    match (result, call.is_json()) {
        (result, true) => errors::api(result.map(|c| (201, c)), call.lang),
        (Ok(c), false) => web::redirect(&format!("/cases/{}?notice=case_created", c.id)),
        (Err(e @ (Error::Invalid { .. } | Error::Refused { .. })), false) => {
            let form = CaseForm {
                kind: &f.kind,
                category: &f.category,
                subject: &f.subject,
                body: &f.body,
            };
            new_page(app, call, errors::status(&e), &form, Some(&e)).await
        }
        (Err(e), false) => call.refuse(app, &e),
    }
}

/// `filter`, `q` and `cursor` of a list request; any other filter is refused.
fn list_query(req: &Request) -> Result<(Filter, String, Option<String>), Error> {
    let filter = Filter::parse(web::query_param(req, "filter").as_deref())?;
    let q = web::query_param(req, "q").unwrap_or_default();
    Ok((filter, q, web::query_param(req, "cursor")))
}

/// CASE-4: a page of the tenant's cases.
async fn api_list(app: &App, call: &Call<'_>) -> Response {
    let result = async {
        let s = signed(app, call).await?;
        let (filter, q, cursor) = list_query(call.req)?;
        let query = ListQuery {
            filter,
            q: Some(q.as_str()),
            cursor: cursor.as_deref(),
        };
        Ok((200, app.list_cases(&s.user, &query).await?))
    }
    .await;
    errors::api(result, call.lang)
}

async fn list_page(app: &App, call: &Call<'_>) -> Response {
    let s = match signed(app, call).await {
        Ok(s) => s,
        Err(e) => return views::session_refused(app, call.req, &e).await,
    };
    let lang = call.lang;
    // An unknown filter on a page is the whole list.
    let (filter, q, cursor) = list_query(call.req).unwrap_or_default();
    let query = ListQuery {
        filter,
        q: Some(q.as_str()),
        cursor: cursor.as_deref(),
    };
    let (page, status, error) = match app.list_cases(&s.user, &query).await {
        Ok(p) => (p, 200, None),
        Err(e @ Error::Invalid { .. }) => (
            Default::default(),
            400,
            Some(errors::error_message(&e, lang)),
        ),
        Err(e) => return call.refuse(app, &e),
    };
    let refused = match app.check_filing_place(&s.user).await {
        Err(e @ Error::Refused { .. }) => Some(errors::error_message(&e, lang)),
        _ => None,
    };
    let notice = views::flash(call.req, "notice");
    views::frame_page(app, call.req, status, |f| {
        pages::cases(
            f,
            &CaseList {
                page: &page,
                policy: &app.config.cases,
                filter,
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
    call: &Call<'_>,
    status: u16,
    form: &CaseForm<'_>,
    refusal: Option<&Error>,
) -> Response {
    let error = refusal.map(|e| errors::error_message(e, call.lang));
    let s = match signed(app, call).await {
        Ok(s) => s,
        Err(e) => return views::session_refused(app, call.req, &e).await,
    };
    let lang = call.lang;
    let (status, refused) = match app.check_filing_place(&s.user).await {
        Ok(()) => (status, None),
        Err(e @ Error::Refused { .. }) => {
            (errors::status(&e), Some(errors::error_message(&e, lang)))
        }
        Err(e) => return call.refuse(app, &e),
    };
    views::frame_page(app, call.req, status, |f| {
        let html = pages::case_new(
            f,
            &app.config.cases,
            form,
            refused.as_deref(),
            error.as_deref(),
        );
        tobira_web::a11y::mark_refusal(html, refusal)
    })
}

/// CASE-3..6: one case with its comments and files.
async fn api_detail(app: &App, call: &Call<'_>, id: &str) -> Response {
    let result = async {
        let s = signed(app, call).await?;
        Ok((200, app.case_detail(&s.user, id).await?))
    }
    .await;
    errors::api(result, call.lang)
}

pub(crate) async fn case_page(
    app: &App,
    call: &Call<'_>,
    id: &str,
    refusal: Option<&Error>,
) -> Response {
    let s = match signed(app, call).await {
        Ok(s) => s,
        Err(e) => return views::session_refused(app, call.req, &e).await,
    };
    let detail = match app.case_detail(&s.user, id).await {
        Ok(d) => d,
        Err(e) => return views::not_shown(app, call, &e),
    };
    let notice = views::flash(call.req, "notice");
    // CASE-6: a fresh upload form on every view of an open case (signed,
    // no store write); without a file store, no form.
    let ticket = match transition(detail.case.status, Move::Comment) {
        Ok(_) => app.attachment_form(&s.user, id, true).await.ok(),
        Err(_) => None,
    };
    let lang = call.lang;
    let attach = ticket.as_ref().map(|t| attachments::form_of(app, t, lang));
    let mut page = views::form_page(app, call.req, refusal, |f, error| {
        pages::case(f, &detail, &app.config.cases, attach, notice, error)
    });
    web::allow_file_store(&mut page, app.files.origin().as_deref());
    page
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CommentInput {
    body: String,
}

/// A case form's answer: back to the case with a notice, or the case page
/// again with the refusal (400, 409); a case of another tenant is 404.
pub(crate) async fn after_case_form(
    app: &App,
    call: &Call<'_>,
    id: &str,
    result: Result<&'static str, Error>,
) -> Response {
    match result {
        Ok(notice) => web::redirect(&format!("/cases/{id}?notice={notice}")),
        Err(Error::NotFound) => errors::not_found(app, call.req),
        Err(e @ (Error::Invalid { .. } | Error::Conflict { .. })) => {
            case_page(app, call, id, Some(&e)).await
        }
        Err(e) => views::session_refused(app, call.req, &e).await,
    }
}

/// CASE-5: a comment on a case of the user's tenant.
async fn comment(app: &App, call: &Call<'_>, id: &str) -> Response {
    let s = match signed(app, call).await {
        Ok(s) => s,
        Err(e) => return refused(app, call, &e).await,
    };
    let f: CommentInput = or_refuse!(app, call, call.input(app));
    let result = app.comment_case(&s.user, id, &f.body, &call.ctx).await;
    if call.is_json() {
        return errors::api(result.map(|c| (201, c)), call.lang);
    }
    after_case_form(app, call, id, result.map(|_| "case_commented")).await
}

/// CASE-3: why a resolution is rejected (the page's form may send none:
/// then the case page says so).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RejectInput {
    #[serde(default)]
    reason: String,
}

/// CASE-3: close, accept or reject.
async fn move_case(app: &App, call: &Call<'_>, id: &str, m: Move) -> Response {
    let s = match signed(app, call).await {
        Ok(s) => s,
        Err(e) => return refused(app, call, &e).await,
    };
    let reason = if m == Move::Reject {
        let f: RejectInput = or_refuse!(app, call, call.input(app));
        Some(f.reason)
    } else {
        or_refuse!(app, call, call.no_input(app));
        None
    };
    let result = app
        .move_case(&s.user, id, m, reason.as_deref(), &call.ctx)
        .await;
    if call.is_json() {
        let answer = result.map(|status| (200, serde_json::json!({ "status": status })));
        return errors::api(answer, call.lang);
    }
    let notice = match m {
        Move::Accept => "case_accepted",
        Move::Reject => "case_rejected",
        _ => "case_closed",
    };
    after_case_form(app, call, id, result.map(|_| notice)).await
}
