//! Validation messages shown beside the form fields they concern, and the small parsers the
//! admin forms share.

/// The messages of a refused form, by field name.
#[derive(Debug, Default, Clone)]
pub struct Errors(Vec<(&'static str, String)>);

impl Errors {
    pub fn add(&mut self, field: &'static str, message: impl Into<String>) {
        self.0.push((field, message.into()));
    }

    /// The message beside `field`, if any.
    pub fn get(&self, field: &str) -> Option<&str> {
        self.0.iter().find(|(f, _)| *f == field).map(|(_, m)| m.as_str())
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn fields(&self) -> Vec<&'static str> {
        self.0.iter().map(|(f, _)| *f).collect()
    }
}

/// The trimmed text, or `None` when empty.
pub fn optional(text: &str) -> Option<String> {
    let t = text.trim();
    (!t.is_empty()).then(|| t.to_owned())
}

/// An optional text of at most `max` characters.
pub fn optional_text(errors: &mut Errors, field: &'static str, text: &str, max: usize) -> Option<String> {
    let t = optional(text);
    if t.as_ref().is_some_and(|t| t.chars().count() > max) {
        errors.add(field, format!("At most {max} characters."));
    }
    t
}

/// A required text of at most `max` characters.
pub fn required_text(errors: &mut Errors, field: &'static str, text: &str, max: usize) -> String {
    let t = text.trim().to_owned();
    if t.is_empty() {
        errors.add(field, "Required.");
    } else if t.chars().count() > max {
        errors.add(field, format!("At most {max} characters."));
    }
    t
}

/// An e-mail address: one `@` with something on both sides and a dot in the domain, no spaces.
pub fn is_email(text: &str) -> bool {
    let Some((local, domain)) = text.split_once('@') else { return false };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains('@')
        && !text.chars().any(char::is_whitespace)
        && text.len() <= 254
}

pub fn optional_email(errors: &mut Errors, field: &'static str, text: &str) -> Option<String> {
    let t = optional(text);
    if t.as_deref().is_some_and(|t| !is_email(t)) {
        errors.add(field, "Not an e-mail address (name@example.com).");
    }
    t
}

/// An absolute http(s) URL; `https_only` for what carries secrets or money results.
pub fn optional_url(errors: &mut Errors, field: &'static str, text: &str, https_only: bool) -> Option<String> {
    let t = optional(text)?;
    match url::Url::parse(&t) {
        Ok(u) if u.scheme() == "https" || (!https_only && u.scheme() == "http") => {
            if u.host_str().is_none_or(str::is_empty) {
                errors.add(field, "The URL needs a host.");
            } else if t.len() > 2000 {
                errors.add(field, "At most 2000 characters.");
            }
        }
        Ok(_) if https_only => errors.add(field, "Must be an https:// URL."),
        Ok(_) => errors.add(field, "Must be an http:// or https:// URL."),
        Err(_) => errors.add(field, "Not a valid absolute URL (https://shop.example/path)."),
    }
    Some(t)
}

/// A whole number in `min..=max`.
pub fn number(errors: &mut Errors, field: &'static str, text: &str, min: i64, max: i64) -> i64 {
    match text.trim().parse::<i64>() {
        Ok(n) if (min..=max).contains(&n) => n,
        Ok(_) => {
            errors.add(field, format!("Must be between {min} and {max}."));
            min
        }
        Err(_) => {
            errors.add(field, "Must be a whole number.");
            min
        }
    }
}

/// The fields that differ between `old` and `new`, as `{field: {"old": …, "new": …}}`: what an
/// audit entry shows of a change. Callers leave secrets out of both lists.
pub fn diff(pairs: &[(&str, String, String)]) -> serde_json::Value {
    let mut map = serde_json::Map::new();
    for (field, old, new) in pairs {
        if old != new {
            map.insert((*field).to_owned(), serde_json::json!({ "old": old, "new": new }));
        }
    }
    serde_json::Value::Object(map)
}

/// An optional text as the audit log shows it.
pub fn shown(v: &Option<String>) -> String {
    v.clone().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_emails_and_numbers_are_checked() {
        let mut e = Errors::default();
        assert_eq!(
            optional_url(&mut e, "a", "https://shop.example/ok", true).as_deref(),
            Some("https://shop.example/ok")
        );
        assert!(e.is_empty());
        optional_url(&mut e, "b", "http://shop.example/", true);
        optional_url(&mut e, "c", "shop.example", false);
        assert!(!is_email("no-at.example"));
        assert!(is_email("ops@shop.example"));
        assert_eq!(number(&mut e, "d", "12", 1, 10), 1);
        assert_eq!(e.fields(), vec!["b", "c", "d"]);
        assert_eq!(e.get("b"), Some("Must be an https:// URL."));
    }
}
