//! The `login` Lambda (a package of its own, so that only the Lambda links the
//! AWS SDK): configuration and clients once at cold start, then every
//! request through [`tobira_login::handle`].

tobira_aws::http_lambda_main!(
    tobira_login::handle,
    ceremonies = tobira_passkeys::from_config
);
