//! The `send-mail-otp` function. Its routes (API.md) arrive with two-step verification (issue 4);
//! until then every request is answered 404 with the API error body, and the
//! route table (`tobira::routes`) does not list them.

use tobira::web::{self, Request, Response};
use tobira::App;

pub async fn handle(app: &App, req: Request) -> Response {
    web::not_found(app, &req)
}
