//! E-mail through lettre: SMTP in production, `.eml` files in the data directory by default.
//! Every mail is an outbox message, rendered when it is delivered, so a crash neither loses
//! nor doubles it.

use askama::Template;
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::config::{Config, MailTransport, SmtpTls};

pub enum Mailer {
    File(AsyncFileTransport<Tokio1Executor>),
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
}

impl Mailer {
    pub fn from_config(config: &Config) -> anyhow::Result<Mailer> {
        Ok(match config.mail_transport {
            MailTransport::File => {
                let dir = config.data_dir.join("mail");
                std::fs::create_dir_all(&dir)?;
                Mailer::File(AsyncFileTransport::new(dir))
            }
            MailTransport::Smtp => {
                let host = config.smtp_host.as_str();
                let mut builder = match config.smtp_tls {
                    SmtpTls::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host),
                    SmtpTls::Starttls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(host)?,
                    SmtpTls::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(host)?,
                };
                builder = builder.port(config.smtp_port).timeout(Some(std::time::Duration::from_secs(20)));
                if let Some(user) = &config.smtp_user {
                    builder = builder
                        .credentials(Credentials::new(user.clone(), config.smtp_password.clone().unwrap_or_default()));
                }
                Mailer::Smtp(builder.build())
            }
        })
    }

    pub async fn send(&self, message: Message) -> Result<(), String> {
        match self {
            Mailer::File(t) => t.send(message).await.map(|_| ()).map_err(|e| e.to_string()),
            Mailer::Smtp(t) => t.send(message).await.map(|_| ()).map_err(|e| e.to_string()),
        }
    }
}

/// A receipt (payment approved or confirmed) or a notice that money was returned.
#[derive(Template)]
#[template(path = "email/receipt.txt", escape = "none")]
pub struct ReceiptText<'a> {
    pub r: &'a Receipt,
}

#[derive(Debug, Clone)]
pub struct Receipt {
    pub ru: bool,
    pub subject: String,
    pub name: Option<String>,
    pub merchant: String,
    pub order_number: String,
    pub billnumber: String,
    pub amount: String,
    pub currency: String,
    pub card: String,
    pub state: String,
    pub test_mode: bool,
    pub returned: bool,
}

#[derive(Template)]
#[template(path = "email/receipt.html")]
pub struct ReceiptHtml<'a> {
    pub r: &'a Receipt,
}

#[derive(Debug, Clone)]
pub struct Alert {
    pub ru: bool,
    pub subject: String,
    pub merchant: String,
    pub merchant_number: i64,
    pub url: String,
    pub attempts: i32,
    pub error: String,
}

#[derive(Template)]
#[template(path = "email/alert.txt", escape = "none")]
pub struct AlertText<'a> {
    pub a: &'a Alert,
}

#[derive(Template)]
#[template(path = "email/alert.html")]
pub struct AlertHtml<'a> {
    pub a: &'a Alert,
}

/// Builds a message with a text and an HTML part, with blind copies to `bcc`. A copy address
/// that does not parse is left out (and logged): the customer's e-mail still goes.
pub fn message(
    from: &str,
    to: &str,
    bcc: &[String],
    subject: &str,
    text: String,
    html: String,
) -> Result<Message, String> {
    let from: Mailbox = from.parse().map_err(|e| format!("mail_from: {e}"))?;
    let to: Mailbox = to.parse().map_err(|e| format!("recipient {to:?}: {e}"))?;
    let mut builder = Message::builder().from(from).to(to);
    for copy in bcc {
        match copy.parse::<Mailbox>() {
            Ok(m) => builder = builder.bcc(m),
            Err(e) => tracing::warn!(address = %copy, error = %e, "staff copy address left out"),
        }
    }
    builder.subject(subject).multipart(MultiPart::alternative_plain_html(text, html)).map_err(|e| e.to_string())
}
