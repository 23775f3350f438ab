//! Merchants of an enterprise and every setting the rest of Kassa reads from the `merchants` row
//! (and the checkout's frame ancestors): each validated with a message beside its field, and
//! read fresh by every request, so a change takes effect without a restart. The secret word and
//! webhook secrets are generated here and shown once; only the secret word's MD5 is stored.

use std::str::FromStr;
use std::sync::Arc;

use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use diesel::prelude::*;
use serde::Deserialize;
use serde_json::json;

use super::enterprises::EnterpriseRow;
use super::fields::{Errors, diff, is_email, number, optional, optional_email, optional_url, required_text, shown};
use super::session::{Admin, signed_in};
use super::{AdminError, Saved, audit, html, render};
use crate::assist::checkvalue::md5_hex;
use crate::assist::gateway_key::GatewayKey;
use crate::assist::signature;
use crate::db::models::{CheckoutSettings, EnterpriseId, Merchant, MerchantId, valid_origin};
use crate::db::schema::{checkout_settings, merchants};
use crate::db::{self, StoreError};
use crate::gateway::setup::new_merchant;
use crate::money::Currency;
use crate::startup::AppState;

/// The payment means the checkout offers.
pub const MEANS: [&str; 2] = ["card", "wallet"];

/// A new secret word: 24 letters and digits (about 143 bits).
pub fn new_secret_word() -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
    let mut rng = rand::rng();
    (0..24).map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char).collect()
}

#[derive(Debug, Default, Clone, Deserialize)]
pub struct NewMerchantForm {
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub number: String,
    #[serde(default)]
    pub name: String,
}

/// Creates a test-mode merchant with Kassa's defaults and a fresh secret word, shown once.
pub async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    form: web::Form<NewMerchantForm>,
) -> Result<HttpResponse, AdminError> {
    let admin = signed_in(&req, &state).await?;
    let form = form.into_inner();
    admin.check_csrf(&form.csrf)?;
    let enterprise = EnterpriseId(path.into_inner());
    let mut errors = Errors::default();
    let number = number(&mut errors, "number", &form.number, 1, 999_999_999_999);
    let name = required_text(&mut errors, "merchant_name", &form.name, 200);
    if errors.is_empty() {
        let taken = state.gateway.store.read(move |c| Ok::<_, StoreError>(Merchant::by_number(c, number)?)).await?;
        if taken.is_some() {
            errors.add("number", "Another merchant has this Merchant_ID.");
        }
    }
    if !errors.is_empty() {
        let body = super::enterprises::show_page(&state, admin, &enterprise.0, form, errors).await?;
        return Ok(HttpResponse::BadRequest().content_type("text/html; charset=utf-8").body(body));
    }
    let secret = new_secret_word();
    let merchant = new_merchant(&enterprise, number, &name, &secret);
    let row = merchant.clone();
    let e = enterprise.clone();
    let inserted = state
        .gateway
        .store
        .write(move |c| {
            if EnterpriseRow::find(c, &e)?.is_none() {
                return Ok(false);
            }
            diesel::insert_into(merchants::table).values(&row).execute(c)?;
            Ok::<_, StoreError>(true)
        })
        .await;
    match inserted {
        Ok(true) => {}
        Ok(false) => return Err(AdminError::NotFound),
        Err(e) if e.is_unique_violation() => {
            let mut errors = Errors::default();
            errors.add("number", "Another merchant has this Merchant_ID.");
            let body = super::enterprises::show_page(&state, admin, &enterprise.0, form, errors).await?;
            return Ok(HttpResponse::BadRequest().content_type("text/html; charset=utf-8").body(body));
        }
        Err(e) => return Err(e.into()),
    }
    let detail = json!({
        "enterprise": enterprise.0,
        "merchant_number": number,
        "changes": diff(&[("name", String::new(), name)]),
    });
    audit(&state, &admin, Some(merchant.id.clone()), "admin.merchant_create", detail).await;
    let page = load(&state, &merchant.id.0).await?;
    let body = render(&page.into_view(admin, Errors::default(), None, Some(Shown::SecretWord(secret))))?;
    Ok(html(body))
}

/// A secret generated just now, on the one page that shows it.
pub enum Shown {
    SecretWord(String),
    WebhookSecret(String),
    /// Made when a webhook URL is first saved.
    FirstWebhookSecret(String),
}

