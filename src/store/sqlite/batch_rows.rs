//! Row counts of multi-row statements, bucketed so their SQL texts repeat.
//!
//! A multi-row statement's text depends on its number of rows, and SQLite prepares
//! each text anew unless the connection still caches it. Results batches take whatever
//! finished since the last one (1 to 192 rows), so at one text per size most batches
//! missed sqlx's cache of 100 statements and were prepared again: for the attempts'
//! INSERT about 2 us per row, more than binding and running it. Padding every batch to
//! a multiple of [`BUCKET`] rows leaves 12 texts per statement, always cached. Padding
//! rows are all NULL and each statement is written so that they change nothing.

/// Padding granularity: at most 15 rows of NULLs per statement.
const BUCKET: usize = 16;

/// The most rows one statement takes (a multiple of [`BUCKET`]).
pub const MAX_ROWS: usize = 192;

/// `rows` rounded up to the next multiple of [`BUCKET`].
pub fn padded(rows: usize) -> usize {
    rows.div_ceil(BUCKET) * BUCKET
}

/// Each item, then `None` up to [`padded`] rows.
pub fn with_padding<T>(items: &[T]) -> impl Iterator<Item = Option<&T>> {
    let padding = padded(items.len()) - items.len();
    items
        .iter()
        .map(Some)
        .chain(std::iter::repeat_n(None, padding))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_round_up_to_a_few_buckets() {
        assert_eq!(padded(1), 16);
        assert_eq!(padded(16), 16);
        assert_eq!(padded(17), 32);
        assert_eq!(padded(MAX_ROWS), MAX_ROWS);
        let texts: std::collections::BTreeSet<usize> = (1..=MAX_ROWS).map(padded).collect();
        assert_eq!(texts.len(), MAX_ROWS / BUCKET);
    }

    #[test]
    fn padding_follows_the_items() {
        let rows: Vec<Option<&u8>> = with_padding(&[1u8, 2, 3]).collect();
        assert_eq!(rows.len(), 16);
        assert_eq!(rows[..3], [Some(&1), Some(&2), Some(&3)]);
        assert!(rows[3..].iter().all(Option::is_none));
    }
}
