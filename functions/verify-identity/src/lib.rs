//! The `verify-identity` function: the setup link's page, the identity check
//! (SET-2), the first password (SET-3) and new setup links (SET-1); the
//! legacy portal's identity correction during the window (MIG-11); claiming
//! legacy accounts by service ID (CLM-1..3). One handler per use case
//! serves the page and the JSON client (`tobira_web::call`).

mod claim;
mod portal;
mod setup;

use tobira::App;
use tobira_web::call::Call;
use tobira_web::errors;
use tobira_web::web::Response;

tobira_web::handler!(routes);

/// The function's routes: one handler per use case, page and JSON alike.
async fn routes(app: &App, call: &Call<'_>) -> Response {
    let req = call.req;
    match (req.method().as_str(), req.uri().path()) {
        ("GET", "/setup") => setup::link_page(app, call).await,
        ("POST", "/setup/verify" | "/api/setup/verify") => setup::verify(app, call).await,
        ("GET", "/setup/password") => setup::password_page(app, call).await,
        ("POST", "/setup/password" | "/api/setup/password") => setup::set_password(app, call).await,
        ("POST", "/api/setup/resend") => setup::resend(app, call).await,
        ("GET", "/api/setup/identity") => portal::show(app, call).await,
        ("POST", "/api/setup/identity") => portal::correct(app, call).await,
        ("GET", "/claim") => claim::page(app, call, 200, None, ""),
        ("POST", "/claim" | "/api/claim") => claim::claim(app, call).await,
        ("GET", "/claim/register") => claim::register_page(app, call),
        ("POST", "/claim/register" | "/api/claim/register") => claim::register(app, call).await,
        _ => errors::not_found(app, req),
    }
}
