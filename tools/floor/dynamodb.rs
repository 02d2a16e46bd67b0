//! The floor of a function that needs only DynamoDB.

mod common;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    let sdk = common::sdk_config().await;
    let dynamodb = aws_sdk_dynamodb::Client::new(&sdk);
    lambda_http::run(lambda_http::service_fn(move |req| {
        let _keep = &dynamodb;
        common::hello(req)
    }))
    .await
}
