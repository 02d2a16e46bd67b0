//! The `send-mail-otp` function: e-mail one-time passwords for the sign-in
//! challenge and for enrolling e-mail as a method (MFA-2, MFA-3, MSG-1).
//! The use case is the codes journey's one "send a code"
//! ([`tobira_web::codes::send`]), here on the e-mail channel.

use tobira::mfa::Channel;
use tobira::App;
use tobira_web::call::Call;
use tobira_web::codes::{self, EmailSend};
use tobira_web::errors;
use tobira_web::web::Response;

tobira_web::handler!(routes);

/// The function's routes: one handler per use case, page and JSON alike.
async fn routes(app: &App, call: &Call<'_>) -> Response {
    let req = call.req;
    match (req.method().as_str(), req.uri().path()) {
        ("POST", "/otp/email" | "/api/otp/email") => {
            codes::send::<EmailSend>(app, call, Channel::Email).await
        }
        _ => errors::not_found(app, req),
    }
}
