//! `hookcast event-types`

use reqwest::Method;

use super::client::ApiClient;
use super::output::{print_json, table, text};

pub async fn run(api: &ApiClient, kind: Option<&str>, json: bool) -> anyhow::Result<()> {
    let path = match kind {
        Some(kind) => format!("/event-types?kind={kind}"),
        None => "/event-types".to_string(),
    };
    let response = api.call(Method::GET, &path, None).await?;
    if json {
        print_json(&response);
        return Ok(());
    }
    let items = response["items"].as_array().cloned().unwrap_or_default();
    let rows = items.iter().map(|t| {
        vec![
            text(&t["code"]),
            text(&t["kind"]),
            text(&t["group"]["name"]["en-US"]),
            text(&t["name"]["en-US"]),
            text(&t["name"]["zh-CN"]),
        ]
    });
    println!(
        "{}",
        table(&["CODE", "KIND", "GROUP", "NAME", "名称"], rows)
    );
    Ok(())
}
