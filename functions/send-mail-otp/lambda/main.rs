//! The `send-mail-otp` Lambda (a package of its own, so that only the Lambda links the
//! AWS SDK): configuration and clients once at cold start, then every
//! request through [`tobira_send_mail_otp::handle`].

tobira_aws::http_lambda_main!(tobira_send_mail_otp::handle, sends = tobira_aws::sends_mail);