/// The settings form as typed (checkboxes are present when ticked).
#[derive(Debug, Default, Clone, Deserialize)]
pub struct SettingsForm {
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub name: String,
    pub active: Option<String>,
    pub test_mode: Option<String>,
    pub means_card: Option<String>,
    pub means_wallet: Option<String>,
    #[serde(default)]
    pub currencies: String,
    #[serde(default)]
    pub payment_currency: String,
    pub two_stage_allowed: Option<String>,
    #[serde(default)]
    pub payment_timeout_minutes: String,
    #[serde(default)]
    pub confirm_window_hours: String,
    #[serde(default)]
    pub deadline_policy: String,
    #[serde(default)]
    pub url_return: String,
    #[serde(default)]
    pub url_return_ok: String,
    #[serde(default)]
    pub url_return_no: String,
    #[serde(default)]
    pub checkvalue_mode: String,
    #[serde(default)]
    pub response_variant: String,
    #[serde(default)]
    pub rsa_public_key: String,
    pub signature_required: Option<String>,
    #[serde(default)]
    pub notification_url: String,
    #[serde(default)]
    pub notification_protocol: String,
    #[serde(default)]
    pub webhook_url: String,
    #[serde(default)]
    pub tech_email: String,
    pub customer_emails: Option<String>,
    #[serde(default)]
    pub staff_emails: String,
    #[serde(default)]
    pub frame_ancestors: String,
    #[serde(default)]
    pub min_amount: String,
    #[serde(default)]
    pub max_amount: String,
    #[serde(default)]
    pub daily_cap: String,
    #[serde(default)]
    pub after_payment: String,
}

/// How many staff addresses may get a copy of each customer e-mail.
const MAX_STAFF_EMAILS: usize = 5;

/// How many endpoints each webhook event may go to.
const MAX_WEBHOOK_ENDPOINTS: usize = 5;

/// A stored limit as the form shows it (`1500.00`), empty when none.
fn amount_text(minor: Option<i64>, currency: &str) -> String {
    minor.map(|m| crate::money::format_minor(m, currency)).unwrap_or_default()
}

/// An optional amount in `currency`, or the message beside its field.
fn limit(e: &mut Errors, field: &'static str, text: &str, currency: Option<Currency>) -> Option<i64> {
    let t = text.trim();
    if t.is_empty() {
        return None;
    }
    let currency = currency?;
    match crate::money::Money::parse(t, currency) {
        Ok(m) => Some(m.minor),
        Err(err) => {
            e.add(field, format!("An amount in {} like 1500.00 ({err}).", currency.code()));
            None
        }
    }
}

fn on(v: bool) -> Option<String> {
    v.then(|| "on".to_owned())
}

impl SettingsForm {
    pub fn of(m: &Merchant, frame_ancestors: &str) -> SettingsForm {
        SettingsForm {
            csrf: String::new(),
            name: m.name.clone(),
            active: on(m.active),
            test_mode: on(m.test_mode),
            means_card: on(m.accepts_means("card")),
            means_wallet: on(m.accepts_means("wallet")),
            currencies: m.currencies.clone(),
            payment_currency: m.payment_currency.clone(),
            two_stage_allowed: on(m.two_stage_allowed),
            payment_timeout_minutes: (m.payment_timeout_secs / 60).to_string(),
            confirm_window_hours: (m.confirm_window_secs / 3600).to_string(),
            deadline_policy: m.deadline_policy.clone(),
            url_return: shown(&m.url_return),
            url_return_ok: shown(&m.url_return_ok),
            url_return_no: shown(&m.url_return_no),
            checkvalue_mode: m.checkvalue_mode.clone(),
            response_variant: m.response_variant.clone(),
            rsa_public_key: shown(&m.rsa_public_key),
            signature_required: on(m.signature_required),
            notification_url: shown(&m.notification_url),
            notification_protocol: m.notification_protocol.clone(),
            webhook_url: shown(&m.webhook_url),
            tech_email: shown(&m.tech_email),
            customer_emails: on(m.customer_emails),
            staff_emails: shown(&m.staff_emails),
            frame_ancestors: frame_ancestors.to_owned(),
            min_amount: amount_text(m.min_amount, &m.payment_currency),
            max_amount: amount_text(m.max_amount, &m.payment_currency),
            daily_cap: amount_text(m.daily_cap, &m.payment_currency),
            after_payment: m.after_payment.clone(),
        }
    }

