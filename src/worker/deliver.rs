//! Delivery of claimed outbox messages, by topic, with the retry schedule of each.

use std::time::Duration;

use askama::Template;
use serde::Deserialize;
use time::PrimitiveDateTime;

use super::claim::{self, Message, Outcome};
use super::mail::{self, Alert, AlertHtml, AlertText, Receipt, ReceiptHtml, ReceiptText};
use super::{Worker, guard, notify, webhook};
use crate::db::models::{Merchant, NewOutboxMessage, Operation, OperationId, Order, OrderId};
use crate::db::{self, StoreError};
use crate::gateway::events::{ASSIST_NOTIFICATION, EMAIL, WEBHOOK};
use crate::money::format_minor;

/// Messages claimed per round, and how long a claim lasts if the worker dies.
const CLAIM: i64 = 64;
const LEASE: time::Duration = time::Duration::minutes(2);

/// Standard Webhooks' schedule, stretched to three days.
const WEBHOOK_RETRY: &[u64] = &[5, 300, 1_800, 7_200, 18_000, 36_000, 36_000, 50_400, 50_400, 50_400];
const EMAIL_RETRY: &[u64] = &[60, 300, 1_800, 7_200, 21_600];

#[derive(Deserialize)]
struct OrderEvent {
    order_id: OrderId,
    operation_id: Option<OperationId>,
    kind: Option<String>,
}

#[derive(Deserialize)]
struct WebhookPayload {
    id: String,
    body: String,
    /// The endpoint it is for; messages written before merchants had several go to the first.
    #[serde(default)]
    endpoint: Option<String>,
}

#[derive(Deserialize)]
struct AlertPayload {
    to: String,
    merchant: String,
    merchant_number: i64,
    url: String,
    attempts: i32,
    error: String,
}

/// What one attempt produced: the outcome, the HTTP status if any.
type Attempt = (Outcome, Option<i32>);

impl Worker {
    /// Claims due messages and delivers them concurrently; returns how many were handled.
    pub async fn deliver_due(&self) -> Result<usize, StoreError> {
        let worker = self.id.clone();
        let messages = self
            .gateway
            .store
            .write(move |c| claim::claim(c, &worker, CLAIM, LEASE, db::now()).map_err(StoreError::from))
            .await?;
        let count = messages.len();
        let mut running = tokio::task::JoinSet::new();
        for message in messages {
            let this = self.handle();
            running.spawn(async move { this.deliver(message).await });
        }
        while let Some(done) = running.join_next().await {
            if let Ok(Err(e)) = done {
                tracing::error!(error = %e, "recording a delivery failed");
            }
        }
        Ok(count)
    }

    fn handle(&self) -> Handle {
        Handle {
            gateway: self.gateway.clone(),
            id: self.id.clone(),
            client: self.client.clone(),
            mailer: self.mailer.clone(),
            config: self.config.clone(),
        }
    }
}

/// What a delivery task needs (cheap clones of the worker's parts).
struct Handle {
    gateway: crate::gateway::Gateway,
    id: String,
    client: reqwest::Client,
    mailer: std::sync::Arc<mail::Mailer>,
    config: crate::config::Config,
}

impl Handle {
    async fn deliver(&self, message: Message) -> Result<(), StoreError> {
        let started = db::now();
        let (outcome, status) = match message.topic.as_str() {
            ASSIST_NOTIFICATION => self.notification(&message).await,
            WEBHOOK => self.webhook(&message).await,
            EMAIL => self.email(&message).await,
            other => (Outcome::Refused(format!("unknown topic {other}")), None),
        };
        let (worker, now) = (self.id.clone(), db::now());
        self.gateway
            .store
            .write(move |c| {
                let held = claim::finish(c, &message, &worker, &outcome, status, started, now)?;
                let dead = matches!(outcome, Outcome::Refused(_) | Outcome::NoAnswer { retry_at: None, .. });
                if held && dead && message.topic != EMAIL {
                    alert_merchant(c, &message, &outcome, now)?;
                }
                Ok(())
            })
            .await
    }

    fn retry(&self, message: &Message, schedule: &[Duration], error: String) -> Outcome {
        let wait = schedule.get(message.attempts as usize - 1);
        let retry_at = wait.map(|w| db::now() + time::Duration::try_from(*w).unwrap_or(time::Duration::HOUR));
        Outcome::NoAnswer { error, retry_at }
    }

    async fn load(&self, message: &Message) -> Result<(Merchant, Order, Option<Operation>, Option<String>), String> {
        let event: OrderEvent = serde_json::from_str(&message.payload).map_err(|e| e.to_string())?;
        self.gateway
            .store
            .read(move |c| {
                let order = Order::find(c, &event.order_id)?;
                let merchant = Merchant::find(c, &order.merchant_id)?;
                let operation = event.operation_id.map(|id| Operation::find(c, &id)).transpose()?;
                Ok::<_, StoreError>((merchant, order, operation, event.kind))
            })
            .await
            .map_err(|e| e.to_string())
    }

