//! tobira's AWS side: the DynamoDB store, the SES v2 mailer, the SNS SMS
//! sender and the voice caller (End User Messaging) behind the domain's ports, and the production wiring of an
//! [`App`] from the Lambda environment — clients built once, at cold start.
//! Only the Lambda binaries link this crate; the domain, the handlers and
//! the local portal build no AWS SDK.

pub mod dynamo;
pub mod s3;
pub mod ses;
pub mod sns;
pub mod voice;

use std::sync::Arc;

use tobira::config::ConfigError;
use tobira::delivery::{DeliveryError, Mail, Mailer, Sms, SmsSender, VoiceCall, VoiceCaller};
use tobira::files::FileStore;
use tobira::{App, Config};

use aws_config::{BehaviorVersion, SdkConfig};
use aws_sdk_dynamodb::config::SharedHttpClient;
use aws_smithy_http_client::tls::{rustls_provider::CryptoMode, Provider};

/// HTTPS (and plain HTTP, for local emulators) on rustls + ring: the SDK's
/// default TLS stack (aws-lc) takes minutes longer to compile.
pub fn http_client() -> SharedHttpClient {
    aws_smithy_http_client::Builder::new()
        .tls_provider(Provider::Rustls(CryptoMode::Ring))
        .build_https()
}

/// The SDK configuration from the Lambda environment (region, credentials).
pub async fn sdk_config() -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .http_client(http_client())
        .load()
        .await
}

/// What a function sends besides its store writes: a mailer, an SMS sender
/// and a voice caller, made from the SDK configuration. Notices and links go
/// through the outbox (the store), so most functions send nothing themselves.
pub type Senders = Result<(Arc<dyn Mailer>, Arc<dyn SmsSender>, Arc<dyn VoiceCaller>), ConfigError>;

/// Issue 17 item 3: a function that sends nothing links neither the SES nor
/// the SNS SDK. Each binary names what it sends (the `sends` of
/// [`http_lambda_main`]); only the constructor it names is referenced, so
/// the linker drops the other clients' code. The template's IAM grants match
/// (`tests/api/infra.rs`).
pub fn sends_nothing(_: &SdkConfig, _: &Config) -> Senders {
    Ok((Arc::new(Unwired), Arc::new(Unwired), Arc::new(Unwired)))
}

/// Mail through SES v2 (the one-time code by mail; the outbox's sender).
pub fn sends_mail(sdk: &SdkConfig, config: &Config) -> Senders {
    let mailer = ses::SesMailer::new(aws_sdk_sesv2::Client::new(sdk), config.mail_from.clone());
    Ok((Arc::new(mailer), Arc::new(Unwired), Arc::new(Unwired)))
}

/// The codes by phone: SMS through SNS and, where voice codes are on
/// (MFA-9, `TOBIRA_VOICE_CODES`), calls through End User Messaging from
/// `TOBIRA_VOICE_ORIGINATION` (required then; `TOBIRA_VOICE_ENDPOINT` only
/// for a stand-in).
pub fn sends_sms(sdk: &SdkConfig, config: &Config) -> Senders {
    let sms = sns::SnsSms::new(aws_sdk_sns::Client::new(sdk));
    let voice: Arc<dyn VoiceCaller> = if config.factors.voice {
        let origination = std::env::var("TOBIRA_VOICE_ORIGINATION")
            .ok()
            .filter(|v| !v.trim().is_empty())
            .ok_or(ConfigError::Missing("TOBIRA_VOICE_ORIGINATION"))?;
        let mut conf = aws_sdk_pinpointsmsvoicev2::config::Builder::from(sdk);
        if let Some(url) = std::env::var("TOBIRA_VOICE_ENDPOINT")
            .ok()
            .filter(|v| !v.trim().is_empty())
        {
            conf = conf.endpoint_url(url.trim());
        }
        let client = aws_sdk_pinpointsmsvoicev2::Client::from_conf(conf.build());
        Arc::new(voice::PinpointVoice::new(client, origination.trim().into()))
    } else {
        Arc::new(Unwired)
    };
    Ok((Arc::new(Unwired), Arc::new(sms), voice))
}

/// The sender of a function that has no right to send: it refuses, so a
/// path that would send from the wrong function fails closed (and loudly)
/// instead of being denied by IAM at run time.
pub struct Unwired;

