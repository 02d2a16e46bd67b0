//! The `sms-otp` function: SMS one-time passwords for the sign-in challenge,
//! and proving a mobile number before it becomes a method (MFA-3, MFA-6).
//! Sending is the codes journey's one "send a code"
//! ([`tobira_web::codes::send`]) on the SMS channel.

use serde::Deserialize;
use tobira::mfa::Channel;
use tobira::App;
use tobira_web::call::Call;
use tobira_web::codes::{self, SmsSend};
use tobira_web::or_refuse;
use tobira_web::views;
use tobira_web::web::{self, Response};

tobira_web::handler!(routes);

/// The function's routes: one handler per use case, page and JSON alike.
async fn routes(app: &App, call: &Call<'_>) -> Response {
    let req = call.req;
    match (req.method().as_str(), req.uri().path()) {
        ("POST", "/otp/sms" | "/api/otp/sms") => {
            codes::send::<SmsSend>(app, call, Channel::Sms).await
        }
        ("POST", "/otp/sms/verify" | "/api/otp/sms/verify") => verify(app, call).await,
        _ => web::not_found(app, req),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CodeInput {
    code: String,
}

/// MFA-6: the code that proves the number; the number becomes a method.
async fn verify(app: &App, call: &Call<'_>) -> Response {
    let input: CodeInput = or_refuse!(app, call, call.input(app));
    let result = app
        .confirm_sms_method(call.session(), &input.code, &call.ctx)
        .await;
    if call.is_json() {
        let answer = web::api(result.map(|done| (200, done.to_json())), call.lang);
        views::clear_if_ended(app, call.req, answer).await
    } else {
        views::code_method_answer(app, call.req, Channel::Sms, result).await
    }
}
