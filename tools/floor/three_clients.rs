//! The floor of a function that builds the DynamoDB, SES v2 and SNS clients.

mod common;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    let sdk = common::sdk_config().await;
    let clients = (
        aws_sdk_dynamodb::Client::new(&sdk),
        aws_sdk_sesv2::Client::new(&sdk),
        aws_sdk_sns::Client::new(&sdk),
    );
    lambda_http::run(lambda_http::service_fn(move |req| {
        let _keep = &clients;
        common::hello(req)
    }))
    .await
}