const UNWIRED: &str = "this function does not send; the notice belongs in the outbox";

#[async_trait::async_trait]
impl Mailer for Unwired {
    async fn send(&self, _: &Mail) -> Result<(), DeliveryError> {
        tracing::error!("{UNWIRED}");
        Err(DeliveryError::Unavailable(UNWIRED.into()))
    }
}

#[async_trait::async_trait]
impl SmsSender for Unwired {
    async fn send(&self, _: &Sms) -> Result<(), DeliveryError> {
        tracing::error!("{UNWIRED}");
        Err(DeliveryError::Unavailable(UNWIRED.into()))
    }
}

#[async_trait::async_trait]
impl VoiceCaller for Unwired {
    async fn call(&self, _: &VoiceCall) -> Result<(), DeliveryError> {
        tracing::error!("{UNWIRED}");
        Err(DeliveryError::Unavailable(UNWIRED.into()))
    }
}

/// CASE-6: where a function keeps attachments. Only create-case has a file
/// store (and the template's S3 rights: `tests/api/infra.rs`).
pub type Files = Result<Arc<dyn FileStore>, ConfigError>;

/// No file store: every call refuses.
pub fn files_none(_: &SdkConfig) -> Files {
    Ok(Arc::new(tobira::files::Unwired))
}

/// The attachments bucket (`TOBIRA_FILES_BUCKET`; `TOBIRA_FILES_ENDPOINT`
/// only for an emulator, path-style).
pub fn files_s3(sdk: &SdkConfig) -> Files {
    let bucket = std::env::var("TOBIRA_FILES_BUCKET")
        .ok()
        .filter(|b| !b.trim().is_empty())
        .ok_or(ConfigError::Missing("TOBIRA_FILES_BUCKET"))?;
    let region = sdk.region().map(|r| r.to_string()).unwrap_or_default();
    let endpoint = std::env::var("TOBIRA_FILES_ENDPOINT").ok();
    let mut config = aws_sdk_s3::config::Builder::from(sdk);
    if endpoint.is_some() {
        config = config.force_path_style(true);
    }
    let client = aws_sdk_s3::Client::from_conf(config.build());
    Ok(Arc::new(s3::S3Files::new(
        client,
        sdk.credentials_provider(),
        bucket,
        region,
        endpoint.as_deref(),
    )))
}

/// MFA-10: the WebAuthn ceremonies a function runs. Only login and
/// enroll-totp run them (`tobira_passkeys::from_config`, linked by their
/// Lambdas alone); the others get none.
pub type Ceremonies = Result<Arc<dyn tobira::webauthn::Ceremonies>, ConfigError>;

/// No ceremonies: every call refuses.
pub fn ceremonies_none(_: &Config) -> Ceremonies {
    Ok(Arc::new(tobira::webauthn::Unwired))
}

/// The production wiring: configuration from the environment, the DynamoDB
/// client and the senders the function names, built once (call at cold start).
pub async fn app_from_env(senders: fn(&SdkConfig, &Config) -> Senders) -> Result<App, ConfigError> {
    app_wired(senders, files_none, ceremonies_none).await
}

/// [`app_from_env`] with a file store (`files`: [`files_s3`] or
/// [`files_none`]) and WebAuthn ceremonies (`ceremonies`).
pub async fn app_wired(
    senders: fn(&SdkConfig, &Config) -> Senders,
    files: fn(&SdkConfig) -> Files,
    ceremonies: fn(&Config) -> Ceremonies,
) -> Result<App, ConfigError> {
    let config = Config::from_env()?;
    let sdk = sdk_config().await;
    let table = config
        .table
        .clone()
        .ok_or(ConfigError::Missing("TOBIRA_TABLE"))?;
    let store = dynamo::DynamoStore::new(aws_sdk_dynamodb::Client::new(&sdk), table);
    if config.prime {
        prime(&store).await;
    }
    let (mailer, sms, voice) = senders(&sdk, &config)?;
    let files = files(&sdk)?;
    let ceremonies = ceremonies(&config)?;
    Ok(App {
        store: Arc::new(store),
        mailer,
        sms,
        voice,
        files,
        ceremonies,
        clock: Arc::new(tobira::clock::SystemClock),
        rng: Arc::new(tobira::random::OsRandom),
        config: Arc::new(config),
    })
}

