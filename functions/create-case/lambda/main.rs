//! The `create-case` Lambda (a package of its own, so that only the Lambda links the
//! AWS SDK): configuration and clients (DynamoDB, and S3 for CASE-6) once at cold start, then every
//! request through [`tobira_create_case::handle`].

tobira_aws::http_lambda_main!(tobira_create_case::handle, files = tobira_aws::files_s3);
