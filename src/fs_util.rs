//! Files that hold secrets: created owner-only, never overwritten.

use std::fs::{File, OpenOptions};
use std::path::Path;

/// Creates `path` with mode 0600, failing if it already exists (so a second process
/// starting at the same moment cannot replace a key the first one is using).
pub fn create_private_file(path: &Path) -> std::io::Result<File> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)
}

/// Creates the data directory (and parents), owner-only where it is new.
pub fn create_private_dir(path: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(path)
}
