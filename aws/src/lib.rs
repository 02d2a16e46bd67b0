//! tobira's AWS side: the DynamoDB store, the SES v2 mailer and the SNS
//! SMS sender behind the domain's ports, and the production wiring of an
//! [`App`] from the Lambda environment — clients built once, at cold start.
//! Only the Lambda binaries link this crate; the domain, the handlers and
//! the local portal build no AWS SDK.

pub mod dynamo;
pub mod ses;
pub mod sns;

use std::sync::Arc;

use tobira::config::ConfigError;
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

/// The production wiring: configuration from the environment, DynamoDB,
/// SES v2 and SNS clients built once (call at cold start).
pub async fn app_from_env() -> Result<App, ConfigError> {
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
    Ok(App {
        store: Arc::new(store),
        mailer: Arc::new(ses::SesMailer::new(
            aws_sdk_sesv2::Client::new(&sdk),
            config.mail_from.clone(),
        )),
        sms: Arc::new(sns::SnsSms::new(aws_sdk_sns::Client::new(&sdk))),
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
/// The calling package depends on `tobira`, `tobira-web`, `tokio` and
/// `lambda_http`.
#[macro_export]
macro_rules! http_lambda_main {
    ($handle:path) => {
        #[tokio::main]
        async fn main() -> Result<(), lambda_http::Error> {
            tobira_web::init_logging();
            let app = $crate::app_from_env().await?;
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
