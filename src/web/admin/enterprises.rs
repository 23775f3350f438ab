//! Enterprises: the list with search, create, edit (name, legal details, contacts, time zone),
//! suspend and resume. A suspended enterprise's merchants accept no payments (the gateway checks
//! [`crate::db::models::Merchant::accepts_payments`]); nothing else about them changes.

use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use diesel::prelude::*;
use serde::Deserialize;
use serde_json::json;

use super::fields::{Errors, diff, optional_email, optional_text, required_text, shown};
use super::session::{Admin, signed_in};
use super::users::{NewUserForm, UserRow};
use super::{AdminError, CsrfOnly, Saved, audit, html, render};
use crate::db::models::{EnterpriseId, Merchant};
use crate::db::schema::{enterprises, merchants};
use crate::db::{self, StoreError};
use crate::startup::AppState;
use crate::web::account::Zone;

diesel::define_sql_function!(fn lower(x: diesel::sql_types::Text) -> diesel::sql_types::Text);

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = enterprises)]
pub struct EnterpriseRow {
    pub id: EnterpriseId,
    pub name: String,
    pub legal_name: Option<String>,
    pub tax_id: Option<String>,
    pub address: Option<String>,
    pub contact_name: Option<String>,
    pub contact_email: Option<String>,
    pub contact_phone: Option<String>,
    pub time_zone: String,
    pub suspended: bool,
    pub created_at: time::PrimitiveDateTime,
}

impl EnterpriseRow {
    pub fn find(c: &mut db::AnyConnection, id: &EnterpriseId) -> Result<Option<EnterpriseRow>, StoreError> {
        Ok(enterprises::table.find(id).select(EnterpriseRow::as_select()).first(c).optional()?)
    }

    pub fn created(&self) -> String {
        crate::web::account::Zone::utc().show(self.created_at)
    }
}

/// What the enterprise form holds, as typed.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct EnterpriseForm {
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub legal_name: String,
    #[serde(default)]
    pub tax_id: String,
    #[serde(default)]
    pub address: String,
    #[serde(default)]
    pub contact_name: String,
    #[serde(default)]
    pub contact_email: String,
    #[serde(default)]
    pub contact_phone: String,
    #[serde(default)]
    pub time_zone: String,
}

impl EnterpriseForm {
    fn of(e: &EnterpriseRow) -> EnterpriseForm {
        EnterpriseForm {
            csrf: String::new(),
            name: e.name.clone(),
            legal_name: shown(&e.legal_name),
            tax_id: shown(&e.tax_id),
            address: shown(&e.address),
            contact_name: shown(&e.contact_name),
            contact_email: shown(&e.contact_email),
            contact_phone: shown(&e.contact_phone),
            time_zone: e.time_zone.clone(),
        }
    }
}

/// The checked values of an enterprise form.
#[derive(Debug, Clone, AsChangeset)]
#[diesel(table_name = enterprises, treat_none_as_null = true)]
pub struct Details {
    name: String,
    legal_name: Option<String>,
    tax_id: Option<String>,
    address: Option<String>,
    contact_name: Option<String>,
    contact_email: Option<String>,
    contact_phone: Option<String>,
    time_zone: String,
}

