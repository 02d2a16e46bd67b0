//! The `verify-identity` Lambda (a package of its own, so that only the Lambda links the
//! AWS SDK): configuration and clients once at cold start, then every
//! request through [`tobira_verify_identity::handle`].

tobira_aws::http_lambda_main!(tobira_verify_identity::handle);
