//! ADM-6: the sign-in history — the signed-in user's own, and for an admin
//! the tenant's — as JSON, as a page and as a CSV download.

use tobira::history::{HistoryPage, HistoryQuery};
use tobira::model::User;
use tobira::session::Stage;
use tobira::{App, Error};
use tobira_web::call::Call;
use tobira_web::pages::{self, SignInsView};
use tobira_web::web::{self, Request, Response};
use tobira_web::{csv, errors, views};

/// A CSV answer stops adding rows once its size *as Lambda sends it* (a
/// JSON string: every `"`, `\\`, CR and LF escaped) passes this, and names
/// the next part in its `Link` header: Lambda's buffered answers hold 6 MB.
/// A chunk's rows can add at most ~1.3 MB more (a row of quotes is under
/// 1.3 KB escaped), so no part reaches 5 MB.
const CSV_BUDGET: usize = 3_500_000;
/// Rows per domain call while writing a CSV.
const CSV_CHUNK: usize = 1000;

/// The size of `text` inside a JSON string (the Lambda answer's body).
fn escaped_len(text: &str) -> usize {
    text.len()
        + text
            .bytes()
            .filter(|b| matches!(b, b'"' | b'\\' | b'\r' | b'\n'))
            .count()
}

/// Whose history a route shows.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Scope {
    Mine,
    Tenant,
}

/// The history's routes, or `None` for a path it does not serve.
pub async fn route(app: &App, call: &Call<'_>, parts: &[&str]) -> Option<Response> {
    if call.req.method().as_str() != "GET" {
        return None;
    }
    let scope = match parts {
        ["api", "me", "sign-ins"] | ["sign-ins"] => Scope::Mine,
        ["api", "admin", "sign-ins"] | ["admin", "sign-ins"] => Scope::Tenant,
        _ => return None,
    };
    Some(match call.is_json() {
        true => api(app, call, scope).await,
        false => page(app, call, scope).await,
    })
}

/// The viewer (SES-2: a full session; the tenant's history: an admin, as
/// for every admin page), or the answer to anyone else.
async fn viewer(app: &App, call: &Call<'_>, scope: Scope) -> Result<User, Box<Response>> {
    if scope == Scope::Tenant {
        return crate::pages::admin(app, call).await;
    }
    match app.signed(call.session(), &[Stage::Full]).await {
        Ok(s) => Ok(s.user),
        Err(e) if call.is_json() => Err(Box::new(call.refuse(app, &e))),
        Err(e) => Err(Box::new(views::session_refused(app, call.req, &e).await)),
    }
}

/// The query parameters of a history request.
struct Asked {
    user_id: Option<String>,
    from: Option<String>,
    to: Option<String>,
    cursor: Option<String>,
    csv: bool,
}

/// The viewer and what they ask for, or the answer to a refusal.
async fn viewer_and_asked(
    app: &App,
    call: &Call<'_>,
    scope: Scope,
) -> Result<(User, Asked), Box<Response>> {
    let viewer = viewer(app, call, scope).await?;
    let a = asked(call.req).map_err(|e| Box::new(call.refuse(app, &e)))?;
    Ok((viewer, a))
}

fn asked(req: &Request) -> Result<Asked, Error> {
    let csv = match web::query_param(req, "format").as_deref() {
        None | Some("") | Some("json") => false,
        Some("csv") => true,
        Some(_) => return Err(Error::invalid("invalid_format")),
    };
    let [user_id, from, to, cursor] =
        ["user_id", "from", "to", "cursor"].map(|k| web::query_param(req, k));
    Ok(Asked {
        user_id,
        from,
        to,
        cursor,
        csv,
    })
}

impl Asked {
    fn query(&self, scope: Scope, limit: usize) -> HistoryQuery<'_> {
        HistoryQuery {
            user_id: self.user_id.as_deref().filter(|_| scope == Scope::Tenant),
            from: self.from.as_deref(),
            to: self.to.as_deref(),
            cursor: self.cursor.as_deref(),
            limit,
        }
    }
}

async fn read(
    app: &App,
    viewer: &User,
    scope: Scope,
    q: &HistoryQuery<'_>,
) -> Result<HistoryPage, Error> {
    match scope {
        Scope::Mine => app.my_sign_ins(viewer, q).await,
        Scope::Tenant => app.tenant_sign_ins(viewer, q).await,
    }
}

