//! SQLite's own allocations go to mimalloc, the allocator the rest of the server uses.
//!
//! Bundled SQLite calls the C library's malloc. Under delivery load that was 2.6 % of
//! the server's CPU (perf, nearly all of it from `sqlite3MemMalloc`): glibc's arena
//! bookkeeping and chunk consolidation for the many small records and cursors a
//! statement makes and frees. SQLite takes its allocator through `sqlite3_config`,
//! which must run before SQLite is first used in the process.

use std::ffi::{c_int, c_void};
use std::sync::OnceLock;

use libmimalloc_sys as mi;
use libsqlite3_sys as ffi;

unsafe extern "C" fn allocate(size: c_int) -> *mut c_void {
    // SQLite never asks for zero or negative sizes; mimalloc returns 16-byte aligned
    // memory, more than the 8 bytes SQLite needs.
    unsafe { mi::mi_malloc(size.max(0) as usize) }
}

unsafe extern "C" fn free(pointer: *mut c_void) {
    unsafe { mi::mi_free(pointer) }
}

unsafe extern "C" fn reallocate(pointer: *mut c_void, size: c_int) -> *mut c_void {
    unsafe { mi::mi_realloc(pointer, size.max(0) as usize) }
}

unsafe extern "C" fn size_of(pointer: *mut c_void) -> c_int {
    let size = unsafe { mi::mi_usable_size(pointer) };
    c_int::try_from(size).unwrap_or(c_int::MAX)
}

unsafe extern "C" fn round_up(size: c_int) -> c_int {
    let rounded = unsafe { mi::mi_good_size(size.max(0) as usize) };
    c_int::try_from(rounded).unwrap_or(size)
}

unsafe extern "C" fn init(_: *mut c_void) -> c_int {
    ffi::SQLITE_OK
}

unsafe extern "C" fn shutdown(_: *mut c_void) {}

/// Hands SQLite mimalloc. Call it first thing in `main`, while no other thread can be
/// using SQLite (`sqlite3_config` is not thread-safe); later calls only repeat the
/// answer. Returns whether SQLite took it: once SQLite has been used in the process it
/// refuses, and keeps the C library's malloc, which works the same, only slower.
pub fn route_sqlite_allocations_to_mimalloc() -> bool {
    static TAKEN: OnceLock<bool> = OnceLock::new();
    *TAKEN.get_or_init(|| {
        let methods = ffi::sqlite3_mem_methods {
            xMalloc: Some(allocate),
            xFree: Some(free),
            xRealloc: Some(reallocate),
            xSize: Some(size_of),
            xRoundup: Some(round_up),
            xInit: Some(init),
            xShutdown: Some(shutdown),
            pAppData: std::ptr::null_mut(),
        };
        // SAFETY: the functions follow sqlite3_mem_methods' contract, and SQLite
        // copies the struct before sqlite3_config returns.
        let code = unsafe {
            ffi::sqlite3_config(
                ffi::SQLITE_CONFIG_MALLOC,
                &methods as *const ffi::sqlite3_mem_methods,
            )
        };
        code == ffi::SQLITE_OK
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn size_and_round_up_report_what_mimalloc_gives() {
        unsafe {
            let pointer = allocate(100);
            assert!(!pointer.is_null());
            assert!(size_of(pointer) >= 100);
            let grown = reallocate(pointer, 5000);
            assert!(size_of(grown) >= 5000);
            free(grown);
            assert!(round_up(100) >= 100);
        }
    }
}
