//! The SES v2 and SNS adapters through the real AWS SDK against the local
//! emulator, reading back what it captured (`/moto-api/data.json`).

use tobira::delivery::{Mail, Mailer, Sms, SmsSender};
use tobira_aws::ses::SesMailer;
use tobira_aws::sns::SnsSms;

use crate::support::{aws_endpoint, sdk_config};

async fn captured() -> String {
    // The emulator's record of everything sent, as JSON text.
    let url = format!("{}/moto-api/data.json", aws_endpoint());
    let out = tokio::process::Command::new("curl")
        .arg("-sf")
        .arg(&url)
        .output()
        .await
        .expect("curl");
    assert!(out.status.success(), "GET {url} failed");
    String::from_utf8(out.stdout).unwrap()
}

#[tokio::test]
async fn ses_adapter_sends_through_sesv2() {
    let sdk = sdk_config().await;
    let client = aws_sdk_sesv2::Client::new(&sdk);
    client
        .create_email_identity()
        .email_identity("no-reply@tobira.example")
        .send()
        .await
        .unwrap();
    let mailer = SesMailer::new(client, "no-reply@tobira.example");
    let subject = format!("tobira 初期設定のお知らせ {}", std::process::id());
    let mail = Mail {
        to: "taro.yamada@example.co.jp".into(),
        subject: subject.clone(),
        text: "setup link text".into(),
        html: "<p>setup</p>".into(),
    };
    mailer.send(&mail).await.unwrap();
    let data = captured().await;
    assert!(
        data.contains("taro.yamada@example.co.jp"),
        "SES message not captured"
    );
}

#[tokio::test]
async fn ses_adapter_fails_closed_for_an_unverified_sender() {
    let sdk = sdk_config().await;
    let mailer = SesMailer::new(
        aws_sdk_sesv2::Client::new(&sdk),
        "unverified@nowhere.example",
    );
    let mail = Mail {
        to: "a@example.com".into(),
        subject: "s".into(),
        text: "t".into(),
        html: "h".into(),
    };
    assert!(mailer.send(&mail).await.is_err());
}

#[tokio::test]
async fn sns_adapter_publishes_sms() {
    let sdk = sdk_config().await;
    let sms = SnsSms::new(aws_sdk_sns::Client::new(&sdk));
    let text = format!("tobira code 123456 ({})", std::process::id());
    sms.send(&Sms {
        to: "+819012345678".into(),
        text: text.clone(),
    })
    .await
    .unwrap();
    let data = captured().await;
    assert!(
        data.contains("+819012345678") || data.contains(&text),
        "SMS not captured"
    );
}