/// `GET /api/me/sign-ins`, `GET /api/admin/sign-ins`: a page as JSON, or
/// with `format=csv` the CSV file.
async fn api(app: &App, call: &Call<'_>, scope: Scope) -> Response {
    let (viewer, a) = match viewer_and_asked(app, call, scope).await {
        Ok(both) => both,
        Err(answer) => return *answer,
    };
    if a.csv {
        return match csv_file(app, call, &viewer, scope, &a).await {
            Ok(file) => file,
            Err(e) => call.refuse(app, &e),
        };
    }
    let page = read(app, &viewer, scope, &a.query(scope, 0)).await;
    errors::api(page.map(|p| (200, p)), call.lang)
}

/// The CSV of the range: pages of the domain's until the range ends or the
/// answer reaches [`CSV_BUDGET`]; then `Link: <…&cursor=…>; rel="next"`.
async fn csv_file(
    app: &App,
    call: &Call<'_>,
    viewer: &User,
    scope: Scope,
    a: &Asked,
) -> Result<Response, Error> {
    let lang = call.lang;
    let mut cursor = a.cursor.clone();
    let mut body = String::from(csv::BOM);
    let mut size = 0;
    let range = loop {
        let q = HistoryQuery {
            cursor: cursor.as_deref(),
            ..a.query(scope, CSV_CHUNK)
        };
        let page = read(app, viewer, scope, &q).await?;
        if body.len() == csv::BOM.len() {
            body.push_str(&csv::header(lang, &page.time_zone));
        }
        for r in &page.items {
            let line = csv::row(lang, r);
            size += escaped_len(&line);
            body.push_str(&line);
        }
        cursor = page.next_cursor;
        if cursor.is_none() || size >= CSV_BUDGET {
            break (page.from, page.to);
        }
    };
    let name = format!("sign-ins-{}-{}.csv", range.0, range.1);
    let mut b = lambda_http::http::Response::builder()
        .status(200)
        .header("content-type", "text/csv; charset=utf-8")
        .header(
            "content-disposition",
            format!("attachment; filename=\"{name}\""),
        )
        .header("cache-control", "no-store")
        .header("x-content-type-options", "nosniff");
    if let Some(c) = cursor {
        let view = SignInsView {
            admin: scope == Scope::Tenant,
            page: &HistoryPage::default(),
            from: &range.0,
            to: &range.1,
            user_id: a.user_id.as_deref().unwrap_or(""),
            paged: true,
            error: None,
        };
        let next = view.href(true, Some(&c), Some("csv"));
        b = b.header("link", format!("<{next}>; rel=\"next\""));
    }
    Ok(b.body(body.into()).unwrap_or_default())
}

/// `GET /sign-ins`, `GET /admin/sign-ins`: the page. A bad range shows the
/// page with the error (400) and no rows.
async fn page(app: &App, call: &Call<'_>, scope: Scope) -> Response {
    let (viewer, a) = match viewer_and_asked(app, call, scope).await {
        Ok(both) => both,
        Err(answer) => return *answer,
    };
    let (page, status, error) = match read(app, &viewer, scope, &a.query(scope, 0)).await {
        Ok(p) => (p, 200, None),
        Err(e @ Error::Invalid { .. }) => (
            HistoryPage::default(),
            400,
            Some(errors::error_message(&e, call.lang)),
        ),
        Err(Error::NotFound) => return errors::not_found(app, call.req),
        Err(e) => return call.refuse(app, &e),
    };
    let (from, to) = match error {
        None => (page.from.clone(), page.to.clone()),
        Some(_) => (
            a.from.clone().unwrap_or_default(),
            a.to.clone().unwrap_or_default(),
        ),
    };
    views::frame_page(app, call.req, status, |f| {
        pages::sign_ins(
            f,
            &SignInsView {
                admin: scope == Scope::Tenant,
                page: &page,
                from: &from,
                to: &to,
                user_id: a.user_id.as_deref().unwrap_or(""),
                paged: a.cursor.is_some(),
                error: error.as_deref(),
            },
        )
    })
}