    async fn notification(&self, message: &Message) -> Attempt {
        let schedule = self.config.retry_schedule().unwrap_or_default();
        let (merchant, order, operation) = match self.load(message).await {
            Ok((m, o, Some(op), _)) => (m, o, op),
            Ok(_) => return (Outcome::Refused("the notification has no operation".into()), None),
            Err(e) => return (self.retry(message, &schedule, e), None),
        };
        let Some(url) = merchant.notification_url.clone() else {
            return (Outcome::Refused("the merchant has no notification URL".into()), None);
        };
        if let Some(why) = guard::refuse(&url, self.config.outbound_allow_internal) {
            return (Outcome::Refused(why), None);
        }
        let seal = match self.gateway.seal(&merchant).await {
            Ok(seal) => seal,
            Err(e) => return (self.retry(message, &schedule, e.to_string()), None),
        };
        let fields = notify::fields(&merchant, &seal, &order, &operation, self.gateway.processor.name(), db::now());
        // Read at send time: a protocol changed in the admin area applies to the next attempt.
        let soap = notify::Protocol::parse(&merchant.notification_protocol) == Some(notify::Protocol::Soap);
        let request = if soap {
            self.client
                .post(&url)
                .header("content-type", "text/xml; charset=utf-8")
                .header("soapaction", "\"PushPaymentResult\"")
                .body(notify::soap_envelope(&fields))
        } else {
            self.client.post(&url).form(&fields)
        };
        match request.send().await {
            Ok(response) => {
                let status = i32::from(response.status().as_u16());
                let ok_status = response.status().is_success();
                let body = response.text().await.unwrap_or_default();
                let answer = if soap { notify::read_soap_answer(&body) } else { notify::read_answer(&body) };
                let outcome = match (ok_status, answer) {
                    // SOAP 1.1 sends faults with HTTP 500; a fault is an answer, so it is final.
                    (_, notify::Answer::Fault(code)) => Outcome::Refused(format!("SOAP fault {code}")),
                    (true, notify::Answer::Accepted) => Outcome::Delivered,
                    (true, notify::Answer::Refused { firstcode, secondcode }) => {
                        Outcome::Refused(format!("firstcode={firstcode} secondcode={secondcode}"))
                    }
                    (_, _) => self.retry(message, &schedule, format!("HTTP {status}, no pushpaymentresult")),
                };
                (outcome, Some(status))
            }
            Err(e) => (self.retry(message, &schedule, describe(&e)), None),
        }
    }

