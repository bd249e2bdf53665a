//! Plate labels corrected by eye (`eval/plate-label-fixes.tsv`, compiled in).
//!
//! The UM6P close-ups' texts were derived from per-character boxes, and a few derivations are
//! wrong: boxes mirrored left to right give the text backwards, a two-row plate whose rows were
//! not split gives its characters in column order, a digit was mistyped, or only two or three
//! characters of a blurred plate were boxed. Each row of the file names one photo (folder, file,
//! the first 16 hex digits of its SHA-256) and the label it must still carry, so a fix never
//! applies to another photo or to a label someone has since corrected at the source. The
//! training scripts (`training/plate_ocr/real.py`) read the same file.

use std::path::Path;

use raqib_models::checksum::sha256_file;

/// The corrections, as compiled into the binary.
const FIXES_TSV: &str = include_str!("../../plate-label-fixes.tsv");

/// Whether `raqib eval plates` applies the corrections.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Labels {
    /// The folders' labels with the corrections of `eval/plate-label-fixes.tsv` (the default).
    #[default]
    Corrected,
    /// The folders' labels exactly as given (`--labels-as-given`).
    AsGiven,
}

/// One corrected label.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fix {
    /// The set's folder name (`moroccan-um6p-train`).
    pub folder: String,
    /// The photo's file name.
    pub file: String,
    /// First 16 hex digits of the photo's SHA-256.
    pub sha256: String,
    /// The label the folder gives.
    pub given: String,
    /// The text the photo shows; `None`: no complete plate text, not scored.
    pub corrected: Option<String>,
}

/// Every correction of the compiled-in file (comment lines and the header skipped).
pub fn all() -> Vec<Fix> {
    parse(FIXES_TSV)
}

/// The rows of a corrections file; lines that are not six tab-separated fields are skipped.
fn parse(tsv: &str) -> Vec<Fix> {
    tsv.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            let [folder, file, sha256, given, corrected, _why] = f[..] else { return None };
            (folder != "folder").then(|| Fix {
                folder: folder.to_owned(),
                file: file.to_owned(),
                sha256: sha256.to_owned(),
                given: given.to_owned(),
                corrected: (corrected != "-").then(|| corrected.to_owned()),
            })
        })
        .collect()
}

/// The fix for `file` (labelled `given`) of the folder named `folder` whose image is at `image`,
/// if one applies: same folder, file and label, and the image's SHA-256 starts as recorded.
pub fn find<'a>(fixes: &'a [Fix], folder: &str, file: &str, given: &str, image: &Path) -> Option<&'a Fix> {
    let fix = fixes.iter().find(|f| f.folder == folder && f.file == file && f.given == given)?;
    sha256_file(image).ok()?.starts_with(&fix.sha256).then_some(fix)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_compiled_file_parses_and_every_correction_is_plate_text() {
        let fixes = all();
        assert!(fixes.len() >= 10, "{fixes:?}");
        for f in &fixes {
            assert_eq!(f.sha256.len(), 16, "{f:?}");
            if let Some(c) = &f.corrected {
                assert!(super::super::items::key_of(c).is_some(), "{f:?}");
                assert_ne!(c, &f.given);
            }
        }
    }

    #[test]
    fn a_fix_applies_only_to_its_photo_and_label() {
        let dir = tempfile::tempdir().unwrap();
        let image = dir.path().join("a.jpg");
        std::fs::write(&image, b"photo").unwrap();
        let sha = &sha256_file(&image).unwrap()[..16];
        let fixes = parse(&format!(
            "folder\tfile\tsha256\tgiven\tcorrected\twhy\n# a comment\nset\ta.jpg\t{sha}\t1|ب|2\t7|ب|2\tseen\nset\tb.jpg\t{sha}\tب\t-\tblur\n"
        ));
        assert_eq!(fixes.len(), 2);
        assert_eq!(find(&fixes, "set", "a.jpg", "1|ب|2", &image).and_then(|f| f.corrected.as_deref()), Some("7|ب|2"));
        assert!(find(&fixes, "set", "a.jpg", "7|ب|2", &image).is_none(), "the label was fixed at the source");
        assert!(find(&fixes, "other", "a.jpg", "1|ب|2", &image).is_none(), "another folder");
        std::fs::write(&image, b"another photo").unwrap();
        assert!(find(&fixes, "set", "a.jpg", "1|ب|2", &image).is_none(), "another photo under the same name");
        assert_eq!(fixes[1].corrected, None);
    }
}
