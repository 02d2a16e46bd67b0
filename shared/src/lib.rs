//! tobira's domain crate: the rules (deterministic, time and randomness as
//! parameters), the ports they need, and the adapters behind those ports.
//!
//! Use cases are methods of [`App`]: `login`, `verify_identity`,
//! `set_initial_password`, `import`, `apply`, `send_setup_links`, ...

pub mod adapters;
pub mod admin;
pub mod app;
pub mod cases;
pub mod claim;
pub mod clock;
pub mod config;
pub mod csrf;
pub mod delivery;
pub mod error;
pub mod i18n;
pub mod ids;
pub mod legacy_hash;
pub mod login;
pub mod messages;
pub mod mfa;
pub mod migration;
pub mod model;
pub mod pages;
pub mod password;
pub mod phone;
pub mod random;
pub mod reset;
pub mod routes;
pub mod session;
pub mod setup;
pub mod softlock;
pub mod store;
pub mod views;
pub mod web;

pub use app::{App, Ctx};
pub use config::Config;
pub use error::{Error, Result};

#[cfg(feature = "aws")]
impl App {
    /// The production wiring: configuration from the environment, DynamoDB,
    /// SES v2 and SNS clients built once (call at cold start).
    pub async fn from_env() -> std::result::Result<Self, config::ConfigError> {
        let config = Config::from_env()?;
        let sdk = adapters::aws::sdk_config().await;
        let table = config
            .table
            .clone()
            .ok_or(config::ConfigError::Missing("TOBIRA_TABLE"))?;
        Ok(Self {
            store: std::sync::Arc::new(adapters::dynamo::DynamoStore::new(
                aws_sdk_dynamodb::Client::new(&sdk),
                table,
            )),
            mailer: std::sync::Arc::new(adapters::ses::SesMailer::new(
                aws_sdk_sesv2::Client::new(&sdk),
                config.mail_from.clone(),
            )),
            sms: std::sync::Arc::new(adapters::sns::SnsSms::new(aws_sdk_sns::Client::new(&sdk))),
            clock: std::sync::Arc::new(clock::SystemClock),
            rng: std::sync::Arc::new(random::OsRandom),
            config: std::sync::Arc::new(config),
        })
    }
}

/// Log lines as JSON for CloudWatch, without ANSI colours, at `RUST_LOG` level.
pub fn init_tracing() {
    lambda_http::tracing::init_default_subscriber();
}
