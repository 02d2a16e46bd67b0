//! Adapters behind the ports.

#[cfg(feature = "aws")]
pub mod aws;
#[cfg(feature = "aws")]
pub mod dynamo;
pub mod fakes;
#[cfg(feature = "aws")]
pub mod ses;
#[cfg(feature = "aws")]
pub mod sns;
#[cfg(feature = "embedded")]
pub mod sqlite;
