//! AWS Lambda entry point (its own package, so that only the Lambda links the
//! AWS SDK): configuration and clients once at cold start, then
//! every event (EventBridge schedule or an operator's JSON) through
//! [`tobira_migrate_batch::handle`].

use lambda_runtime::{run, service_fn, Diagnostic, Error, LambdaEvent};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    tobira_web::init_logging();
    let app = tobira_aws::app_from_env(tobira_aws::sends_mail).await?;
    run(service_fn(|event: LambdaEvent<Value>| {
        let app = app.clone();
        async move {
            // The error's stable code as the Lambda error type, e.g. `invalid_event`.
            tobira_migrate_batch::handle(&app, event.payload)
                .await
                .map_err(|e| Diagnostic {
                    error_type: e.code().into(),
                    error_message: tobira_web::errors::ops_message(&e),
                })
        }
    }))
    .await
}
