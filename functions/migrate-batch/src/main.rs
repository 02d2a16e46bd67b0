//! AWS Lambda entry point: configuration and clients once at cold start, then
//! every event (EventBridge schedule or an operator's JSON) through
//! [`tobira_migrate_batch::handle`].

use lambda_runtime::{run, service_fn, Error, LambdaEvent};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    tobira::init_tracing();
    let app = tobira::App::from_env().await?;
    run(service_fn(|event: LambdaEvent<Value>| {
        let app = app.clone();
        async move {
            tobira_migrate_batch::handle(&app, event.payload)
                .await
                .map_err(Error::from)
        }
    }))
    .await
}