/// Issue 17 item 3: one cheap read during init (a key nobody holds), so that
/// the connection to DynamoDB — DNS, TCP, TLS — is open before the first
/// invocation, which would otherwise pay for it (about 100 ms at 128 MB in
/// public measurements). Bounded: a slow or failing read only costs init
/// time, never the function (`TOBIRA_PRIME=false` turns it off).
pub async fn prime(store: &dynamo::DynamoStore) {
    use tobira::clock::Clock;
    use tobira::store::{Key, Store};
    let now = tobira::clock::SystemClock.now();
    let key = Key::new("PRIME", "-");
    let read = store.get(&key, now);
    match tokio::time::timeout(std::time::Duration::from_secs(2), read).await {
        Ok(Ok(_)) => tracing::debug!("dynamodb connection primed"),
        Ok(Err(e)) => tracing::warn!(error = %e, "dynamodb priming read failed"),
        Err(_) => tracing::warn!("dynamodb priming read took over 2 s"),
    }
}

/// The `main` of an HTTP Lambda: logging (`tobira_web::init_logging`),
/// configuration and clients once at cold start ([`app_from_env`]), then
/// every request through `$handle` (`async fn(&App, Request) -> Response`).
/// `sends = ` names what the function sends ([`sends_mail`], [`sends_sms`]);
/// without it, [`sends_nothing`]. `files = ` its file store ([`files_s3`]);
/// without it, [`files_none`]. `ceremonies = ` its WebAuthn ceremonies
/// (`tobira_passkeys::from_config`); without it, [`ceremonies_none`]. The
/// calling package depends on `tobira`, `tobira-web`, `tokio` and
/// `lambda_http`.
#[macro_export]
macro_rules! http_lambda_main {
    ($handle:path) => {
        $crate::http_lambda_main!($handle, sends = $crate::sends_nothing);
    };
    ($handle:path, sends = $sends:path) => {
        $crate::http_lambda_main!($handle, sends = $sends, files = $crate::files_none);
    };
    ($handle:path, files = $files:path) => {
        $crate::http_lambda_main!($handle, sends = $crate::sends_nothing, files = $files);
    };
    ($handle:path, ceremonies = $ceremonies:path) => {
        $crate::http_lambda_main!(
            $handle,
            sends = $crate::sends_nothing,
            files = $crate::files_none,
            ceremonies = $ceremonies
        );
    };
    ($handle:path, sends = $sends:path, files = $files:path) => {
        $crate::http_lambda_main!(
            $handle,
            sends = $sends,
            files = $files,
            ceremonies = $crate::ceremonies_none
        );
    };
    ($handle:path, sends = $sends:path, files = $files:path, ceremonies = $ceremonies:path) => {
        #[tokio::main]
        async fn main() -> Result<(), lambda_http::Error> {
            tobira_web::init_logging();
            let app = $crate::app_wired($sends, $files, $ceremonies).await?;
            lambda_http::run(lambda_http::service_fn(|req: lambda_http::Request| {
                let app = app.clone();
                async move {
                    Ok::<_, std::convert::Infallible>(tobira_web::web::LambdaAnswer(
                        $handle(&app, req).await,
                    ))
                }
            }))
            .await
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 17 item 3: a function wired with `sends_nothing` has no client
    /// to send with; a path that would send from it fails closed.
    #[tokio::test]
    async fn a_function_that_sends_nothing_refuses_to_send() {
        let sdk = SdkConfig::builder().build();
        let config = Config::local("https://portal.example.com");
        let (mailer, sms, voice) = sends_nothing(&sdk, &config).expect("nothing to configure");
        let mail = Mail {
            to: "a@example.com".into(),
            subject: "s".into(),
            text: "t".into(),
            html: "h".into(),
        };
        assert!(matches!(
            mailer.send(&mail).await,
            Err(DeliveryError::Unavailable(_))
        ));
        let text = Sms {
            to: "+819012345678".into(),
            text: "t".into(),
        };
        assert!(matches!(
            sms.send(&text).await,
            Err(DeliveryError::Unavailable(_))
        ));
        let call = VoiceCall {
            to: "+819012345678".into(),
            lang: tobira::i18n::Lang::Ja,
            ssml: "<speak>1</speak>".into(),
            text: "1".into(),
        };
        assert!(matches!(
            voice.call(&call).await,
            Err(DeliveryError::Unavailable(_))
        ));
    }
}
