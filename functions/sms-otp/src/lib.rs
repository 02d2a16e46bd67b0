//! The `sms-otp` function: one-time passwords by phone — SMS, and read out
//! in a voice call (MFA-9) — for the sign-in challenge, and proving a number
//! before it becomes a method (MFA-3, MFA-6). Sending is the codes journey's
//! one "send a code" ([`tobira_web::codes::send`]) on the phone's channels.

use tobira::mfa::Channel;
use tobira::App;
use tobira_web::call::Call;
use tobira_web::codes::{self, PhoneSend};
use tobira_web::errors;
use tobira_web::web::Response;

tobira_web::handler!(routes);

/// The function's routes: one handler per use case, page and JSON alike.
async fn routes(app: &App, call: &Call<'_>) -> Response {
    let req = call.req;
    match (req.method().as_str(), req.uri().path()) {
        ("POST", "/otp/sms" | "/api/otp/sms") => {
            codes::send::<PhoneSend>(app, call, Channel::Sms).await
        }
        ("POST", "/otp/sms/verify" | "/api/otp/sms/verify") => {
            codes::confirm(app, call, Channel::Sms).await
        }
        ("POST", "/otp/voice" | "/api/otp/voice") => {
            codes::send::<PhoneSend>(app, call, Channel::Voice).await
        }
        ("POST", "/otp/voice/verify" | "/api/otp/voice/verify") => {
            codes::confirm(app, call, Channel::Voice).await
        }
        _ => errors::not_found(app, req),
    }
}