pub fn validate(f: &EnterpriseForm) -> Result<Details, Errors> {
    let mut e = Errors::default();
    let name = required_text(&mut e, "name", &f.name, 200);
    let legal_name = optional_text(&mut e, "legal_name", &f.legal_name, 300);
    let tax_id = optional_text(&mut e, "tax_id", &f.tax_id, 40);
    if tax_id.as_deref().is_some_and(|t| !t.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == ' ')) {
        e.add("tax_id", "Only letters, digits, spaces and dashes.");
    }
    let address = optional_text(&mut e, "address", &f.address, 500);
    let contact_name = optional_text(&mut e, "contact_name", &f.contact_name, 200);
    let contact_email = optional_email(&mut e, "contact_email", &f.contact_email);
    let contact_phone = optional_text(&mut e, "contact_phone", &f.contact_phone, 40);
    if contact_phone.as_deref().is_some_and(|p| {
        !p.chars().all(|c| c.is_ascii_digit() || " +-()".contains(c)) || !p.chars().any(|c| c.is_ascii_digit())
    }) {
        e.add("contact_phone", "Digits, spaces and + - ( ) only.");
    }
    let time_zone = f.time_zone.trim().to_owned();
    if Zone::named(&time_zone).is_none() {
        e.add("time_zone", "Not a time zone of the tz database (e.g. Europe/Moscow, UTC).");
    }
    if !e.is_empty() {
        return Err(e);
    }
    Ok(Details { name, legal_name, tax_id, address, contact_name, contact_email, contact_phone, time_zone })
}

fn audit_pairs(d: &Details) -> Vec<(&'static str, String, String)> {
    vec![
        ("name", String::new(), d.name.clone()),
        ("legal_name", String::new(), shown(&d.legal_name)),
        ("tax_id", String::new(), shown(&d.tax_id)),
        ("address", String::new(), shown(&d.address)),
        ("contact_name", String::new(), shown(&d.contact_name)),
        ("contact_email", String::new(), shown(&d.contact_email)),
        ("contact_phone", String::new(), shown(&d.contact_phone)),
        ("time_zone", String::new(), d.time_zone.clone()),
    ]
}

#[derive(Template)]
#[template(path = "admin/enterprises.html")]
struct ListPage {
    admin: Admin,
    q: String,
    rows: Vec<(EnterpriseRow, i64)>,
}

#[derive(Deserialize)]
pub struct Search {
    #[serde(default)]
    q: String,
}

