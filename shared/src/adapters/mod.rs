//! Adapters behind the ports.

//! (DynamoDB, SES and SNS live in the `tobira-aws` crate.)

pub mod fakes;
#[cfg(feature = "embedded")]
pub mod sqlite;