    pub fn checked(&self, field: &str) -> bool {
        match field {
            "active" => self.active.is_some(),
            "test_mode" => self.test_mode.is_some(),
            "means_card" => self.means_card.is_some(),
            "means_wallet" => self.means_wallet.is_some(),
            "two_stage_allowed" => self.two_stage_allowed.is_some(),
            "signature_required" => self.signature_required.is_some(),
            "customer_emails" => self.customer_emails.is_some(),
            _ => false,
        }
    }
}

/// The checked settings, written as one changeset.
#[derive(Debug, Clone, AsChangeset)]
#[diesel(table_name = merchants, treat_none_as_null = true)]
pub struct Settings {
    name: String,
    active: bool,
    test_mode: bool,
    payment_means: String,
    currencies: String,
    payment_currency: String,
    two_stage_allowed: bool,
    payment_timeout_secs: i64,
    confirm_window_secs: i64,
    deadline_policy: String,
    url_return: Option<String>,
    url_return_ok: Option<String>,
    url_return_no: Option<String>,
    checkvalue_mode: String,
    response_variant: String,
    rsa_public_key: Option<String>,
    signature_required: bool,
    notification_url: Option<String>,
    notification_protocol: String,
    webhook_url: Option<String>,
    tech_email: Option<String>,
    customer_emails: bool,
    staff_emails: Option<String>,
    min_amount: Option<i64>,
    max_amount: Option<i64>,
    daily_cap: Option<i64>,
    after_payment: String,
}

