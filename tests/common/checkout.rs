//! Helpers for the checkout tests: a browser-like HTTP client and tiny HTML probes.

use kassa::db::models::Merchant;

use super::TestApp;

/// A client that does not follow redirects, so each 303 can be checked.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

/// The minimal payment-page request of a merchant, with the customer known.
pub fn order_fields(merchant: &Merchant, order_number: &str, amount: &str) -> Vec<(String, String)> {
    [
        ("Merchant_ID", merchant.merchant_number.to_string()),
        ("OrderNumber", order_number.to_owned()),
        ("OrderAmount", amount.to_owned()),
        ("OrderCurrency", "RUB".to_owned()),
        ("Language", "EN".to_owned()),
        ("Lastname", "Petrov".to_owned()),
        ("Firstname", "Ivan".to_owned()),
        ("Email", "ivan@example.com".to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

pub fn with(mut fields: Vec<(String, String)>, name: &str, value: &str) -> Vec<(String, String)> {
    fields.retain(|(k, _)| k != name);
    fields.push((name.to_owned(), value.to_owned()));
    fields
}

pub fn without(mut fields: Vec<(String, String)>, name: &str) -> Vec<(String, String)> {
    fields.retain(|(k, _)| k != name);
    fields
}

pub struct Page {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: String,
}

impl Page {
    pub fn header(&self, name: &str) -> String {
        self.headers.get(name).map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default()
    }

    pub fn location(&self) -> String {
        self.header("location")
    }

    /// The value of the first input called `name`.
    pub fn input(&self, name: &str) -> String {
        let marker = format!("name=\"{name}\"");
        let at = self.body.find(&marker).unwrap_or_else(|| panic!("no input {name} in {}", self.body));
        let rest = &self.body[at..];
        let tag_end = rest.find('>').unwrap();
        let tag = &rest[..tag_end];
        tag.split_once("value=\"").map(|(_, v)| unescape(v.split('"').next().unwrap())).unwrap_or_default()
    }
}

/// Undoes the HTML escaping of attribute and text values (askama writes `&#38;` for `&`).
pub fn unescape(html: &str) -> String {
    html.replace("&#38;", "&")
        .replace("&amp;", "&")
        .replace("&#34;", "\"")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
}

async fn page(response: reqwest::Response) -> Page {
    Page {
        status: response.status().as_u16(),
        headers: response.headers().clone(),
        body: response.text().await.unwrap(),
    }
}

impl TestApp {
    pub async fn get(&self, path: &str) -> Page {
        page(client().get(format!("{}{path}", self.address)).send().await.unwrap()).await
    }

    pub async fn get_lang(&self, path: &str, accept_language: &str) -> Page {
        let r = client().get(format!("{}{path}", self.address)).header("Accept-Language", accept_language);
        page(r.send().await.unwrap()).await
    }

    pub async fn post(&self, path: &str, fields: &[(String, String)]) -> Page {
        page(client().post(format!("{}{path}", self.address)).form(fields).send().await.unwrap()).await
    }

    /// Posts the payment request and returns the page path it redirects to.
    pub async fn open(&self, fields: &[(String, String)]) -> String {
        let p = self.post("/pay/order.cfm", fields).await;
        assert_eq!(p.status, 303, "entry refused: {}", p.body);
        p.location()
    }

    /// Fills the card form rendered at `page` and presses «Charge».
    pub async fn charge(&self, page_path: &str, number: &str) -> Page {
        let form = self.get(page_path).await;
        assert!(form.body.contains("name=\"number\""), "no card form: {}", form.body);
        self.post_card(page_path, &form.input("nonce"), number, "12", "2030", "123").await
    }

    pub async fn post_card(
        &self,
        page_path: &str,
        nonce: &str,
        number: &str,
        month: &str,
        year: &str,
        cvc: &str,
    ) -> Page {
        let fields: Vec<(String, String)> = [
            ("nonce", nonce),
            ("number", number),
            ("holder", "IVAN PETROV"),
            ("month", month),
            ("year", year),
            ("cvc", cvc),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        self.post(&format!("{page_path}/card"), &fields).await
    }
}

pub fn field(name: &str, value: &str) -> (String, String) {
    (name.to_owned(), value.to_owned())
}

/// Every attempt of an order number, oldest first.
pub async fn attempts(app: &TestApp, merchant: &Merchant, order_number: &str) -> Vec<kassa::db::models::Order> {
    let (id, number) = (merchant.id.clone(), order_number.to_owned());
    let mut all = app
        .gateway
        .store
        .read(move |c| kassa::db::models::Order::attempts(c, &id, &number).map_err(kassa::db::StoreError::from))
        .await
        .unwrap();
    all.sort_by_key(|o| o.created_at);
    all
}

pub async fn operations(app: &TestApp, order: &kassa::db::models::Order) -> Vec<kassa::db::models::Operation> {
    let id = order.id.clone();
    app.gateway
        .store
        .read(move |c| kassa::db::models::Operation::of_order(c, &id).map_err(kassa::db::StoreError::from))
        .await
        .unwrap()
}

pub async fn order_count(app: &TestApp) -> i64 {
    use diesel::prelude::*;
    app.gateway
        .store
        .read(|c| kassa::db::schema::orders::table.count().get_result::<i64>(c).map_err(kassa::db::StoreError::from))
        .await
        .unwrap()
}
