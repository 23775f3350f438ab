//! The merchant settings a manager keeps up in the account (`/account/settings`): where the
//! customer returns after paying, how the shop hears of payments and which e-mails go out. The
//! rest — means, currencies, limits, test or live, check values and keys, webhooks — is the
//! platform's: shown here, changed in the admin area. Both surfaces check and store through the
//! same code, and every change goes to the audit log as old → new.

use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use diesel::prelude::*;
use serde::Deserialize;

use super::login::{html, render};
use super::session::{Account, signed_in};
use super::{AccountError, Role, stats};
use crate::db::StoreError;
use crate::db::models::{CheckoutSettings, Merchant};
use crate::db::schema::merchants;
use crate::startup::AppState;
use crate::web::admin::fields::Errors;
use crate::web::admin::merchants::{SettingsForm, apply_settings, validate};

/// The fields a manager may change; the others keep their stored values.
#[derive(Debug, Default, Deserialize)]
pub struct ManagerForm {
    csrf: String,
    #[serde(default)]
    url_return: String,
    #[serde(default)]
    url_return_ok: String,
    #[serde(default)]
    url_return_no: String,
    #[serde(default)]
    after_payment: String,
    #[serde(default)]
    notification_url: String,
    #[serde(default)]
    notification_protocol: String,
    #[serde(default)]
    tech_email: String,
    customer_emails: Option<String>,
    #[serde(default)]
    staff_emails: String,
}

impl ManagerForm {
    /// The stored settings with this form's fields put over them.
    fn over(self, stored: SettingsForm) -> SettingsForm {
        SettingsForm {
            url_return: self.url_return,
            url_return_ok: self.url_return_ok,
            url_return_no: self.url_return_no,
            after_payment: self.after_payment,
            notification_url: self.notification_url,
            notification_protocol: self.notification_protocol,
            tech_email: self.tech_email,
            customer_emails: self.customer_emails,
            staff_emails: self.staff_emails,
            ..stored
        }
    }
}

#[derive(Template)]
#[template(path = "account/settings.html")]
struct SettingsPage {
    account: Account,
    /// The merchants the user manages (Assist `Merchant_ID`), to switch between.
    managed: Vec<i64>,
    merchant: Merchant,
    form: SettingsForm,
    errors: Errors,
    saved: bool,
}

#[derive(Deserialize)]
pub struct Query {
    saved: Option<String>,
}

/// The merchants of the enterprise the user is a manager of, by number.
async fn managed(state: &AppState, account: &Account) -> Result<Vec<(String, i64)>, AccountError> {
    let (enterprise, listed) = (account.enterprise.clone(), account.access.merchants());
    let visible = state
        .gateway
        .store
        .read(move |c| stats::visible_merchants(c, &enterprise, listed).map_err(StoreError::from))
        .await?;
    Ok(visible
        .into_iter()
        .filter(|(id, _)| account.access.role_for(&crate::db::models::MerchantId(id.clone())) == Some(Role::Manager))
        .collect())
}

/// The merchant `number` with its stored settings, if the user manages it; another
/// enterprise's merchant does not exist for the user.
async fn load(
    state: &AppState,
    account: &Account,
    number: i64,
) -> Result<(Vec<i64>, Merchant, SettingsForm), AccountError> {
    let managed = managed(state, account).await?;
    let Some((id, _)) = managed.iter().find(|(_, n)| *n == number).cloned() else {
        let enterprise = account.enterprise.clone();
        let exists = state
            .gateway
            .store
            .read(move |c| {
                merchants::table
                    .filter(merchants::enterprise_id.eq(enterprise))
                    .filter(merchants::merchant_number.eq(number))
                    .count()
                    .get_result::<i64>(c)
                    .map_err(StoreError::from)
            })
            .await?;
        return Err(if exists > 0 { AccountError::Forbidden } else { AccountError::NotFound });
    };
    let (merchant, ancestors) = state
        .gateway
        .store
        .read(move |c| {
            let m: Merchant = merchants::table.find(&id).select(Merchant::as_select()).first(c)?;
            let ancestors = CheckoutSettings::of_merchant(c, &m.id)?.map(|s| s.frame_ancestors).unwrap_or_default();
            Ok::<_, StoreError>((m, ancestors))
        })
        .await?;
    let form = SettingsForm::of(&merchant, &ancestors);
    Ok((managed.into_iter().map(|(_, n)| n).collect(), merchant, form))
}

/// `/account/settings`: the first merchant the user manages.
pub async fn index(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, AccountError> {
    let account = signed_in(&req, &state).await?;
    let first = managed(&state, &account).await?.first().map(|(_, n)| *n).ok_or(AccountError::Forbidden)?;
    Ok(HttpResponse::SeeOther().insert_header(("Location", format!("/account/settings/{first}"))).finish())
}

pub async fn show(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<i64>,
    query: web::Query<Query>,
) -> Result<HttpResponse, AccountError> {
    let account = signed_in(&req, &state).await?;
    let (managed, merchant, form) = load(&state, &account, *path).await?;
    let saved = query.saved.is_some();
    Ok(html(render(&SettingsPage { account, managed, merchant, form, errors: Errors::default(), saved })?))
}

pub async fn save(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<i64>,
    form: web::Form<ManagerForm>,
) -> Result<HttpResponse, AccountError> {
    let account = signed_in(&req, &state).await?;
    account.check_csrf(&form.csrf)?;
    let (managed, merchant, stored) = load(&state, &account, *path).await?;
    let form = form.into_inner().over(stored);
    let (settings, origins) = match validate(&form) {
        Ok(v) => v,
        Err(errors) => {
            let body = render(&SettingsPage { account, managed, merchant, form, errors, saved: false })?;
            return Ok(HttpResponse::BadRequest().content_type("text/html; charset=utf-8").body(body));
        }
    };
    // The webhook is the platform's: its URL, hence its first secret, never changes here.
    let applied = apply_settings(&state.gateway.store, &merchant.id, settings, origins, None).await?;
    let (merchant, changes) = (applied.merchant, applied.changes);
    if changes.as_object().is_some_and(|m| !m.is_empty()) {
        let detail = serde_json::json!({ "merchant_number": merchant.merchant_number, "changes": changes });
        super::audit(&state, &account, Some(merchant.id.clone()), None, "account.merchant_update", "ok", detail).await;
    }
    let location = format!("/account/settings/{}?saved=1", merchant.merchant_number);
    Ok(HttpResponse::SeeOther().insert_header(("Location", location)).finish())
}