    async fn webhook(&self, message: &Message) -> Attempt {
        let schedule: Vec<Duration> = WEBHOOK_RETRY.iter().map(|s| Duration::from_secs(*s)).collect();
        let payload: WebhookPayload = match serde_json::from_str(&message.payload) {
            Ok(p) => p,
            Err(e) => return (Outcome::Refused(e.to_string()), None),
        };
        let merchant_id = message.merchant_id.clone();
        let merchant =
            match self.gateway.store.read(move |c| Ok::<_, StoreError>(Merchant::find(c, &merchant_id)?)).await {
                Ok(m) => m,
                Err(e) => return (self.retry(message, &schedule, e.to_string()), None),
            };
        let endpoints = merchant.webhook_endpoints();
        let url = match payload.endpoint.clone() {
            Some(url) if endpoints.contains(&url.as_str()) => url,
            // Taken off the merchant's endpoints since: the events are no longer wanted there.
            Some(url) => return (Outcome::Refused(format!("{url} is no longer a webhook endpoint")), None),
            None => match endpoints.first() {
                Some(url) => (*url).to_owned(),
                None => return (Outcome::Refused("the merchant has no webhook endpoint".into()), None),
            },
        };
        let Some(secrets) = merchant.webhook_secrets.clone() else {
            return (Outcome::Refused("the merchant has no webhook secret".into()), None);
        };
        if let Some(why) = guard::refuse(&url, self.config.outbound_allow_internal) {
            return (Outcome::Refused(why), None);
        }
        let timestamp = time::OffsetDateTime::now_utc().unix_timestamp();
        let secrets: Vec<&str> = secrets.split_whitespace().collect();
        let signature = webhook::signature(&secrets, &payload.id, timestamp, &payload.body);
        let request = self
            .client
            .post(&url)
            .header("content-type", "application/json")
            .header("webhook-id", &payload.id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .body(payload.body);
        match request.send().await {
            Ok(r) if r.status().is_success() => (Outcome::Delivered, Some(i32::from(r.status().as_u16()))),
            Ok(r) => {
                let status = i32::from(r.status().as_u16());
                (self.retry(message, &schedule, format!("HTTP {status}")), Some(status))
            }
            Err(e) => (self.retry(message, &schedule, describe(&e)), None),
        }
    }

    async fn email(&self, message: &Message) -> Attempt {
        let schedule: Vec<Duration> = EMAIL_RETRY.iter().map(|s| Duration::from_secs(*s)).collect();
        let mut bcc = Vec::new();
        let built = if message.order_id.is_none() {
            self.alert_mail(message)
        } else {
            match self.load(message).await {
                // Read at sending time: turning customer e-mails off also holds back those queued.
                Ok((merchant, _, _, _)) if !merchant.customer_emails => Ok(None),
                Ok((merchant, order, operation, kind)) => {
                    bcc = merchant
                        .staff_emails
                        .as_deref()
                        .unwrap_or_default()
                        .split_whitespace()
                        .map(str::to_owned)
                        .collect();
                    receipt_mail(&merchant, &order, operation.as_ref(), kind.as_deref())
                }
                Err(e) => return (self.retry(message, &schedule, e), None),
            }
        };
        let (to, subject, text, html) = match built {
            Ok(Some(parts)) => parts,
            Ok(None) => return (Outcome::Delivered, None),
            Err(e) => return (Outcome::Refused(e), None),
        };
        let mail = match mail::message(&self.config.mail_from, &to, &bcc, &subject, text, html) {
            Ok(m) => m,
            Err(e) => return (Outcome::Refused(e), None),
        };
        match self.mailer.send(mail).await {
            Ok(()) => (Outcome::Delivered, None),
            Err(e) => (self.retry(message, &schedule, e), None),
        }
    }

    fn alert_mail(&self, message: &Message) -> Result<Option<(String, String, String, String)>, String> {
        let p: AlertPayload = serde_json::from_str(&message.payload).map_err(|e| e.to_string())?;
        let alert = Alert {
            ru: false,
            subject: "Kassa cannot deliver your notifications".into(),
            merchant: p.merchant,
            merchant_number: p.merchant_number,
            url: p.url,
            attempts: p.attempts,
            error: p.error,
        };
        let text = AlertText { a: &alert }.render().map_err(|e| e.to_string())?;
        let html = AlertHtml { a: &alert }.render().map_err(|e| e.to_string())?;
        Ok(Some((p.to, alert.subject, text, html)))
    }
}

/// The customer's receipt or returned-money notice; `None` when the order has no e-mail.
fn receipt_mail(
    merchant: &Merchant,
    order: &Order,
    operation: Option<&Operation>,
    kind: Option<&str>,
) -> Result<Option<(String, String, String, String)>, String> {
    let Some(to) = order.email.clone() else { return Ok(None) };
    let ru = order.language == "RU";
    let returned = kind == Some("returned");
    let subject = match (ru, returned) {
        (true, false) => format!("Оплата заказа {}", order.order_number),
        (true, true) => format!("Возврат по заказу {}", order.order_number),
        (false, false) => format!("Payment for order {}", order.order_number),
        (false, true) => format!("Refund for order {}", order.order_number),
    };
    let (amount, currency) = match operation {
        Some(op) => (format_minor(op.amount, &op.currency), op.currency.clone()),
        None => (format_minor(order.amount, &order.currency), order.currency.clone()),
    };
    let receipt = Receipt {
        ru,
        subject: subject.clone(),
        name: order.firstname.clone(),
        merchant: merchant.name.clone(),
        order_number: order.order_number.clone(),
        billnumber: order.billnumber.clone(),
        amount,
        currency,
        card: operation.and_then(|o| o.card_mask.clone()).unwrap_or_default(),
        state: order.state.clone(),
        test_mode: order.test_mode,
        returned,
    };
    let text = ReceiptText { r: &receipt }.render().map_err(|e| e.to_string())?;
    let html = ReceiptHtml { r: &receipt }.render().map_err(|e| e.to_string())?;
    Ok(Some((to, subject, text, html)))
}

/// Tells the merchant's technical contact that a notification or webhook gave up.
fn alert_merchant(
    c: &mut crate::db::AnyConnection,
    message: &Message,
    outcome: &Outcome,
    now: PrimitiveDateTime,
) -> Result<(), StoreError> {
    let merchant = Merchant::find(c, &message.merchant_id)?;
    let Some(to) = merchant.tech_email.clone() else { return Ok(()) };
    let url = if message.topic == WEBHOOK {
        serde_json::from_str::<WebhookPayload>(&message.payload)
            .ok()
            .and_then(|p| p.endpoint)
            .or_else(|| merchant.webhook_endpoints().first().map(|u| (*u).to_owned()))
    } else {
        merchant.notification_url
    };
    let error = match outcome {
        Outcome::Refused(e) | Outcome::NoAnswer { error: e, .. } => e.clone(),
        Outcome::Delivered => return Ok(()),
    };
    let payload = serde_json::json!({
        "to": to,
        "merchant": merchant.name,
        "merchant_number": merchant.merchant_number,
        "url": url.unwrap_or_default(),
        "attempts": message.attempts,
        "error": error,
    });
    NewOutboxMessage::new(EMAIL, &merchant.id, None, &payload, now).insert(c)?;
    Ok(())
}

fn describe(e: &reqwest::Error) -> String {
    if e.is_timeout() { "no answer within the timeout".into() } else { format!("{e}") }
}
