//! Configuration: an optional TOML file, overridden by `KASSA_*` environment variables.
//! A wrong or unknown setting stops start-up with a message naming it.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// `sqlite://path`, a plain path (SQLite), or `postgres://…`.
    pub database_url: String,
    /// Address the web server listens on.
    pub listen: String,
    /// The URL customers and merchants reach Kassa at (links, redirects); defaults to
    /// `http://<listen>`.
    pub public_url: Option<String>,
    /// Where Kassa keeps files besides the database (the simulator's journal).
    pub data_dir: PathBuf,
    /// Seconds Kassa waits for the processing center before it gives up (and reverses).
    pub processor_timeout_secs: u64,
    /// Database connections in the pool.
    pub pool_size: u32,
    /// Seconds between two runs of the background jobs (expiry, deadlines, the settlement check).
    pub worker_interval_secs: u64,
    /// Log filter, e.g. `info` or `kassa=debug`.
    pub log: String,
    /// Seconds to wait before each retry of an unanswered Assist notification; one more attempt
    /// than there are entries (default: 8 attempts over 3 h 51 min).
    pub notify_retry_schedule: String,
    /// Timeout of each outbound request (notifications, webhooks).
    pub outbound_timeout_secs: u64,
    /// Let notifications and webhooks reach loopback and private addresses (tests, closed
    /// networks). Off by default, so a merchant cannot make Kassa probe its own network.
    pub outbound_allow_internal: bool,
    /// `file` (each mail an .eml file in `<data_dir>/mail`) or `smtp`.
    pub mail_transport: MailTransport,
    pub mail_from: String,
    pub smtp_host: String,
    pub smtp_port: u16,
    /// `none`, `starttls` or `tls`.
    pub smtp_tls: SmtpTls,
    pub smtp_user: Option<String>,
    pub smtp_password: Option<String>,
    /// Web-service and API requests a minute, per merchant and per client IP; 0 turns the
    /// limit off (benchmarks).
    pub rate_limit_per_minute: u32,
    /// Kassa's RSA private key (PKCS#8 PEM, at least 2048 bits) for the signatures of its
    /// answers and notifications, kept outside the database; every process is given the same
    /// file. Unset: Kassa makes one key per database and keeps it there.
    pub signing_key_file: Option<PathBuf>,
    /// When set, `/metrics` answers only requests with `Authorization: Bearer <token>` (the
    /// figures show the business); unset, anyone who reaches the port may scrape it.
    pub metrics_token: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MailTransport {
    File,
    Smtp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpTls {
    None,
    Starttls,
    Tls,
}

/// Parses a lower-case enum value the way the TOML file spells it.
fn choice<T: serde::de::DeserializeOwned>(key: &str, value: &str) -> Result<T, ConfigError> {
    T::deserialize(serde::de::value::StrDeserializer::<serde::de::value::Error>::new(value.trim()))
        .map_err(|e| ConfigError::Invalid { key: key.into(), message: e.to_string() })
}

impl Default for Config {
    fn default() -> Self {
        Config {
            database_url: "./kassa-data/kassa.db".into(),
            listen: "127.0.0.1:8080".into(),
            public_url: None,
            data_dir: "./kassa-data".into(),
            processor_timeout_secs: 30,
            pool_size: 8,
            worker_interval_secs: 60,
            log: "info".into(),
            notify_retry_schedule: "60,300,900,1800,3600,3600,3600".into(),
            outbound_timeout_secs: 10,
            outbound_allow_internal: false,
            mail_transport: MailTransport::File,
            mail_from: "Kassa <kassa@localhost>".into(),
            smtp_host: "localhost".into(),
            smtp_port: 587,
            smtp_tls: SmtpTls::Starttls,
            smtp_user: None,
            smtp_password: None,
            rate_limit_per_minute: 6000,
            signing_key_file: None,
            metrics_token: None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read the configuration file {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("configuration file {path}: {message}")]
    File { path: PathBuf, message: String },
    #[error("setting {key}: {message}")]
    Invalid { key: String, message: String },
    #[error("unknown environment variable {0}; see the README for the KASSA_* settings")]
    UnknownVariable(String),
}

/// Environment variables that start with `KASSA_` but are not settings.
const NOT_SETTINGS: &[&str] =
    &["KASSA_TEST_DATABASE_URL", "KASSA_PYTHON", "KASSA_BENCH", "KASSA_FAULT_RATE", "KASSA_FAULT_SEED"];

impl Config {
    /// Reads `file` (if given), then applies `KASSA_*` variables from `env`, then validates.
    pub fn load(file: Option<&Path>, env: impl IntoIterator<Item = (String, String)>) -> Result<Config, ConfigError> {
        let mut config = match file {
            Some(path) => {
                let text =
                    std::fs::read_to_string(path).map_err(|source| ConfigError::Read { path: path.into(), source })?;
                toml::from_str(&text)
                    .map_err(|e| ConfigError::File { path: path.into(), message: e.message().to_owned() })?
            }
            None => Config::default(),
        };
        let mut from_env = Vec::new();
        for (name, value) in env {
            let Some(key) = name.strip_prefix("KASSA_") else { continue };
            if NOT_SETTINGS.contains(&name.as_str()) || name.starts_with("KASSA_TEST_") {
                continue;
            }
            let key = key.to_ascii_lowercase();
            config.set(&key, &value).map_err(|e| match e {
                ConfigError::UnknownVariable(_) => ConfigError::UnknownVariable(name.clone()),
                ConfigError::Invalid { message, .. } => ConfigError::Invalid { key: name.clone(), message },
                other => other,
            })?;
            from_env.push(key);
        }
        config.validate().map_err(|e| match e {
            // Name the variable the value came from, so the operator knows what to fix.
            ConfigError::Invalid { key, message } if from_env.contains(&key) => {
                ConfigError::Invalid { key: format!("KASSA_{}", key.to_ascii_uppercase()), message }
            }
            other => other,
        })?;
        Ok(config)
    }

    fn set(&mut self, key: &str, value: &str) -> Result<(), ConfigError> {
        fn number<T: std::str::FromStr>(key: &str, value: &str) -> Result<T, ConfigError> {
            value
                .trim()
                .parse()
                .map_err(|_| ConfigError::Invalid { key: key.into(), message: "must be a whole number".into() })
        }
        match key {
            "database_url" => self.database_url = value.into(),
            "listen" => self.listen = value.into(),
            "public_url" => self.public_url = Some(value.into()).filter(|v: &String| !v.is_empty()),
            "data_dir" => self.data_dir = value.into(),
            "processor_timeout_secs" => self.processor_timeout_secs = number(key, value)?,
            "pool_size" => self.pool_size = number(key, value)?,
            "worker_interval_secs" => self.worker_interval_secs = number(key, value)?,
            "log" => self.log = value.into(),
            "notify_retry_schedule" => self.notify_retry_schedule = value.into(),
            "outbound_timeout_secs" => self.outbound_timeout_secs = number(key, value)?,
            "outbound_allow_internal" => {
                self.outbound_allow_internal = match value.trim() {
                    "true" | "1" => true,
                    "false" | "0" => false,
                    _ => return Err(ConfigError::Invalid { key: key.into(), message: "must be true or false".into() }),
                }
            }
            "mail_transport" => self.mail_transport = choice(key, value)?,
            "mail_from" => self.mail_from = value.into(),
            "smtp_host" => self.smtp_host = value.into(),
            "smtp_port" => self.smtp_port = number(key, value)?,
            "smtp_tls" => self.smtp_tls = choice(key, value)?,
            "smtp_user" => self.smtp_user = Some(value.into()).filter(|v: &String| !v.is_empty()),
            "smtp_password" => self.smtp_password = Some(value.into()).filter(|v: &String| !v.is_empty()),
            "rate_limit_per_minute" => self.rate_limit_per_minute = number(key, value)?,
            "metrics_token" => self.metrics_token = Some(value.trim().to_owned()).filter(|t| !t.is_empty()),
            "signing_key_file" => {
                self.signing_key_file = Some(value.trim().into()).filter(|p: &PathBuf| !p.as_os_str().is_empty())
            }
            // Gone since the schedule moved into the database: say where, instead of "unknown".
            "settlement_interval_secs" => {
                return Err(ConfigError::Invalid {
                    key: key.into(),
                    message: "is no longer read: platform admins set the settlement cut-offs at /admin/processing"
                        .into(),
                });
            }
            _ => return Err(ConfigError::UnknownVariable(key.into())),
        }
        Ok(())
    }

    fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |key: &str, message: &str| Err(ConfigError::Invalid { key: key.into(), message: message.into() });
        if self.database_url.trim().is_empty() {
            return invalid("database_url", "must not be empty");
        }
        if self.listen.parse::<SocketAddr>().is_err() {
            return invalid("listen", "must be an address like 127.0.0.1:8080");
        }
        if let Some(url) = &self.public_url
            && !(url.starts_with("http://") || url.starts_with("https://"))
        {
            return invalid("public_url", "must start with http:// or https://");
        }
        if !(1..=300).contains(&self.processor_timeout_secs) {
            return invalid("processor_timeout_secs", "must be between 1 and 300");
        }
        if !(1..=128).contains(&self.pool_size) {
            return invalid("pool_size", "must be between 1 and 128");
        }
        if !(1..=86_400).contains(&self.worker_interval_secs) {
            return invalid("worker_interval_secs", "must be between 1 and 86400");
        }
        if self.retry_schedule().is_none() {
            return invalid("notify_retry_schedule", "must be comma-separated seconds, each between 1 and 86400");
        }
        if !(1..=120).contains(&self.outbound_timeout_secs) {
            return invalid("outbound_timeout_secs", "must be between 1 and 120");
        }
        if self.mail_from.parse::<lettre::message::Mailbox>().is_err() {
            return invalid("mail_from", "must be an address like Kassa <kassa@example.com>");
        }
        if tracing_subscriber::EnvFilter::try_new(&self.log).is_err() {
            return invalid("log", "is not a valid log filter");
        }
        Ok(())
    }

    /// The waits before each notification retry.
    pub fn retry_schedule(&self) -> Option<Vec<std::time::Duration>> {
        let waits: Option<Vec<u64>> = self
            .notify_retry_schedule
            .split(',')
            .map(|s| s.trim().parse().ok().filter(|v| (1..=86_400).contains(v)))
            .collect();
        waits
            .filter(|w| !w.is_empty() && w.len() < 50)
            .map(|w| w.into_iter().map(std::time::Duration::from_secs).collect())
    }

    pub fn public_url(&self) -> String {
        self.public_url.clone().unwrap_or_else(|| format!("http://{}", self.listen)).trim_end_matches('/').to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn defaults_and_overrides() {
        let c = Config::load(None, env(&[("PATH", "/bin")])).unwrap();
        assert_eq!(c.database_url, "./kassa-data/kassa.db");
        assert_eq!(c.listen, "127.0.0.1:8080");
        let c = Config::load(None, env(&[("KASSA_LISTEN", "0.0.0.0:9000"), ("KASSA_POOL_SIZE", "4")])).unwrap();
        assert_eq!((c.listen.as_str(), c.pool_size), ("0.0.0.0:9000", 4));
    }

    #[test]
    fn wrong_settings_are_named() {
        let e = Config::load(None, env(&[("KASSA_LISTN", "x")])).unwrap_err().to_string();
        assert!(e.contains("KASSA_LISTN"), "{e}");
        let e = Config::load(None, env(&[("KASSA_POOL_SIZE", "many")])).unwrap_err().to_string();
        assert!(e.contains("KASSA_POOL_SIZE"), "{e}");
        let e = Config::load(None, env(&[("KASSA_SMTP_TLS", "ssl")])).unwrap_err().to_string();
        assert!(e.contains("KASSA_SMTP_TLS"), "{e}");
        let e = Config::load(None, env(&[("KASSA_NOTIFY_RETRY_SCHEDULE", "60,x")])).unwrap_err().to_string();
        assert!(e.contains("KASSA_NOTIFY_RETRY_SCHEDULE"), "{e}");
        let e = Config::load(None, env(&[("KASSA_LISTEN", "localhost")])).unwrap_err().to_string();
        assert!(e.contains("KASSA_LISTEN"), "{e}");
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("kassa.toml");
        std::fs::write(&path, "listen = \"127.0.0.1:1\"\ndatabse_url = \"x\"\n").unwrap();
        let e = Config::load(Some(&path), env(&[])).unwrap_err().to_string();
        assert!(e.contains("databse_url"), "{e}");
    }
}