/// Checks every field; the errors name the field they belong beside.
pub fn validate(f: &SettingsForm) -> Result<(Settings, String), Errors> {
    let mut e = Errors::default();
    let name = required_text(&mut e, "name", &f.name, 200);
    let means: Vec<&str> = MEANS.into_iter().filter(|m| f.checked(&format!("means_{m}"))).collect();
    if means.is_empty() {
        e.add("means", "Choose at least one payment means.");
    }
    let mut currencies: Vec<&'static str> = Vec::new();
    for code in f.currencies.split([',', ' ']).map(str::trim).filter(|c| !c.is_empty()) {
        match Currency::from_str(code) {
            Ok(c) if !currencies.contains(&c.code()) => currencies.push(c.code()),
            Ok(_) => {}
            Err(_) => e.add("currencies", format!("Unknown currency {code}; use ISO codes like RUB, USD, EUR.")),
        }
    }
    if currencies.is_empty() && e.get("currencies").is_none() {
        e.add("currencies", "Allow at least one currency.");
    }
    let pay = Currency::from_str(&f.payment_currency).ok();
    if pay.is_none() {
        e.add("payment_currency", "Unknown currency; use an ISO code like RUB.");
    }
    let payment_currency = pay.map(|c| c.code().to_owned()).unwrap_or_default();
    let min_amount = limit(&mut e, "min_amount", &f.min_amount, pay);
    let max_amount = limit(&mut e, "max_amount", &f.max_amount, pay);
    let daily_cap = limit(&mut e, "daily_cap", &f.daily_cap, pay);
    if let (Some(min), Some(max)) = (min_amount, max_amount)
        && min > max
    {
        e.add("max_amount", "The maximum is below the minimum.");
    }
    if let (Some(max), Some(cap)) = (max_amount, daily_cap)
        && cap < max
    {
        e.add("daily_cap", "The daily cap is below the largest order allowed.");
    }
    let timeout = number(&mut e, "payment_timeout_minutes", &f.payment_timeout_minutes, 1, 10_080);
    let window = number(&mut e, "confirm_window_hours", &f.confirm_window_hours, 1, 720);
    let deadline_policy = f.deadline_policy.trim().to_owned();
    if !["reverse", "confirm"].contains(&deadline_policy.as_str()) {
        e.add("deadline_policy", "Choose reverse or confirm.");
    }
    let checkvalue_mode = f.checkvalue_mode.trim().to_owned();
    if !["off", "delimited", "concatenated"].contains(&checkvalue_mode.as_str()) {
        e.add("checkvalue_mode", "Choose off, delimited or concatenated.");
    }
    let response_variant = f.response_variant.trim().to_owned();
    if !["A", "B"].contains(&response_variant.as_str()) {
        e.add("response_variant", "Choose A or B.");
    }
    let rsa_public_key = match optional(&f.rsa_public_key) {
        None => None,
        Some(pem) => match signature::parse_public_key(&pem) {
            Ok(key) => Some(signature::to_pem(&key)),
            Err(message) => {
                e.add("rsa_public_key", message);
                None
            }
        },
    };
    let signature_required = f.checked("signature_required");
    if signature_required && rsa_public_key.is_none() && e.get("rsa_public_key").is_none() {
        e.add("signature_required", "Signature mode needs the merchant's RSA public key above.");
    }
    let url_return = optional_url(&mut e, "url_return", &f.url_return, false);
    let url_return_ok = optional_url(&mut e, "url_return_ok", &f.url_return_ok, false);
    let url_return_no = optional_url(&mut e, "url_return_no", &f.url_return_no, false);
    let notification_url = optional_url(&mut e, "notification_url", &f.notification_url, false);
    let notification_protocol = f.notification_protocol.trim().to_owned();
    if crate::worker::notify::Protocol::parse(&notification_protocol).is_none() {
        e.add("notification_protocol", "Choose HTTP POST or SOAP.");
    }
    let endpoints: Vec<&str> = f.webhook_url.split_whitespace().collect();
    let mut webhook_endpoints: Vec<String> = Vec::new();
    if endpoints.len() > MAX_WEBHOOK_ENDPOINTS {
        e.add("webhook_url", format!("At most {MAX_WEBHOOK_ENDPOINTS} endpoints."));
    }
    for url in endpoints.into_iter().take(MAX_WEBHOOK_ENDPOINTS) {
        if let Some(url) = optional_url(&mut e, "webhook_url", url, false).filter(|u| !webhook_endpoints.contains(u)) {
            webhook_endpoints.push(url);
        }
    }
    let webhook_url = Some(webhook_endpoints.join(" ")).filter(|s| !s.is_empty());
    let tech_email = optional_email(&mut e, "tech_email", &f.tech_email);
    let staff: Vec<&str> = f.staff_emails.split_whitespace().collect();
    if staff.len() > MAX_STAFF_EMAILS {
        e.add("staff_emails", format!("At most {MAX_STAFF_EMAILS} addresses."));
    } else if let Some(bad) = staff.iter().find(|a| !is_email(a)) {
        e.add("staff_emails", format!("{bad} is not an e-mail address like ops@shop.example."));
    }
    let staff_emails = Some(staff.join(" ")).filter(|s| !s.is_empty());
    let origins: Vec<&str> = f.frame_ancestors.split_whitespace().collect();
    let after_payment = f.after_payment.trim().to_owned();
    if !["result", "redirect"].contains(&after_payment.as_str()) {
        e.add("after_payment", "Choose the result page or a redirect.");
    } else if after_payment == "redirect" && url_return.is_none() && url_return_ok.is_none() {
        e.add("after_payment", "A redirect needs a return URL (or a return URL after success).");
    }
    if let Some(bad) = origins.iter().find(|o| !valid_origin(o)) {
        e.add("frame_ancestors", format!("{bad} is not an origin like https://shop.example (no path)."));
    }
    if !e.is_empty() {
        return Err(e);
    }
    let settings = Settings {
        name,
        active: f.checked("active"),
        test_mode: f.checked("test_mode"),
        payment_means: means.join(","),
        currencies: currencies.join(","),
        payment_currency,
        two_stage_allowed: f.checked("two_stage_allowed"),
        payment_timeout_secs: timeout * 60,
        confirm_window_secs: window * 3600,
        deadline_policy,
        url_return,
        url_return_ok,
        url_return_no,
        checkvalue_mode,
        response_variant,
        rsa_public_key,
        signature_required,
        notification_url,
        notification_protocol,
        webhook_url,
        tech_email,
        customer_emails: f.checked("customer_emails"),
        staff_emails,
        min_amount,
        max_amount,
        daily_cap,
        after_payment,
    };
    Ok((settings, origins.join(" ")))
}

