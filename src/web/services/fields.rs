//! The form fields of a web-service call, looked up case-insensitively: shops send
//! `Merchant_ID`, `merchant_id` and `MERCHANT_ID` alike, and the PHP SDK spells `Billnumber`
//! where the documentation says `BillNumber`.

use std::collections::HashMap;

use super::codes::ServiceError;

#[derive(Debug, Default)]
pub struct Fields {
    values: HashMap<String, String>,
}

impl Fields {
    /// Parses an `application/x-www-form-urlencoded` body. The first occurrence of a name wins.
    pub fn parse(body: &[u8]) -> Result<Fields, ServiceError> {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(body)
            .map_err(|_| ServiceError::field("Format", "the body is not a form (application/x-www-form-urlencoded)"))?;
        let mut values = HashMap::with_capacity(pairs.len());
        for (name, value) in pairs {
            values.entry(name.to_ascii_lowercase()).or_insert(value);
        }
        Ok(Fields { values })
    }

    /// The value, trimmed; absent and empty are the same.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.values.get(&name.to_ascii_lowercase()).map(|v| v.trim()).filter(|v| !v.is_empty())
    }

    /// The value exactly as posted (check values hash these bytes).
    pub fn raw(&self, name: &str) -> Option<String> {
        self.values.get(&name.to_ascii_lowercase()).cloned()
    }

    pub fn required(&self, name: &'static str) -> Result<&str, ServiceError> {
        self.get(name).ok_or_else(|| ServiceError::field(name, "is required"))
    }

    /// An optional whole number within `range`.
    pub fn number(
        &self,
        name: &'static str,
        range: std::ops::RangeInclusive<i64>,
    ) -> Result<Option<i64>, ServiceError> {
        match self.get(name) {
            None => Ok(None),
            Some(v) => match v.parse::<i64>() {
                Ok(n) if range.contains(&n) => Ok(Some(n)),
                _ => Err(ServiceError::field(
                    name,
                    format!("must be a whole number from {} to {}", range.start(), range.end()),
                )),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_case_insensitive_and_values_trimmed() {
        let f = Fields::parse(b"MERCHANT_ID=+679471+&billnumber=1&Billnumber=2&Empty=").unwrap();
        assert_eq!(f.get("Merchant_ID"), Some("679471"));
        assert_eq!(f.raw("merchant_id").as_deref(), Some(" 679471 "));
        assert_eq!(f.get("BillNumber"), Some("1"));
        assert_eq!(f.get("empty"), None);
        assert!(f.required("Empty").is_err());
        assert_eq!(f.number("merchant_id", 1..=999_999).unwrap(), Some(679471));
        assert!(f.number("merchant_id", 1..=9).is_err());
    }
}
