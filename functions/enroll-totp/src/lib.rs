//! The `enroll-totp` function. Now: the page that offers the second-factor
//! methods after the first password sign-in (SET-4, LOG-4). TOTP enrolment
//! itself arrives with the two-step verification issue.

use tobira::session::Stage;
use tobira::web::{self, Csrf, Request, Response};
use tobira::{App, Error};

pub async fn handle(app: &App, req: Request) -> Response {
    match (req.method().as_str(), req.uri().path()) {
        ("GET", "/enroll") => enroll_page(app, &req).await,
        _ => web::not_found(app, &req),
    }
}

async fn enroll_page(app: &App, req: &Request) -> Response {
    let cookie = web::named_cookie(req, &app.config, "session");
    let user = async {
        let s = app.session_at(cookie.as_deref(), &[Stage::Enroll]).await?;
        app.user(&s.user_id)
            .await?
            .map(|(u, _)| u)
            .ok_or(Error::NotSignedIn)
    }
    .await;
    match user {
        Ok(user) => {
            let lang = web::lang_of(req);
            let csrf = Csrf::for_page(app, req);
            let mut r = web::html(
                200,
                tobira::pages::enroll(
                    lang,
                    req,
                    &app.config.brand,
                    &csrf.token,
                    user.login_id.as_str(),
                ),
            );
            csrf.attach(app, &mut r);
            web::remember_lang(req, &mut r);
            r
        }
        Err(Error::NotSignedIn) => web::redirect("/login"),
        Err(e) => web::error_page(app, req, &e),
    }
}
