//! tobira's domain crate: the rules (deterministic, time and randomness as
//! parameters) and the ports they need. The adapters behind the ports live
//! elsewhere: DynamoDB, SES and SNS in `tobira-aws`, SQLite and the outbox
//! in `tobira-local`, the fakes in `tobira-test-kit`.
//!
//! Use cases are methods of [`App`]: `login`, `verify_identity`,
//! `set_initial_password`, `import`, `apply`, `send_setup_links`, ...

pub mod account;
pub mod admin;
pub mod app;
pub mod cases;
pub mod claim;
pub mod clock;
pub mod config;
pub mod delivery;
pub mod directory;
pub mod error;
pub mod files;
pub mod history;
pub mod i18n;
pub mod ids;
pub mod legacy_hash;
pub mod lock_notice;
pub mod login;
pub mod messages;
pub mod mfa;
pub mod migration;
pub mod model;
pub mod outbox;
pub mod password;
pub mod phone;
pub mod random;
pub mod reset;
pub mod session;
pub mod setup;
pub mod softlock;
pub mod store;
pub mod trail;
pub mod webauthn;

pub use app::{App, Ctx};
pub use config::Config;
pub use error::{Error, Result};
