//! The `manage-users` Lambda (a package of its own, so that only the Lambda
//! links the AWS SDK): configuration and clients once at cold start, then
//! every request through [`tobira_manage_users::handle`].

tobira_aws::http_lambda_main!(tobira_manage_users::handle);
