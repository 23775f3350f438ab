//! Headless Chromium driven through the Debian chromedriver, for the real-browser tests.

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
pub const CHROMIUM: &str = "/usr/bin/chromium";

/// A running chromedriver and a browser session; the driver is stopped on drop.
pub struct Browser {
    pub client: fantoccini::Client,
    driver: Child,
    _profile: tempfile::TempDir,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// `None` (with a note on stderr) when chromedriver is missing outside CI; in CI a missing
/// browser fails the test instead of hiding it.
pub async fn start() -> Option<Browser> {
    if !Path::new(CHROMEDRIVER).exists() {
        if std::env::var_os("CI").is_some() {
            panic!("{CHROMEDRIVER} is missing in CI: apt-get install -y chromium chromium-driver");
        }
        eprintln!(
            "SKIPPED: {CHROMEDRIVER} not found (apt-get install -y chromium chromium-driver); set CI to fail instead"
        );
        return None;
    }
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let driver = Command::new(CHROMEDRIVER)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromedriver");
    let profile = tempfile::tempdir().unwrap();
    let args = vec![
        "--headless".to_owned(),
        "--no-sandbox".to_owned(),
        "--disable-gpu".to_owned(),
        "--disable-background-networking".to_owned(),
        "--disable-component-update".to_owned(),
        "--disable-sync".to_owned(),
        "--no-first-run".to_owned(),
        "--window-size=1100,1300".to_owned(),
        format!("--user-data-dir={}", profile.path().display()),
    ];
    let mut caps = serde_json::Map::new();
    caps.insert("goog:chromeOptions".into(), serde_json::json!({ "binary": CHROMIUM, "args": args }));
    let url = format!("http://127.0.0.1:{port}");
    let mut last = None;
    for _ in 0..100 {
        // Two crypto providers are compiled in (ring for Kassa's own clients, aws-lc-rs for the
        // WebDriver client): name one, or rustls refuses to choose.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let builder = fantoccini::ClientBuilder::rustls();
        match builder.expect("rustls").capabilities(caps.clone()).connect(&url).await {
            Ok(client) => return Some(Browser { client, driver, _profile: profile }),
            Err(e) => last = Some(e),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("chromedriver did not start: {last:?}");
}

impl Browser {
    /// The element, once the page that has it is loaded (a click returns before the next page
    /// has arrived).
    pub async fn element(&self, css: &str) -> fantoccini::elements::Element {
        let found =
            self.client.wait().at_most(Duration::from_secs(10)).for_element(fantoccini::Locator::Css(css)).await;
        match found {
            Ok(element) => element,
            Err(e) => panic!("{css} at {}: {e}\n{}", self.url().await, self.client.source().await.unwrap_or_default()),
        }
    }

    pub async fn click(&self, css: &str) {
        self.element(css).await.click().await.unwrap();
    }

    pub async fn fill(&self, css: &str, text: &str) {
        let input = self.element(css).await;
        input.clear().await.unwrap();
        input.send_keys(text).await.unwrap();
    }

    pub async fn text(&self, css: &str) -> String {
        self.element(css).await.text().await.unwrap()
    }

    pub async fn url(&self) -> String {
        self.client.current_url().await.unwrap().to_string()
    }
}
