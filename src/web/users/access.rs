//! What a user may see and do (role over all merchants or per merchant, an operator's amount
//! limit), as the users form shows and submits it.

use std::collections::HashMap;

use serde_json::{Value, json};

use crate::db::models::MerchantId;
use crate::money::{Currency, Money, format_minor};
use crate::web::account::{AccountError, Role};

/// What a user may see and do: the part of a user the form edits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Access {
    pub email: Option<String>,
    /// `None`: every merchant with `role`; otherwise these merchants with their roles.
    pub grants: Option<Vec<(MerchantId, Role)>>,
    pub role: Role,
    pub limit: Option<(i64, String)>,
}

impl Access {
    pub fn blank() -> Access {
        Access { email: None, grants: None, role: Role::Viewer, limit: None }
    }

    pub fn describe(&self, merchants: &[MerchantRow]) -> String {
        match &self.grants {
            None => format!("all merchants: {}", self.role.as_str()),
            Some(grants) if grants.is_empty() => "no merchant".into(),
            Some(grants) => grants
                .iter()
                .map(|(id, role)| {
                    let n = merchants.iter().find(|m| m.id == *id).map(|m| m.number).unwrap_or_default();
                    format!("{n}: {}", role.as_str())
                })
                .collect::<Vec<_>>()
                .join(", "),
        }
    }

    pub fn limit_text(&self) -> String {
        self.limit.as_ref().map(|(m, c)| format!("{} {c}", format_minor(*m, c))).unwrap_or_default()
    }

    /// The audit detail of a change: each field that changed, as `[old, new]`.
    pub fn diff(&self, new: &Access, merchants: &[MerchantRow]) -> Value {
        let mut changed = serde_json::Map::new();
        let mut field = |name: &str, old: String, new: String| {
            if old != new {
                changed.insert(name.into(), json!([old, new]));
            }
        };
        field("email", self.email.clone().unwrap_or_default(), new.email.clone().unwrap_or_default());
        field("access", self.describe(merchants), new.describe(merchants));
        field("limit", self.limit_text(), new.limit_text());
        Value::Object(changed)
    }
}

#[derive(Debug, Clone)]
pub struct MerchantRow {
    pub id: MerchantId,
    pub number: i64,
    pub name: String,
}

/// One line of the access form: a merchant and the role chosen for it (empty: none).
pub struct GrantField {
    pub number: i64,
    pub name: String,
    pub role: &'static str,
}

/// The values the create and edit forms show.
pub struct FormValues {
    pub login: String,
    pub email: String,
    pub all: bool,
    pub role: &'static str,
    pub grants: Vec<GrantField>,
    pub limit: String,
    pub limit_currency: String,
}

impl FormValues {
    pub fn of(login: &str, access: &Access, merchants: &[MerchantRow]) -> FormValues {
        FormValues {
            login: login.to_owned(),
            email: access.email.clone().unwrap_or_default(),
            all: access.grants.is_none(),
            role: access.role.as_str(),
            grants: merchants
                .iter()
                .map(|m| GrantField {
                    number: m.number,
                    name: m.name.clone(),
                    role: access
                        .grants
                        .as_ref()
                        .and_then(|g| g.iter().find(|(id, _)| *id == m.id))
                        .map(|(_, r)| r.as_str())
                        .unwrap_or(""),
                })
                .collect(),
            limit: access.limit.as_ref().map(|(m, c)| format_minor(*m, c)).unwrap_or_default(),
            limit_currency: access.limit.as_ref().map(|(_, c)| c.clone()).unwrap_or_default(),
        }
    }

    /// The form as submitted, shown again beside its error.
    pub fn from_form(form: &HashMap<String, String>, merchants: &[MerchantRow]) -> FormValues {
        let get = |k: &str| form.get(k).map(|v| v.trim().to_owned()).unwrap_or_default();
        let role = |v: &str| match v {
            "viewer" => "viewer",
            "operator" => "operator",
            "manager" => "manager",
            _ => "",
        };
        FormValues {
            login: get("login"),
            email: get("email"),
            all: get("scope") != "listed",
            role: match role(&get("role")) {
                "" => "viewer",
                r => r,
            },
            grants: merchants
                .iter()
                .map(|m| GrantField {
                    number: m.number,
                    name: m.name.clone(),
                    role: role(&get(&format!("grant_{}", m.number))),
                })
                .collect(),
            limit: get("limit"),
            limit_currency: get("limit_currency"),
        }
    }
}

pub fn bad(message: &str) -> AccountError {
    AccountError::BadRequest(message.to_owned())
}

/// The login of a new user: 3 to 64 letters, digits or `. _ @ -`.
pub fn parse_login(form: &HashMap<String, String>) -> Result<String, AccountError> {
    let login = form.get("login").map(|l| l.trim().to_owned()).unwrap_or_default();
    if !(3..=64).contains(&login.len()) || !login.bytes().all(|b| b.is_ascii_alphanumeric() || b"._@-".contains(&b)) {
        return Err(bad("The login must have 3 to 64 letters, digits or . _ @ -"));
    }
    Ok(login)
}

/// Reads the access part of the form, checked against the enterprise's merchants.
pub fn parse_access(form: &HashMap<String, String>, merchants: &[MerchantRow]) -> Result<Access, AccountError> {
    let get = |k: &str| form.get(k).map(|v| v.trim()).filter(|v| !v.is_empty());
    let role = |v: &str| match v {
        "viewer" | "operator" | "manager" => Ok(Role::parse(v)),
        _ => Err(bad("Choose a role: viewer, operator or manager.")),
    };
    let email = match get("email") {
        Some(e) if e.len() > 200 || !e.contains('@') || e.contains(char::is_whitespace) => {
            return Err(bad("The e-mail address is not valid."));
        }
        e => e.map(str::to_owned),
    };
    let (grants, role) = match get("scope").unwrap_or("all") {
        "all" => (None, role(get("role").unwrap_or(""))?),
        "listed" => {
            let mut grants = Vec::new();
            for m in merchants {
                if let Some(v) = get(&format!("grant_{}", m.number)) {
                    grants.push((m.id.clone(), role(v)?));
                }
            }
            if grants.is_empty() {
                return Err(bad("Give the user a role for at least one merchant."));
            }
            let highest = grants.iter().map(|(_, r)| *r).max().unwrap_or(Role::Viewer);
            (Some(grants), highest)
        }
        _ => return Err(bad("Choose all merchants or some merchants.")),
    };
    let limit = match (get("limit"), get("limit_currency")) {
        (None, _) => None,
        (Some(_), None) => return Err(bad("Give the currency of the amount limit.")),
        (Some(amount), Some(cur)) => {
            let currency: Currency = cur.parse().map_err(|_| bad("The currency of the limit is not known."))?;
            let money = Money::parse(amount, currency).map_err(|_| bad("The amount limit is not a valid amount."))?;
            Some((money.minor, cur.to_uppercase()))
        }
    };
    Ok(Access { email, grants, role, limit })
}
