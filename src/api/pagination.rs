//! Cursor pagination, newest first: the cursor is the last id of the previous page
//! (ids sort by creation time).

pub const DEFAULT_LIMIT: usize = 50;
pub const MAX_LIMIT: usize = 500;

use super::problem::ApiError;

pub fn limit(requested: Option<usize>) -> Result<usize, ApiError> {
    match requested {
        None => Ok(DEFAULT_LIMIT),
        Some(n @ 1..=MAX_LIMIT) => Ok(n),
        Some(_) => Err(ApiError::invalid(
            "limit",
            format!("must be between 1 and {MAX_LIMIT}"),
        )),
    }
}

/// The cursor for the next page: the last id, when the page was full.
pub fn next_cursor(ids: &[String], limit: usize) -> Option<String> {
    (ids.len() == limit).then(|| ids.last().cloned()).flatten()
}
