//! SHA-256 of files, streamed so large archives are not read into memory at once.

use std::fs::File;
use std::io::Read;
use std::path::Path;

use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// Returns the lowercase hex SHA-256 of the file at `path`.
pub fn sha256_file(path: &Path) -> Result<String> {
    let mut file = File::open(path).map_err(Error::io("opening", path))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buf).map_err(Error::io("reading", path))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hex::encode(hasher.finalize()))
}

/// Checks that the file at `path` has the `expected` SHA-256.
///
/// `what` names the kind of file in the error ("model", "package archive").
pub fn verify_file(path: &Path, expected: &str, what: &'static str) -> Result<()> {
    let actual = sha256_file(path)?;
    if actual.eq_ignore_ascii_case(expected) {
        Ok(())
    } else {
        Err(Error::ChecksumMismatch { what, path: path.to_path_buf(), expected: expected.to_owned(), actual })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_digest() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("abc");
        std::fs::write(&p, b"abc").unwrap();
        assert_eq!(sha256_file(&p).unwrap(), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }

    #[test]
    fn mismatch_names_both_digests() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("abc");
        std::fs::write(&p, b"abd").unwrap();
        let err =
            verify_file(&p, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", "model").unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("expected ba7816bf"), "{msg}");
        assert!(msg.contains("raqib models fetch"), "{msg}");
    }

    #[test]
    fn missing_file_is_an_io_error() {
        let err = sha256_file(Path::new("/nonexistent/raqib/file")).unwrap_err();
        assert!(matches!(err, Error::Io { action: "opening", .. }), "{err}");
    }
}
