//! Mail through Amazon SES v2.

use async_trait::async_trait;
use aws_sdk_sesv2::types::{Body, Content, Destination, EmailContent, Message};
use aws_sdk_sesv2::Client;

use tobira::delivery::{DeliveryError, Mail, Mailer};

pub struct SesMailer {
    client: Client,
    from: String,
}

impl SesMailer {
    pub fn new(client: Client, from: impl Into<String>) -> Self {
        Self {
            client,
            from: from.into(),
        }
    }
}

fn content(s: &str) -> Result<Content, DeliveryError> {
    Content::builder()
        .data(s)
        .charset("UTF-8")
        .build()
        .map_err(|e| DeliveryError::Unavailable(format!("ses request: {e}")))
}

#[async_trait]
impl Mailer for SesMailer {
    async fn send(&self, mail: &Mail) -> Result<(), DeliveryError> {
        let message = Message::builder()
            .subject(content(&mail.subject)?)
            .body(
                Body::builder()
                    .text(content(&mail.text)?)
                    .html(content(&mail.html)?)
                    .build(),
            )
            .build();
        let r = self
            .client
            .send_email()
            .from_email_address(&self.from)
            .destination(Destination::builder().to_addresses(&mail.to).build())
            .content(EmailContent::builder().simple(message).build())
            .send()
            .await;
        match r {
            Ok(_) => Ok(()),
            Err(e) => match e.as_service_error() {
                Some(se)
                    if se.is_too_many_requests_exception()
                        || se.is_limit_exceeded_exception()
                        || se.is_sending_paused_exception() =>
                {
                    Err(DeliveryError::Throttled)
                }
                Some(se) => Err(DeliveryError::Unavailable(format!("ses: {se}"))),
                None => Err(DeliveryError::Unavailable(format!("ses: {e}"))),
            },
        }
    }
}
