//! The web console in a real browser: headless Chromium driven over WebDriver
//! (chromedriver), against the real binary and a real receiver.
//!
//! Needs Debian's `chromium` and `chromium-driver` (CI installs them). Without them
//! the test fails with instructions, unless HOOKCAST_SKIP_BROWSER_TESTS=1 asks to
//! skip it, which it then says loudly. Set HOOKCAST_SCREENSHOTS=<dir> to save the
//! screenshots the README shows.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::process::Server;
use common::receiver::Receiver;
use fantoccini::elements::Element;
use fantoccini::key::Key;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

const TOKEN: &str = "browser-test-token";
const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const WAIT: Duration = Duration::from_secs(10);

struct Browser {
    client: Client,
    driver: Child,
    _profile: tempfile::TempDir,
}

impl Browser {
    async fn start(width: u32, height: u32) -> Browser {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let profile = tempfile::tempdir().unwrap();
        let mut capabilities = serde_json::Map::new();
        capabilities.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": CHROMIUM,
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--disable-quic", "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--lang=en-US",
                    format!("--window-size={width},{height}"),
                    format!("--user-data-dir={}", profile.path().display()),
                ],
            }),
        );
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let deadline = Instant::now() + WAIT;
        let client = loop {
            match ClientBuilder::new(connector.clone())
                .capabilities(capabilities.clone())
                .connect(&format!("http://127.0.0.1:{port}"))
                .await
            {
                Ok(client) => break client,
                Err(error) if Instant::now() < deadline => {
                    let _ = error;
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(error) => panic!("cannot start a browser session: {error}"),
            }
        };
        client.set_window_size(width, height).await.unwrap();
        Browser {
            client,
            driver,
            _profile: profile,
        }
    }

    async fn find(&self, css: &str) -> Element {
        self.client
            .wait()
            .at_most(WAIT)
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no element `{css}`: {e}"))
    }

    async fn click(&self, css: &str) {
        self.find(css)
            .await
            .click()
            .await
            .unwrap_or_else(|e| panic!("cannot click `{css}`: {e}"));
    }

    async fn type_into(&self, css: &str, text: &str) {
        let element = self.find(css).await;
        element.clear().await.unwrap();
        element.send_keys(text).await.unwrap();
    }

    /// Waits until the element's text contains `expected`.
    async fn wait_text(&self, css: &str, expected: &str) -> String {
        let deadline = Instant::now() + WAIT;
        loop {
            if let Ok(element) = self.client.find(Locator::Css(css)).await
                && let Ok(text) = element.text().await
                && text.contains(expected)
            {
                return text;
            }
            if Instant::now() > deadline {
                let page = self.client.source().await.unwrap_or_default();
                panic!("`{css}` never contained `{expected}`; page:\n{page}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Every button, input, select and link on the page has an accessible name.
    async fn assert_named_controls(&self) {
        let unnamed = self
            .client
            .execute(
                r#"
                const name = (el) => el.getAttribute('aria-label')
                    || (el.id && document.querySelector(`label[for="${el.id}"]`)?.textContent.trim())
                    || el.closest('label')?.textContent.trim()
                    || (el.getAttribute('aria-labelledby') && document.getElementById(el.getAttribute('aria-labelledby'))?.textContent.trim())
                    || (el.tagName !== 'INPUT' && el.tagName !== 'SELECT' && el.textContent.trim());
                return [...document.querySelectorAll('button, input, select, a[href]')]
                    .filter((el) => !name(el)).map((el) => el.outerHTML.slice(0, 120));
                "#,
                vec![],
            )
            .await
            .unwrap();
        assert_eq!(unnamed, json!([]), "controls without an accessible name");
    }

    /// Closes the notices (they float over the page, as notices do).
    async fn dismiss_notices(&self) {
        while let Ok(button) = self.client.find(Locator::Css(".notice button")).await {
            let _ = button.click().await;
            tokio::time::sleep(Duration::from_millis(30)).await;
        }
    }

    async fn wait_gone(&self, css: &str) {
        let deadline = Instant::now() + WAIT;
        while self.client.find(Locator::Css(css)).await.is_ok() {
            assert!(Instant::now() < deadline, "`{css}` is still there");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn value(&self, css: &str) -> String {
        self.find(css)
            .await
            .prop("value")
            .await
            .unwrap()
            .unwrap_or_default()
    }

    async fn screenshot(&self, name: &str) {
        let Some(dir) = std::env::var_os("HOOKCAST_SCREENSHOTS").map(PathBuf::from) else {
            return;
        };
        std::fs::create_dir_all(&dir).unwrap();
        tokio::time::sleep(Duration::from_millis(300)).await; // let notices and layout settle
        let png = self.client.screenshot().await.unwrap();
        std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
    }

    async fn close(mut self) {
        let _ = self.client.clone().close().await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// True when the browser can run here; otherwise fails loudly, or skips loudly when
/// asked to.
fn browser_available() -> bool {
    if Path::new(CHROMIUM).exists() && Path::new(CHROMEDRIVER).exists() {
        return true;
    }
    let advice = "Browser tests need Debian's `chromium` and `chromium-driver` packages \
                  (apt-get install chromium chromium-driver); .ci/run installs them.";
    if std::env::var("HOOKCAST_SKIP_BROWSER_TESTS").as_deref() == Ok("1") {
        eprintln!(
            "\n!!!!!!!!!!\n!!! SKIPPED the browser tests (HOOKCAST_SKIP_BROWSER_TESTS=1). {advice}\n!!!!!!!!!!\n"
        );
        return false;
    }
    panic!("{advice} To skip them on this machine, set HOOKCAST_SKIP_BROWSER_TESTS=1.");
}

struct Api {
    base: String,
    client: reqwest::Client,
}

impl Api {
    async fn get(&self, path: &str) -> Value {
        self.client
            .get(format!("{}/api/v1{path}", self.base))
            .bearer_auth(TOKEN)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    async fn post(&self, path: &str, body: Value) -> Value {
        self.client
            .post(format!("{}/api/v1{path}", self.base))
            .bearer_auth(TOKEN)
            .json(&body)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    async fn webhooks(&self) -> Vec<Value> {
        self.get("/webhooks").await["items"]
            .as_array()
            .unwrap()
            .clone()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_console_manages_webhooks_in_a_real_browser() {
    if !browser_available() {
        return;
    }
    hookcast::init_tls();
    let dir = tempfile::tempdir().unwrap();
    let receiver = Receiver::start().await;
    let server = Server::start(
        &dir.path().join("data"),
        &[
            ("HOOKCAST_ADMIN_TOKEN", TOKEN),
            ("HOOKCAST_ALLOWED_CIDRS", "127.0.0.0/8"),
            ("HOOKCAST_RETRY_SCHEDULE", "100ms"),
            ("HOOKCAST_LOG", "warn,hookcast::server=info"),
        ],
    );
    let api = Api {
        base: server.url(),
        client: reqwest::Client::new(),
    };
    let browser = Browser::start(1280, 800).await;
    let b = &browser;

    // Sign in with the token.
    b.client.goto(&server.url()).await.unwrap();
    b.type_into("#token", TOKEN).await;
    b.click(".sign-in button[type=submit]").await;
    b.wait_text(".empty", "No webhooks yet").await;
    b.screenshot("webhooks-empty-en").await;

    // The keyboard alone opens the drawer and Escape closes it.
    b.find("#add-webhook")
        .await
        .send_keys(&Key::Enter)
        .await
        .unwrap();
    b.find("#webhook-drawer").await;
    b.client
        .active_element()
        .await
        .unwrap()
        .send_keys(&Key::Escape)
        .await
        .unwrap();
    b.wait_gone("#webhook-drawer").await;

    // Add WebHook: fill the drawer, pick events in the tree, Send Test, Submit.
    b.click("#add-webhook").await;
    b.wait_text("#webhook-drawer-title", "Configure WebHook Service")
        .await;
    b.type_into("#name", "ops-feishu").await;
    b.type_into("#url", &receiver.url()).await;
    b.click("button[aria-label='Expand DR Host Resources']")
        .await;
    b.click("#tree-dr-host-disconnected").await;
    b.click("#tree-dr-host-recovery_timeout").await;
    b.click("#tree-dr-user").await; // a whole group at once
    b.wait_text(".tree-tools", "7 selected").await;
    b.assert_named_controls().await;
    let group_state = b
        .find("#tree-dr-host")
        .await
        .attr("aria-checked")
        .await
        .unwrap();
    assert_eq!(
        group_state.as_deref(),
        Some("mixed"),
        "a partly chosen group shows as mixed"
    );
    b.click("#drawer-test").await;
    b.wait_text("#test-result", "Delivered: HTTP 200").await;
    assert_eq!(
        receiver.wait_for(1, WAIT).await[0].json()["type"],
        "hookcast.test"
    );
    assert!(api.webhooks().await.is_empty(), "Send Test saves nothing");
    b.screenshot("drawer-en").await;
    b.click("#drawer-submit").await;
    b.wait_gone("#webhook-drawer").await;
    b.wait_text("#webhook-table", "ops-feishu").await;
    b.dismiss_notices().await;
    let saved = api.webhooks().await;
    assert_eq!(saved.len(), 1);
    let mut types: Vec<&str> = saved[0]["event_types"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    types.sort();
    assert_eq!(types.len(), 7);
    assert!(types.contains(&"dr.host.disconnected") && types.contains(&"dr.user.login"));
    assert_eq!(saved[0]["language"], "zh-CN");

    // Cancel discards: the next Add WebHook opens empty and nothing was saved.
    b.click("#add-webhook").await;
    b.type_into("#name", "discard-me").await;
    b.click("#drawer-cancel").await;
    b.wait_gone("#webhook-drawer").await;
    b.click("#add-webhook").await;
    assert_eq!(b.value("#name").await, "");
    b.click("#drawer-cancel").await;
    b.wait_gone("#webhook-drawer").await;
    assert_eq!(api.webhooks().await.len(), 1);

    // Server-side validation shows next to the field.
    b.click("#add-webhook").await;
    b.type_into("#name", "ops-feishu").await;
    b.type_into("#url", "ftp://nowhere").await;
    b.click("#drawer-submit").await;
    b.wait_text("#url-error", "http").await;
    b.wait_text("#event-types-error", "at least one").await;
    b.click("#drawer-cancel").await;
    b.wait_gone("#webhook-drawer").await;

    // Modify: the drawer opens filled; a change is saved.
    b.click("button[aria-label='Modify ops-feishu']").await;
    assert_eq!(b.value("#name").await, "ops-feishu");
    b.click("#language option[value='en-US']").await;
    b.click("#drawer-submit").await;
    b.wait_gone("#webhook-drawer").await;
    assert_eq!(api.webhooks().await[0]["language"], "en-US");

    // Disable and Enable.
    b.click("button[aria-label='Disable ops-feishu']").await;
    b.wait_text("#webhook-table", "Disabled").await;
    assert_eq!(api.webhooks().await[0]["enabled"], false);
    b.click("button[aria-label='Enable ops-feishu']").await;
    b.wait_text("#webhook-table", "Enabled").await;
    assert_eq!(api.webhooks().await[0]["enabled"], true);

    // Send: a test message to the saved webhook, outcome shown.
    b.click("button[aria-label='Send ops-feishu']").await;
    b.wait_text(".notices", "Delivered: HTTP 200").await;
    receiver.wait_for(2, WAIT).await;
    b.screenshot("webhooks-en").await;
    b.dismiss_notices().await;
    b.assert_named_controls().await;

    // An event shows in the Delivery Log; Retry sends it again.
    api.post(
        "/events",
        json!({"type": "dr.host.disconnected", "source": "web-01", "result": "failure"}),
    )
    .await;
    receiver.wait_for(3, WAIT).await;
    b.click("nav a[href='#/deliveries']").await;
    b.wait_text("#delivery-table", "Succeeded").await;
    b.screenshot("delivery-log-en").await;
    b.assert_named_controls().await;
    let event_delivery = api.get("/deliveries?limit=1").await["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    b.click(&format!(
        "button[aria-label='Show delivery {event_delivery}']"
    ))
    .await;
    b.wait_text("#delivery-drawer", "Attempt 1").await;
    b.screenshot("delivery-detail-en").await;
    b.click("#delivery-retry").await;
    b.wait_text(".notices", "tried again").await;
    b.dismiss_notices().await;
    receiver.wait_for(4, WAIT).await;
    b.wait_text("#delivery-drawer", "Attempt 2").await;
    b.click("#delivery-drawer button[aria-label='Close']").await;
    b.wait_gone("#delivery-drawer").await;

    // Replay, for one webhook and the chosen time range.
    let webhook_id = api.webhooks().await[0]["id"].as_str().unwrap().to_string();
    b.click(&format!("#filter-webhook option[value='{webhook_id}']"))
        .await;
    b.click("#replay-failed").await;
    b.wait_text(".notices", "0 failed deliveries will be tried again")
        .await;
    b.dismiss_notices().await;

    // 简体中文: the labels change.
    b.click("header button[lang='zh-CN']").await;
    b.wait_text("nav", "投递日志").await;
    b.wait_text("#page-title", "投递日志").await;
    b.click(&format!("button[aria-label='查看投递 {event_delivery}']"))
        .await;
    b.wait_text("#delivery-drawer", "第 2 次尝试").await;
    b.screenshot("delivery-detail-zh").await;
    b.click("#delivery-drawer button[aria-label='关闭']").await;
    b.wait_gone("#delivery-drawer").await;
    b.screenshot("delivery-log-zh").await;
    b.click("nav a[href='#/webhooks']").await;
    b.wait_text("#add-webhook", "添加 WebHook").await;
    b.wait_text("#webhook-table", "告警消息语言").await;
    b.screenshot("webhooks-zh").await;
    b.click("#add-webhook").await;
    b.wait_text("#webhook-drawer-title", "配置 WebHook 服务")
        .await;
    b.type_into("#name", "飞书告警").await;
    b.type_into(
        "#url",
        "https://open.feishu.cn/open-apis/bot/v2/hook/2f9c1d0e-aaaa-bbbb-cccc-0123456789ab",
    )
    .await;
    assert_eq!(
        b.value("#format").await,
        "feishu",
        "the format is suggested from the URL"
    );
    b.click("button[aria-label='展开 容灾主机资源']").await;
    b.click("#tree-dr-host-recovery_timeout").await;
    b.screenshot("drawer-zh").await;
    b.click("#drawer-cancel").await;
    b.wait_gone("#webhook-drawer").await;

    // Delete, with a confirmation that says it cannot be undone.
    b.click("button[aria-label='删除 ops-feishu']").await;
    b.wait_text("[role=alertdialog]", "无法撤销").await;
    b.click("[role=alertdialog] button.danger").await;
    b.wait_text(".empty", "还没有 WebHook").await;
    assert!(api.webhooks().await.is_empty());

    // The audit trail lists what was done, by whom, with what changed.
    b.click("a[href='#/audit']").await;
    b.wait_text("#page-title", "审计日志").await;
    let trail = b.wait_text("#audit-table", "删除 WebHook").await;
    for expected in [
        "添加 WebHook",
        "修改 WebHook",
        "admin (bootstrap)",
        "ops-feishu",
    ] {
        assert!(trail.contains(expected), "{expected}: {trail}");
    }
    b.screenshot("audit-zh").await;
    b.click("nav a[href='#/webhooks']").await;

    // The layout holds at 1920×1080 too.
    b.client.set_window_size(1920, 1080).await.unwrap();
    b.click("#add-webhook").await;
    let drawer = b.find("#webhook-drawer").await.rectangle().await.unwrap();
    assert!(drawer.2 <= 1920.0 && drawer.3 <= 1080.0, "{drawer:?}");
    browser.close().await;
    server.terminate();
}
