//! SQLite takes mimalloc when asked before its first use, and works on it. A test
//! binary of its own: `sqlite3_config` must run before any other SQLite use in the
//! process, which the other test binaries' parallel tests would not guarantee.

use std::sync::Arc;

use hookcast::store::{Sealer, SqliteStore, Store, route_sqlite_allocations_to_mimalloc};
use libsqlite3_sys as ffi;

#[test]
fn sqlite_allocates_through_mimalloc_and_the_store_works_on_it() {
    assert!(route_sqlite_allocations_to_mimalloc(), "SQLite refused");

    // The allocator SQLite now holds rounds sizes as mimalloc does, not as the C
    // library's (SQLite's own default rounds 100 up to 104; mimalloc to a size class).
    let mut methods = std::mem::MaybeUninit::<ffi::sqlite3_mem_methods>::zeroed();
    let code = unsafe { ffi::sqlite3_config(ffi::SQLITE_CONFIG_GETMALLOC, methods.as_mut_ptr()) };
    assert_eq!(code, ffi::SQLITE_OK);
    let methods = unsafe { methods.assume_init() };
    let round_up = methods.xRoundup.expect("an xRoundup");
    let expected = unsafe { libmimalloc_sys::mi_good_size(100) };
    assert_eq!(unsafe { round_up(100) } as usize, expected);
    assert_ne!(
        expected, 104,
        "mimalloc's size classes differ from 8-byte rounding"
    );

    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let sealer = Sealer::load_or_create(None, &dir.path().join("secret.key")).unwrap();
        let url = format!("sqlite://{}", dir.path().join("hookcast.db").display());
        let store = SqliteStore::open(&url, Arc::new(sealer), true)
            .await
            .unwrap();
        assert!(store.schema_is_current().await.unwrap());
        assert!(store.list_webhooks().await.unwrap().is_empty());
    });

    // Asked again (as a second caller in the process would), the answer stands.
    assert!(route_sqlite_allocations_to_mimalloc());
}