/// What [`apply_settings`] stored.
pub(crate) struct Applied {
    /// The merchant as stored now.
    pub merchant: Merchant,
    /// What changed, as the audit log shows it: `{field: {old, new}}`, compared as stored, so a
    /// change of spelling alone (a currency list's order) is no change.
    pub changes: serde_json::Value,
    /// The first webhook secret given was stored (no rotation got there first).
    pub webhook_secret_set: bool,
}

/// Stores checked settings of merchant `id`, and `first_webhook_secret` if it still has none, in
/// one transaction.
pub(crate) async fn apply_settings(
    store: &db::Store,
    id: &MerchantId,
    settings: Settings,
    origins: String,
    first_webhook_secret: Option<String>,
) -> Result<Applied, StoreError> {
    let id = id.clone();
    store
        .write(move |c| {
            let stored = |c: &mut db::AnyConnection| -> QueryResult<(Merchant, Vec<(&'static str, String)>)> {
                let m: Merchant = merchants::table.find(&id).select(Merchant::as_select()).first(c)?;
                let ancestors = CheckoutSettings::of_merchant(c, &m.id)?.map(|s| s.frame_ancestors).unwrap_or_default();
                let view = audit_view(&SettingsForm::of(&m, &ancestors));
                Ok((m, view))
            };
            let (_, old) = stored(c)?;
            diesel::update(merchants::table.find(&id)).set(&settings).execute(c)?;
            if origins.is_empty() {
                diesel::delete(checkout_settings::table.find(&id)).execute(c)?;
            } else {
                CheckoutSettings { merchant_id: id.clone(), frame_ancestors: origins, updated_at: db::now() }
                    .save(c)?;
            }
            let webhook_secret_set = match first_webhook_secret {
                // Unless a rotation got there first: its secret is the one the shop was given.
                Some(secret) => {
                    diesel::update(merchants::table.find(&id).filter(merchants::webhook_secrets.is_null()))
                        .set(merchants::webhook_secrets.eq(Some(secret)))
                        .execute(c)?
                        == 1
                }
                None => false,
            };
            let (merchant, new) = stored(c)?;
            let pairs: Vec<(&str, String, String)> =
                old.into_iter().zip(new).map(|((field, before), (_, after))| (field, before, after)).collect();
            Ok::<_, StoreError>(Applied { merchant, changes: diff(&pairs), webhook_secret_set })
        })
        .await
}

/// The settings as the audit log compares them (never a secret).
fn audit_view(f: &SettingsForm) -> Vec<(&'static str, String)> {
    vec![
        ("name", f.name.trim().to_owned()),
        ("active", f.checked("active").to_string()),
        ("test_mode", f.checked("test_mode").to_string()),
        ("means_card", f.checked("means_card").to_string()),
        ("means_wallet", f.checked("means_wallet").to_string()),
        ("currencies", f.currencies.clone()),
        ("payment_currency", f.payment_currency.clone()),
        ("two_stage_allowed", f.checked("two_stage_allowed").to_string()),
        ("payment_timeout_minutes", f.payment_timeout_minutes.clone()),
        ("confirm_window_hours", f.confirm_window_hours.clone()),
        ("deadline_policy", f.deadline_policy.clone()),
        ("url_return", f.url_return.clone()),
        ("url_return_ok", f.url_return_ok.clone()),
        ("url_return_no", f.url_return_no.clone()),
        ("checkvalue_mode", f.checkvalue_mode.clone()),
        ("response_variant", f.response_variant.clone()),
        // The key is public, but a fingerprint reads better in the log than a PEM block.
        ("rsa_public_key", key_fingerprint(&f.rsa_public_key)),
        ("signature_required", f.checked("signature_required").to_string()),
        ("notification_url", f.notification_url.clone()),
        ("notification_protocol", f.notification_protocol.clone()),
        ("webhook_url", f.webhook_url.clone()),
        ("tech_email", f.tech_email.clone()),
        ("customer_emails", f.checked("customer_emails").to_string()),
        ("staff_emails", f.staff_emails.split_whitespace().collect::<Vec<_>>().join(" ")),
        ("frame_ancestors", f.frame_ancestors.clone()),
        ("min_amount", f.min_amount.clone()),
        ("max_amount", f.max_amount.clone()),
        ("daily_cap", f.daily_cap.clone()),
        ("after_payment", f.after_payment.clone()),
    ]
}

/// What the audit log shows of a stored public key: its fingerprint, empty when none.
fn key_fingerprint(pem: &str) -> String {
    optional(pem)
        .and_then(|p| signature::parse_public_key(&p).ok())
        .map(|k| signature::fingerprint(&k))
        .unwrap_or_default()
}

/// A merchant with what its page shows besides the row.
struct Loaded {
    merchant: Merchant,
    enterprise: EnterpriseRow,
    frame_ancestors: String,
    signing_key: Arc<GatewayKey>,
}

async fn load(state: &AppState, id: &str) -> Result<Loaded, AdminError> {
    let id = MerchantId(id.to_owned());
    let signing_key = state.gateway.signing_key().await.map_err(|e| {
        tracing::error!(error = %e, "admin: no signing key");
        AdminError::Internal
    })?;
    state
        .gateway
        .store
        .read(move |c| {
            let Some(merchant) = merchants::table.find(&id).select(Merchant::as_select()).first(c).optional()? else {
                return Ok(None);
            };
            let enterprise = EnterpriseRow::find(c, &merchant.enterprise_id)?.ok_or(diesel::result::Error::NotFound)?;
            let frame_ancestors =
                CheckoutSettings::of_merchant(c, &merchant.id)?.map(|s| s.frame_ancestors).unwrap_or_default();
            Ok::<_, StoreError>(Some(Loaded { merchant, enterprise, frame_ancestors, signing_key }))
        })
        .await?
        .ok_or(AdminError::NotFound)
}

#[derive(Template)]
#[template(path = "admin/merchant.html")]
struct MerchantPage {
    admin: Admin,
    merchant: Merchant,
    enterprise: EnterpriseRow,
    form: SettingsForm,
    errors: Errors,
    notice: Option<&'static str>,
    shown: Option<Shown>,
    webhook_secrets: usize,
    /// Kassa's public signing key, for the admin to hand to a merchant in signature mode.
    fingerprint: String,
    public_pem: String,
}

impl Loaded {
    fn into_view(
        self,
        admin: Admin,
        errors: Errors,
        notice: Option<&'static str>,
        shown: Option<Shown>,
    ) -> MerchantPage {
        let form = SettingsForm::of(&self.merchant, &self.frame_ancestors);
        self.with_form(admin, form, errors, notice, shown)
    }

    fn with_form(
        self,
        admin: Admin,
        form: SettingsForm,
        errors: Errors,
        notice: Option<&'static str>,
        shown: Option<Shown>,
    ) -> MerchantPage {
        let webhook_secrets = self.merchant.webhook_secrets.as_deref().map_or(0, |s| s.split_whitespace().count());
        MerchantPage {
            admin,
            merchant: self.merchant,
            enterprise: self.enterprise,
            form,
            errors,
            notice,
            shown,
            webhook_secrets,
            fingerprint: self.signing_key.fingerprint().to_owned(),
            public_pem: self.signing_key.public_pem().to_owned(),
        }
    }
}

pub async fn show(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    query: web::Query<Saved>,
) -> Result<HttpResponse, AdminError> {
    let admin = signed_in(&req, &state).await?;
    let loaded = load(&state, &path).await?;
    let notice = query.saved.as_ref().map(|_| "Saved. The change applies to the next request.");
    Ok(html(render(&loaded.into_view(admin, Errors::default(), notice, None))?))
}

pub async fn save(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    form: web::Form<SettingsForm>,
) -> Result<HttpResponse, AdminError> {
    let admin = signed_in(&req, &state).await?;
    let form = form.into_inner();
    admin.check_csrf(&form.csrf)?;
    let loaded = load(&state, &path).await?;
    let (settings, origins) = match validate(&form) {
        Ok(v) => v,
        Err(errors) => {
            let body = render(&loaded.with_form(admin, form, errors, None, None))?;
            return Ok(HttpResponse::BadRequest().content_type("text/html; charset=utf-8").body(body));
        }
    };
    // The worker signs every webhook and refuses to send one unsigned, so a URL saved without a
    // secret would fail every delivery: the first URL comes with its secret, shown once.
    let first_secret = (settings.webhook_url.is_some() && loaded.merchant.webhook_secrets.is_none())
        .then(crate::worker::webhook::new_secret);
    let applied =
        apply_settings(&state.gateway.store, &loaded.merchant.id, settings, origins, first_secret.clone()).await?;
    let (merchant, changes) = (applied.merchant, applied.changes);
    if changes.as_object().is_some_and(|m| !m.is_empty()) {
        let detail = json!({
            "enterprise": loaded.enterprise.id.0,
            "merchant_number": merchant.merchant_number,
            "changes": changes,
        });
        audit(&state, &admin, Some(merchant.id.clone()), "admin.merchant_update", detail).await;
    }
    if let (Some(secret), true) = (first_secret, applied.webhook_secret_set) {
        let detail = json!({ "enterprise": loaded.enterprise.id.0, "merchant_number": merchant.merchant_number });
        audit(&state, &admin, Some(merchant.id.clone()), "admin.webhook_secret_create", detail).await;
        let now = load(&state, &path).await?;
        // Shown on the answer itself: a redirect could not carry it, and it is shown only now.
        let notice = Some("Saved. The change applies to the next request.");
        let page = now.into_view(admin, Errors::default(), notice, Some(Shown::FirstWebhookSecret(secret)));
        return Ok(html(render(&page)?));
    }
    Ok(HttpResponse::SeeOther().insert_header(("Location", format!("/admin/merchants/{}?saved=1", path))).finish())
}

#[derive(Deserialize)]
pub struct SecretForm {
    csrf: String,
    /// `secret_word`, `webhook_secret` (a new one, the newest old one kept for the rotation) or
    /// `webhook_retire` (keep only the newest).
    kind: String,
}

/// Generates a new secret word or webhook secret and shows it once; the audit entry says that
/// it changed, never what it is.
pub async fn rotate_secret(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    form: web::Form<SecretForm>,
) -> Result<HttpResponse, AdminError> {
    let admin = signed_in(&req, &state).await?;
    admin.check_csrf(&form.csrf)?;
    let loaded = load(&state, &path).await?;
    let id = loaded.merchant.id.clone();
    let (action, shown, notice) = match form.kind.as_str() {
        "secret_word" => {
            let secret = new_secret_word();
            let hash = md5_hex(&secret);
            let target = id.clone();
            state
                .gateway
                .store
                .write(move |c| {
                    diesel::update(merchants::table.find(target))
                        .set(merchants::secret_md5.eq(hash))
                        .execute(c)
                        .map_err(StoreError::from)
                })
                .await?;
            ("admin.merchant_secret_rotate", Some(Shown::SecretWord(secret)), None)
        }
        "webhook_secret" => {
            let secret = crate::worker::webhook::new_secret();
            // The newest previous secret stays valid until retired, so the shop can switch over.
            let keep = loaded.merchant.webhook_secrets.as_deref().and_then(|s| s.split_whitespace().next());
            let all = match keep {
                Some(old) => format!("{secret} {old}"),
                None => secret.clone(),
            };
            let target = id.clone();
            state
                .gateway
                .store
                .write(move |c| {
                    diesel::update(merchants::table.find(target))
                        .set(merchants::webhook_secrets.eq(Some(all)))
                        .execute(c)
                        .map_err(StoreError::from)
                })
                .await?;
            ("admin.webhook_secret_rotate", Some(Shown::WebhookSecret(secret)), None)
        }
        "webhook_retire" => {
            let newest = loaded.merchant.webhook_secrets.as_deref().and_then(|s| s.split_whitespace().next());
            let newest = newest.map(str::to_owned);
            let target = id.clone();
            state
                .gateway
                .store
                .write(move |c| {
                    diesel::update(merchants::table.find(target))
                        .set(merchants::webhook_secrets.eq(newest))
                        .execute(c)
                        .map_err(StoreError::from)
                })
                .await?;
            ("admin.webhook_secret_retire", None, Some("Only the newest webhook secret signs from now on."))
        }
        _ => return Err(AdminError::BadRequest("Unknown secret.".into())),
    };
    let detail = json!({
        "enterprise": loaded.enterprise.id.0,
        "merchant_number": loaded.merchant.merchant_number,
    });
    audit(&state, &admin, Some(id), action, detail).await;
    let page = load(&state, &path).await?;
    Ok(html(render(&page.into_view(admin, Errors::default(), notice, shown))?))
}
