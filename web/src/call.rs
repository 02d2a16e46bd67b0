//! One request, parsed once (after ory kratos' `updateLoginFlow`): who asks
//! (the JSON client under `/api/`, or a page's form), in which language,
//! with which session cookie and context. A use case's handler serves both
//! clients: it takes its input through [`Call::input`] (a JSON body, or a
//! form whose CSRF field is checked and taken off), makes one domain call,
//! and answers as JSON or as a page.

use serde::de::DeserializeOwned;
use tobira::app::{App, Ctx};
use tobira::error::Error;

use crate::csrf::Csrf;
use crate::errors;
use crate::i18n::Lang;
use crate::web::{self, Request, Response};

/// The value of a parse result, or the handler answers its error as
/// [`Call::refuse`] does: `let input: T = or_refuse!(app, call, call.input(app));`
#[macro_export]
macro_rules! or_refuse {
    ($app:expr, $call:expr, $result:expr) => {
        match $result {
            Ok(value) => value,
            Err(e) => return $call.refuse($app, &e),
        }
    };
}

/// A function's `handle` (what its Lambda and the local portal call): the
/// gate of [`Call::parse`], then `$routes(app, &call)`, the function's own
/// route table.
#[macro_export]
macro_rules! handler {
    ($routes:path) => {
        /// Every request of this function: 404 or 405 for a method and
        /// path the route table does not serve (before any check of the
        /// body: API Gateway's `$default` route brings them here), refused
        /// at the gate (SES-3, an unknown language), or served by its
        /// route table.
        pub async fn handle(app: &tobira::App, req: $crate::web::Request) -> $crate::web::Response {
            if $crate::routes::function_for(req.method().as_str(), req.uri().path()).is_none() {
                return $crate::errors::not_found(app, &req);
            }
            match $crate::call::Call::parse(app, &req) {
                Ok(call) => $routes(app, &call).await,
                Err(refused) => *refused,
            }
        }
    };
}

/// Who is asking: the JSON client or a browser's page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Client {
    Json,
    Page,
}

/// A request parsed once.
pub struct Call<'r> {
    pub req: &'r Request,
    pub client: Client,
    pub lang: Lang,
    pub ctx: Ctx,
    /// The session cookie's token, if any (not yet checked).
    pub session: Option<String>,
}

/// The fields a page's form carries besides the use case's input (a
/// checkbox only the page has, say), by name.
#[derive(Default)]
pub struct PageFields(Vec<(String, String)>);

impl PageFields {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
    /// A checkbox that was ticked (`value="true"`).
    pub fn ticked(&self, name: &str) -> bool {
        self.get(name) == Some("true")
    }
}

impl<'r> Call<'r> {
    /// The gate every function's handler starts with: a state-changing
    /// request from another site goes no further (SES-3), nor does an API
    /// call's `?lang=` that names no language we have (400 `invalid_lang`,
    /// in the language the caller gets without it). Then the request,
    /// parsed once.
    pub fn parse(app: &App, req: &'r Request) -> Result<Self, Box<Response>> {
        if let Some(refused) = crate::csrf::cross_site_refusal(app, req) {
            return Err(Box::new(refused));
        }
        if web::is_api(req) {
            if let Some(asked) = web::query_param(req, "lang") {
                if Lang::parse(&asked).is_none() {
                    let lang = web::lang_of(req);
                    let e = Error::invalid("invalid_lang");
                    return Err(Box::new(errors::error_response(&e, lang)));
                }
            }
        }
        Ok(Self::new(app, req))
    }

    pub fn new(app: &App, req: &'r Request) -> Self {
        let ctx = web::ctx(req);
        Self {
            req,
            client: if web::is_api(req) {
                Client::Json
            } else {
                Client::Page
            },
            lang: ctx.lang,
            session: web::named_cookie(req, &app.config, "session"),
            ctx,
        }
    }

    pub fn is_json(&self) -> bool {
        self.client == Client::Json
    }

    pub fn session(&self) -> Option<&str> {
        self.session.as_deref()
    }

    /// The use case's input: a strict JSON body, or a page's form whose
    /// CSRF token the server issued (SES-3), parsed as strictly.
    pub fn input<T: DeserializeOwned>(&self, app: &App) -> Result<T, Error> {
        self.input_with(app, &[]).map(|(t, _)| t)
    }

    /// [`Call::input`], and for a page the named fields only its form has.
    pub fn input_with<T: DeserializeOwned>(
        &self,
        app: &App,
        page_only: &[&str],
    ) -> Result<(T, PageFields), Error> {
        match self.client {
            Client::Json => Ok((web::json_body(self.req)?, PageFields::default())),
            Client::Page => {
                let fields: Vec<(String, String)> = web::form_body(self.req)?;
                let (csrf, rest): (Vec<_>, Vec<_>) =
                    fields.into_iter().partition(|(k, _)| k == "csrf");
                match csrf.as_slice() {
                    [(_, token)] => Csrf::check(app, self.req, token)?,
                    _ => return Err(Error::Forbidden),
                }
                let (extra, rest): (Vec<_>, Vec<_>) = rest
                    .into_iter()
                    .partition(|(k, _)| page_only.contains(&k.as_str()));
                let bad =
                    |e: serde_urlencoded::ser::Error| Error::invalid("invalid_form").detail(e);
                let encoded = serde_urlencoded::to_string(&rest).map_err(bad)?;
                let input = serde_urlencoded::from_str(&encoded)
                    .map_err(|e| Error::invalid("invalid_form").detail(e))?;
                Ok((input, PageFields(extra)))
            }
        }
    }

    /// A new password's input, and whether it is confirmed: a page asks
    /// for it twice (`password_confirm`), the JSON client types it once.
    pub fn input_confirmed<T: DeserializeOwned>(
        &self,
        app: &App,
        password: impl Fn(&T) -> &str,
    ) -> Result<(T, bool), Error> {
        let (input, page) = self.input_with::<T>(app, &["password_confirm"])?;
        let confirmed = self.is_json() || page.get("password_confirm") == Some(password(&input));
        Ok((input, confirmed))
    }

    /// A call that carries no input: no body (or `{}`) from the JSON
    /// client, only the CSRF token from a page.
    pub fn no_input(&self, app: &App) -> Result<(), Error> {
        match self.client {
            Client::Json => web::empty_body(self.req),
            Client::Page => self.input::<NoFields>(app).map(|_| ()),
        }
    }

    /// The answer to an error that has no better answer of its own: the
    /// API's error body, or the error page.
    pub fn refuse(&self, app: &App, e: &Error) -> Response {
        match self.client {
            Client::Json => errors::error_response(e, self.lang),
            Client::Page => errors::error_page(app, self.req, e),
        }
    }
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct NoFields {}
