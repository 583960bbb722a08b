//! The bundled SQLite carries the compile options `.cargo/config.toml` sets, and they
//! do what they are there for.

use std::ffi::{CStr, CString};

use libsqlite3_sys as ffi;

fn compiled_with(option: &str) -> bool {
    let option = CString::new(option).unwrap();
    unsafe { ffi::sqlite3_compileoption_used(option.as_ptr()) == 1 }
}

#[test]
fn the_options_are_compiled_in() {
    assert!(compiled_with("DEFAULT_MEMSTATUS=0"));
    assert!(compiled_with("ENABLE_QPSG"));
    assert!(!compiled_with("ENABLE_MEMORY_MANAGEMENT"));
}

/// How many times SQLite prepared `SELECT … LIMIT ?` again over four runs with four
/// different limits, with the query planner stability guarantee on or off.
unsafe fn repreparations_over_four_limits(stable_plans: bool) -> i32 {
    unsafe {
        let mut db = std::ptr::null_mut();
        let name = CString::new(":memory:").unwrap();
        assert_eq!(ffi::sqlite3_open(name.as_ptr(), &mut db), ffi::SQLITE_OK);
        let mut now = 0;
        let code = ffi::sqlite3_db_config(
            db,
            ffi::SQLITE_DBCONFIG_ENABLE_QPSG,
            stable_plans as i32,
            &mut now as *mut i32,
        );
        assert_eq!((code, now), (ffi::SQLITE_OK, stable_plans as i32));
        let sql = CString::new("SELECT value FROM json_each('[1,2,3,4,5]') LIMIT ?").unwrap();
        let mut statement = std::ptr::null_mut();
        let code =
            ffi::sqlite3_prepare_v2(db, sql.as_ptr(), -1, &mut statement, std::ptr::null_mut());
        assert_eq!(
            code,
            ffi::SQLITE_OK,
            "{:?}",
            CStr::from_ptr(ffi::sqlite3_errmsg(db))
        );
        for limit in 1..=4 {
            assert_eq!(ffi::sqlite3_bind_int64(statement, 1, limit), ffi::SQLITE_OK);
            let mut rows = 0;
            while ffi::sqlite3_step(statement) == ffi::SQLITE_ROW {
                rows += 1;
            }
            assert_eq!(rows, limit);
            ffi::sqlite3_reset(statement);
        }
        let reprepared = ffi::sqlite3_stmt_status(statement, ffi::SQLITE_STMTSTATUS_REPREPARE, 0);
        ffi::sqlite3_finalize(statement);
        ffi::sqlite3_close(db);
        reprepared
    }
}

/// SQLITE_ENABLE_QPSG turns the guarantee on for every connection. Without it,
/// binding a new value to `LIMIT ?` expires the statement and the next step prepares
/// it again: the claim statement was prepared anew on every run.
#[test]
fn a_bound_limit_does_not_make_sqlite_prepare_the_statement_again() {
    let mut db = std::ptr::null_mut();
    let name = CString::new(":memory:").unwrap();
    let mut default = -1;
    unsafe {
        assert_eq!(ffi::sqlite3_open(name.as_ptr(), &mut db), ffi::SQLITE_OK);
        ffi::sqlite3_db_config(
            db,
            ffi::SQLITE_DBCONFIG_ENABLE_QPSG,
            -1, // only read it
            &mut default as *mut i32,
        );
        ffi::sqlite3_close(db);
    }
    assert_eq!(default, 1, "connections start with stable plans");
    assert_eq!(unsafe { repreparations_over_four_limits(true) }, 0);
    // The contrast, so this test can tell: with the guarantee off, SQLite re-prepares.
    assert!(unsafe { repreparations_over_four_limits(false) } >= 3);
}
