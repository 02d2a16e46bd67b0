//! The `send-mail-otp` function: e-mail one-time passwords for the sign-in
//! challenge and for enrolling e-mail as a method (MFA-2, MFA-3, MSG-1).
//! The use case is the codes journey's one "send a code"
//! ([`tobira_web::codes::send`]), here on the e-mail channel.

use tobira::mfa::Channel;
use tobira::App;
use tobira_web::call::Call;
use tobira_web::codes::{self, EmailSend};
use tobira_web::web::{self, Request, Response};

pub async fn handle(app: &App, req: Request) -> Response {
    // SES-3 and an unknown language are refused before any route.
    let call = match Call::parse(app, &req) {
        Ok(call) => call,
        Err(refused) => return *refused,
    };
    match (req.method().as_str(), req.uri().path()) {
        ("POST", "/otp/email" | "/api/otp/email") => {
            codes::send::<EmailSend>(app, &call, Channel::Email).await
        }
        _ => web::not_found(app, &req),
    }
}
