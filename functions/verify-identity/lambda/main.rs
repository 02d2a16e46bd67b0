//! AWS Lambda entry point (its own package, so that only the Lambda links the
//! AWS SDK): configuration and clients once at cold start, then
//! every request through [`tobira_verify_identity::handle`].

use std::convert::Infallible;

use lambda_http::{run, service_fn, Error, Request};

#[tokio::main]
async fn main() -> Result<(), Error> {
    tobira::init_tracing();
    let app = tobira_aws::app_from_env().await?;
    run(service_fn(|req: Request| {
        let app = app.clone();
        async move { Ok::<_, Infallible>(tobira_verify_identity::handle(&app, req).await) }
    }))
    .await
}