pub async fn list(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<Search>,
) -> Result<HttpResponse, AdminError> {
    let admin = signed_in(&req, &state).await?;
    let q = query.into_inner().q.trim().chars().take(100).collect::<String>();
    let pattern = format!("%{}%", q.to_lowercase().replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"));
    let rows = state
        .gateway
        .store
        .read(move |c| {
            let found: Vec<EnterpriseRow> = enterprises::table
                .filter(
                    lower(enterprises::name)
                        .like(pattern.clone())
                        .escape('\\')
                        .or(lower(enterprises::legal_name.assume_not_null()).like(pattern.clone()).escape('\\'))
                        .or(lower(enterprises::tax_id.assume_not_null()).like(pattern).escape('\\')),
                )
                .order(enterprises::name.asc())
                .limit(500)
                .select(EnterpriseRow::as_select())
                .load(c)?;
            let mut rows = Vec::with_capacity(found.len());
            for e in found {
                let n: i64 = merchants::table.filter(merchants::enterprise_id.eq(&e.id)).count().get_result(c)?;
                rows.push((e, n));
            }
            Ok::<_, StoreError>(rows)
        })
        .await?;
    Ok(html(render(&ListPage { admin, q, rows })?))
}

#[derive(Template)]
#[template(path = "admin/enterprise_new.html")]
struct NewPage {
    admin: Admin,
    form: EnterpriseForm,
    errors: Errors,
}

pub async fn new_form(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, AdminError> {
    let admin = signed_in(&req, &state).await?;
    let form = EnterpriseForm { time_zone: "UTC".into(), ..EnterpriseForm::default() };
    Ok(html(render(&NewPage { admin, form, errors: Errors::default() })?))
}

fn refused(body: String) -> HttpResponse {
    HttpResponse::BadRequest().content_type("text/html; charset=utf-8").body(body)
}

pub async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<EnterpriseForm>,
) -> Result<HttpResponse, AdminError> {
    let admin = signed_in(&req, &state).await?;
    let form = form.into_inner();
    admin.check_csrf(&form.csrf)?;
    let details = match validate(&form) {
        Ok(d) => d,
        Err(errors) => return Ok(refused(render(&NewPage { admin, form, errors })?)),
    };
    let id = EnterpriseId::new();
    let (row_id, d) = (id.clone(), details.clone());
    state
        .gateway
        .store
        .write(move |c| {
            diesel::insert_into(enterprises::table)
                .values((
                    enterprises::id.eq(&row_id),
                    enterprises::name.eq(&d.name),
                    enterprises::created_at.eq(db::now()),
                ))
                .execute(c)?;
            diesel::update(enterprises::table.find(&row_id)).set(&d).execute(c)?;
            Ok::<_, StoreError>(())
        })
        .await?;
    let mut detail = json!({ "enterprise": id.0, "changes": diff(&audit_pairs(&details)) });
    detail["name"] = details.name.clone().into();
    audit(&state, &admin, None, "admin.enterprise_create", detail).await;
    Ok(HttpResponse::SeeOther().insert_header(("Location", format!("/admin/enterprises/{}", id.0))).finish())
}

#[derive(Template)]
#[template(path = "admin/enterprise.html")]
struct ShowPage {
    admin: Admin,
    enterprise: EnterpriseRow,
    form: EnterpriseForm,
    errors: Errors,
    notice: Option<&'static str>,
    merchants: Vec<Merchant>,
    new_merchant: super::merchants::NewMerchantForm,
    merchant_errors: Errors,
    users: Vec<UserRow>,
    new_user: NewUserForm,
    user_errors: Errors,
}

/// What the enterprise page shows besides its details form.
#[derive(Default)]
pub(super) struct Extra {
    pub notice: Option<&'static str>,
    pub new_merchant: super::merchants::NewMerchantForm,
    pub merchant_errors: Errors,
    pub new_user: NewUserForm,
    pub user_errors: Errors,
}

fn show_of(admin: Admin, loaded: Loaded, form: Option<(EnterpriseForm, Errors)>, extra: Extra) -> ShowPage {
    let (enterprise, merchants, users) = loaded;
    let (form, errors) = form.unwrap_or_else(|| (EnterpriseForm::of(&enterprise), Errors::default()));
    ShowPage {
        admin,
        enterprise,
        form,
        errors,
        notice: extra.notice,
        merchants,
        new_merchant: extra.new_merchant,
        merchant_errors: extra.merchant_errors,
        users,
        // Passwords are never sent back.
        new_user: NewUserForm { password: String::new(), repeat: String::new(), ..extra.new_user },
        user_errors: extra.user_errors,
    }
}

type Loaded = (EnterpriseRow, Vec<Merchant>, Vec<UserRow>);

async fn load(state: &AppState, id: &str) -> Result<Loaded, AdminError> {
    let id = EnterpriseId(id.to_owned());
    state
        .gateway
        .store
        .read(move |c| {
            let Some(e) = EnterpriseRow::find(c, &id)? else { return Ok(None) };
            let ms = merchants::table
                .filter(merchants::enterprise_id.eq(&id))
                .order(merchants::merchant_number.asc())
                .select(Merchant::as_select())
                .load(c)?;
            let us = super::users::of(c, Some(&id))?;
            Ok::<_, StoreError>(Some((e, ms, us)))
        })
        .await?
        .ok_or(AdminError::NotFound)
}

/// The enterprise page with a merchant form that was refused.
pub(super) async fn show_page(
    state: &AppState,
    admin: Admin,
    id: &str,
    new_merchant: super::merchants::NewMerchantForm,
    merchant_errors: Errors,
) -> Result<String, AdminError> {
    let loaded = load(state, id).await?;
    render(&show_of(admin, loaded, None, Extra { new_merchant, merchant_errors, ..Extra::default() }))
}

/// The enterprise page with a user form that was refused.
pub(super) async fn show_page_users(
    state: &AppState,
    admin: Admin,
    id: &str,
    new_user: NewUserForm,
    user_errors: Errors,
) -> Result<String, AdminError> {
    let loaded = load(state, id).await?;
    render(&show_of(admin, loaded, None, Extra { new_user, user_errors, ..Extra::default() }))
}

pub async fn show(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    query: web::Query<Saved>,
) -> Result<HttpResponse, AdminError> {
    let admin = signed_in(&req, &state).await?;
    let loaded = load(&state, &path).await?;
    let notice = query.saved.as_ref().map(|_| "Saved.");
    Ok(html(render(&show_of(admin, loaded, None, Extra { notice, ..Extra::default() }))?))
}

pub async fn save(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    form: web::Form<EnterpriseForm>,
) -> Result<HttpResponse, AdminError> {
    let admin = signed_in(&req, &state).await?;
    let form = form.into_inner();
    admin.check_csrf(&form.csrf)?;
    let loaded = load(&state, &path).await?;
    let details = match validate(&form) {
        Ok(d) => d,
        Err(errors) => {
            let body = render(&show_of(admin, loaded, Some((form, errors)), Extra::default()))?;
            return Ok(refused(body));
        }
    };
    let enterprise = loaded.0;
    let (id, d) = (enterprise.id.clone(), details.clone());
    state
        .gateway
        .store
        .write(move |c| diesel::update(enterprises::table.find(id)).set(&d).execute(c).map_err(StoreError::from))
        .await?;
    let old = EnterpriseForm::of(&enterprise);
    let pairs: Vec<(&str, String, String)> = audit_pairs(&details)
        .into_iter()
        .map(|(field, _, new)| {
            let before = match field {
                "name" => old.name.clone(),
                "legal_name" => old.legal_name.clone(),
                "tax_id" => old.tax_id.clone(),
                "address" => old.address.clone(),
                "contact_name" => old.contact_name.clone(),
                "contact_email" => old.contact_email.clone(),
                "contact_phone" => old.contact_phone.clone(),
                _ => old.time_zone.clone(),
            };
            (field, before, new)
        })
        .collect();
    let changes = diff(&pairs);
    if changes.as_object().is_some_and(|m| !m.is_empty()) {
        audit(
            &state,
            &admin,
            None,
            "admin.enterprise_update",
            json!({ "enterprise": enterprise.id.0, "changes": changes }),
        )
        .await;
    }
    Ok(HttpResponse::SeeOther()
        .insert_header(("Location", format!("/admin/enterprises/{}?saved=1", enterprise.id.0)))
        .finish())
}

async fn set_suspended(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: String,
    form: CsrfOnly,
    suspended: bool,
) -> Result<HttpResponse, AdminError> {
    let admin = signed_in(&req, &state).await?;
    admin.check_csrf(&form.csrf)?;
    let id = EnterpriseId(id);
    let target = id.clone();
    let changed = state
        .gateway
        .store
        .write(move |c| {
            let old: Option<bool> =
                enterprises::table.find(&target).select(enterprises::suspended).first(c).optional()?;
            let Some(old) = old else { return Ok(None) };
            diesel::update(enterprises::table.find(&target)).set(enterprises::suspended.eq(suspended)).execute(c)?;
            Ok::<_, StoreError>(Some(old != suspended))
        })
        .await?
        .ok_or(AdminError::NotFound)?;
    if changed {
        let action = if suspended { "admin.enterprise_suspend" } else { "admin.enterprise_resume" };
        let detail = json!({ "enterprise": id.0, "changes": diff(&[("suspended", (!suspended).to_string(), suspended.to_string())]) });
        audit(&state, &admin, None, action, detail).await;
    }
    Ok(HttpResponse::SeeOther().insert_header(("Location", format!("/admin/enterprises/{}?saved=1", id.0))).finish())
}

pub async fn suspend(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    form: web::Form<CsrfOnly>,
) -> Result<HttpResponse, AdminError> {
    set_suspended(req, state, path.into_inner(), form.into_inner(), true).await
}

pub async fn resume(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    form: web::Form<CsrfOnly>,
) -> Result<HttpResponse, AdminError> {
    set_suspended(req, state, path.into_inner(), form.into_inner(), false).await
}
