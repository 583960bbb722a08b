//! A fresh PostgreSQL database per test, dropped afterwards.
//!
//! The server is `HOOKCAST_TEST_POSTGRES_URL` (default the local one CI runs on). When
//! it is unreachable the test fails and says so, unless HOOKCAST_SKIP_POSTGRES_TESTS=1
//! asks to skip it, which it then reports loudly.

use sqlx::Connection;
use sqlx::postgres::PgConnection;

pub const DEFAULT_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

pub struct TestDatabase {
    pub url: String,
    name: String,
    admin_url: String,
}

impl TestDatabase {
    /// `None` only when skipping was asked for.
    pub async fn create() -> Option<TestDatabase> {
        let admin_url = std::env::var("HOOKCAST_TEST_POSTGRES_URL")
            .unwrap_or_else(|_| DEFAULT_ADMIN_URL.into());
        let mut admin = match PgConnection::connect(&admin_url).await {
            Ok(conn) => conn,
            Err(error) => {
                let advice = format!(
                    "PostgreSQL tests need a server at {admin_url} ({error}); start it with \
                     `pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start` or set \
                     HOOKCAST_TEST_POSTGRES_URL"
                );
                if std::env::var("HOOKCAST_SKIP_POSTGRES_TESTS").as_deref() == Ok("1") {
                    eprintln!(
                        "\n!!!!!!!!!!\n!!! SKIPPED a PostgreSQL test (HOOKCAST_SKIP_POSTGRES_TESTS=1). {advice}\n!!!!!!!!!!\n"
                    );
                    return None;
                }
                panic!(
                    "{advice}. To skip them on this machine, set HOOKCAST_SKIP_POSTGRES_TESTS=1."
                );
            }
        };
        let name = format!(
            "hookcast_test_{}",
            ulid::Ulid::generate().to_string().to_lowercase()
        );
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut admin)
            .await
            .unwrap();
        let base = admin_url
            .rsplit_once('/')
            .map(|(base, _)| base)
            .unwrap_or(&admin_url);
        Some(TestDatabase {
            url: format!("{base}/{name}"),
            name,
            admin_url,
        })
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let (admin_url, name) = (self.admin_url.clone(), self.name.clone());
        // Drop runs inside the test's runtime; a thread of its own may block.
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async {
                if let Ok(mut admin) = PgConnection::connect(&admin_url).await {
                    let drop = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
                    let _ = sqlx::query(sqlx::AssertSqlSafe(drop))
                        .execute(&mut admin)
                        .await;
                }
            });
        })
        .join();
    }
}
