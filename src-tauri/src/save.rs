//! Saving a file for the user (the encrypted export) in a folder of theirs.
//!
//! Why the shell writes the file instead of the web view: a Blob download
//! link is silently ignored by some web views (WebKitGTK without a download
//! handler, Android and iOS web views), so the user would be told "saved"
//! with no file anywhere. Here the file is written by Rust, and the UI gets
//! the path to show. docs/ipc.md ("Export") records the choice.
//!
//! The file never replaces one that is there (a second export on the same
//! day gets `-2`, `-3`, …), is readable by its owner only (0600 on Unix),
//! and appears under its name only when complete: it is written to a hidden
//! temporary file in the same folder, synced, then renamed without
//! clobbering (`tempfile`'s `persist_noclobber`: `renameat2(NOREPLACE)` or
//! a hard link on Unix, `MoveFileEx` without replace on Windows).

use std::io::Write as _;
use std::path::{Path, PathBuf};

/// How many names are tried (`name.ext`, `name-2.ext`, … `name-99.ext`).
pub const MAX_NAMES: u32 = 99;

/// Why a file could not be saved. The I/O errors stay in the shell (logs
/// hold only their kind); the UI gets `internal` / `storage`.
#[derive(Debug, thiserror::Error)]
pub enum SaveError {
    /// The platform has no folder for it.
    #[error("there is no folder to save the file in")]
    NoFolder,
    /// The folder could not be created or written to.
    #[error("the folder could not be written: {0}")]
    Folder(std::io::Error),
    /// Writing or renaming the file failed.
    #[error("the file could not be written: {0}")]
    Write(std::io::Error),
    /// Every candidate name is taken.
    #[error("all {MAX_NAMES} file names are taken")]
    NoFreeName,
}

/// The candidate file name number `n` (1-based): `stem.ext`, then `stem-n.ext`.
pub fn candidate(stem: &str, ext: &str, n: u32) -> String {
    if n <= 1 {
        format!("{stem}.{ext}")
    } else {
        format!("{stem}-{n}.{ext}")
    }
}

/// Writes `bytes` to a new file `stem.ext` (or the first free `stem-N.ext`)
/// in `dir`, creating `dir` if needed. Returns the file's path.
pub fn save_new(dir: &Path, stem: &str, ext: &str, bytes: &[u8]) -> Result<PathBuf, SaveError> {
    std::fs::create_dir_all(dir).map_err(SaveError::Folder)?;
    let mut tmp = tempfile::Builder::new()
        .prefix(".ident-")
        .suffix(".part")
        .tempfile_in(dir)
        .map_err(SaveError::Folder)?;
    // tempfile creates the file 0600 on Unix; say so rather than rely on it.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o600))
            .map_err(SaveError::Write)?;
    }
    tmp.write_all(bytes).map_err(SaveError::Write)?;
    tmp.as_file().sync_all().map_err(SaveError::Write)?;
    for n in 1..=MAX_NAMES {
        let path = dir.join(candidate(stem, ext, n));
        match tmp.persist_noclobber(&path) {
            Ok(_) => {
                sync_dir(dir);
                return Ok(path);
            }
            Err(e) if e.error.kind() == std::io::ErrorKind::AlreadyExists => tmp = e.file,
            Err(e) => return Err(SaveError::Write(e.error)),
        }
    }
    // Dropping `tmp` removes the temporary file.
    Err(SaveError::NoFreeName)
}

/// Makes the rename durable where the platform allows (best effort).
fn sync_dir(dir: &Path) {
    #[cfg(unix)]
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    #[cfg(not(unix))]
    let _ = dir;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn candidates() {
        assert_eq!(candidate("a", "b", 1), "a.b");
        assert_eq!(candidate("a", "b", 2), "a-2.b");
        assert_eq!(candidate("a", "b", 99), "a-99.b");
    }

    #[test]
    fn never_replaces_a_file_and_leaves_no_temporary_one() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("Downloads"); // created on demand
        let p1 = save_new(&dir, "x", "y", b"one").unwrap();
        let p2 = save_new(&dir, "x", "y", b"two").unwrap();
        std::fs::write(dir.join("x-3.y"), b"someone else's").unwrap();
        let p4 = save_new(&dir, "x", "y", b"four").unwrap();
        assert_eq!(p1, dir.join("x.y"));
        assert_eq!(p2, dir.join("x-2.y"));
        assert_eq!(p4, dir.join("x-4.y"));
        assert_eq!(std::fs::read(&p1).unwrap(), b"one");
        assert_eq!(std::fs::read(&p2).unwrap(), b"two");
        assert_eq!(std::fs::read(dir.join("x-3.y")).unwrap(), b"someone else's");
        assert_eq!(std::fs::read(&p4).unwrap(), b"four");
        assert_eq!(names(&dir), ["x-2.y", "x-3.y", "x-4.y", "x.y"]);
    }

    #[cfg(unix)]
    #[test]
    fn the_file_is_private() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let p = save_new(dir.path(), "x", "y", b"secret-ish").unwrap();
        let mode = std::fs::metadata(p).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    #[test]
    fn all_names_taken_is_an_error_and_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        for n in 1..=MAX_NAMES {
            std::fs::write(dir.path().join(candidate("x", "y", n)), b"old").unwrap();
        }
        let before = names(dir.path());
        assert!(matches!(
            save_new(dir.path(), "x", "y", b"new"),
            Err(SaveError::NoFreeName)
        ));
        assert_eq!(names(dir.path()), before);
        assert_eq!(std::fs::read(dir.path().join("x.y")).unwrap(), b"old");
    }

    #[test]
    fn a_folder_that_is_a_file_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("Downloads");
        std::fs::write(&file, b"").unwrap();
        assert!(matches!(
            save_new(&file, "x", "y", b"z"),
            Err(SaveError::Folder(_))
        ));
    }
}
