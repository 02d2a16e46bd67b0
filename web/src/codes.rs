//! The codes journey's one use case at the edge: "send a code" (MFA-3,
//! MFA-6, MFA-9), by e-mail (`send-mail-otp`) or SMS and voice call
//! (`sms-otp`), for the page and
//! the JSON client alike. The two Lambdas and their routes stay apart, as
//! the deployment wants; the handler is this one.

use serde::de::DeserializeOwned;
use serde::Deserialize;
use tobira::mfa::{Channel, Purpose};
use tobira::App;

use crate::call::Call;
use crate::errors;
use crate::or_refuse;
use crate::views;
use crate::web::Response;

/// What "send a code" takes, whatever the channel.
pub struct SendInput {
    pub purpose: String,
    pub phone: Option<String>,
    pub country: Option<String>,
    /// MFA-8: adding the method from a signed-in session, when the last
    /// proof is not fresh.
    pub password: Option<String>,
}

/// `POST /otp/email`, `/api/otp/email`: no number.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmailSend {
    purpose: String,
    #[serde(default)]
    password: Option<String>,
}

impl From<EmailSend> for SendInput {
    fn from(b: EmailSend) -> Self {
        Self {
            purpose: b.purpose,
            phone: None,
            country: None,
            password: b.password,
        }
    }
}

/// `POST /otp/sms`, `/api/otp/sms`, `/otp/voice`, `/api/otp/voice`: the
/// number to prove, when enrolling.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PhoneSend {
    purpose: String,
    #[serde(default)]
    phone: Option<String>,
    #[serde(default)]
    country: Option<String>,
    #[serde(default)]
    password: Option<String>,
}

impl From<PhoneSend> for SendInput {
    fn from(b: PhoneSend) -> Self {
        Self {
            purpose: b.purpose,
            phone: b.phone,
            country: b.country,
            password: b.password,
        }
    }
}

/// Send a code on `channel`: parse → one domain call → 202 with the code's
/// timing, or back to the page that takes the code.
pub async fn send<B: DeserializeOwned + Into<SendInput>>(
    app: &App,
    call: &Call<'_>,
    channel: Channel,
) -> Response {
    let input: SendInput = or_refuse!(app, call, call.input::<B>(app)).into();
    let purpose = or_refuse!(app, call, Purpose::parse(&input.purpose));
    let sent =
        match purpose.number_to_prove(channel, input.phone.as_deref(), input.country.as_deref()) {
            Ok(phone) => {
                app.send_code(
                    call.session(),
                    channel,
                    purpose,
                    phone,
                    input.password.as_deref(),
                    &call.ctx,
                )
                .await
            }
            // The number as typed comes back with what is wrong with it.
            Err(e) if !call.is_json() => {
                let msg = errors::error_message(&e, call.lang);
                let country = input.country.as_deref().unwrap_or("81");
                let typed = input.phone.as_deref().unwrap_or("");
                return views::enroll_phone(
                    app,
                    call.req,
                    channel,
                    400,
                    country,
                    typed,
                    Some(&msg),
                )
                .await;
            }
            Err(e) => Err(e),
        };
    if call.is_json() {
        return errors::api(sent.map(|s| (202, s)), call.lang);
    }
    let (back, start) = match (channel, purpose) {
        (Channel::Email, Purpose::Login) => ("/login/mfa?method=email", "/enroll"),
        (Channel::Email, Purpose::Enroll) => ("/enroll/email", "/enroll"),
        (Channel::Sms, Purpose::Login) => ("/login/mfa?method=sms", "/enroll/sms"),
        (Channel::Sms, Purpose::Enroll) => ("/enroll/sms/verify", "/enroll/sms"),
        (Channel::Voice, Purpose::Login) => ("/login/mfa?method=voice", "/enroll/voice"),
        (Channel::Voice, Purpose::Enroll) => ("/enroll/voice/verify", "/enroll/voice"),
    };
    // MFA-9: a call is not "sent": the page says the phone will ring.
    let notice = if channel == Channel::Voice {
        "called"
    } else {
        "sent"
    };
    views::after_send(app, call.req, sent, purpose, (back, notice), start).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CodeInput {
    code: String,
}

/// MFA-2/3, MFA-6, MFA-9: the code sent to the registered address or to
/// the number being proved makes that channel a method.
pub async fn confirm(app: &App, call: &Call<'_>, channel: Channel) -> Response {
    let input: CodeInput = or_refuse!(app, call, call.input(app));
    let (token, code, ctx) = (call.session(), input.code.as_str(), &call.ctx);
    let result = match channel {
        Channel::Email => app.confirm_email_method(token, code, ctx).await,
        Channel::Sms | Channel::Voice => app.confirm_phone_method(token, channel, code, ctx).await,
    };
    if call.is_json() {
        let answer = errors::api(result.map(|done| (200, done.to_json())), call.lang);
        views::clear_if_ended(app, call.req, answer).await
    } else {
        views::code_method_answer(app, call.req, channel, result).await
    }
}
