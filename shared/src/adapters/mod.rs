//! Adapters behind the ports: here the embedded SQLite store and its outbox;
//! DynamoDB, SES and SNS live in the `tobira-aws` crate, the in-memory fakes
//! in the `tobira-test-kit` crate.

#[cfg(feature = "embedded")]
pub mod sqlite;
