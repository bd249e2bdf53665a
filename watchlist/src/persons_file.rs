//! The persons file of `raqib watchlist import-persons`: a JSON array of persons, each with its
//! fields ([`NewPerson`]), optional exported `embeddings`, and optional `photos` (file names
//! relative to the file) that the caller's face model turns into embeddings. Every problem is
//! collected with its row number (array index + 1), so one run reports them all.

use std::path::Path;

use raqib_core::Embedding;

use crate::error::{Error, Result, RowError};
use crate::transfer_persons::{ExportedEmbedding, PersonImport};

/// The rows of a persons file and the problems found in them.
#[derive(Debug, Default)]
pub struct PersonRows {
    /// Rows that parsed, with their row numbers.
    pub rows: Vec<(usize, PersonImport)>,
    /// Rows that did not, or whose photo gave no embedding.
    pub errors: Vec<RowError>,
}

/// Reads `file`; `embed` turns each photo path (joined to the file's folder) into an embedding of
/// the model `model_id`, or says why it cannot (no face, unreadable). It is called only for
/// rows with photos, so a file without photos needs no face model.
pub fn read_person_rows(
    file: &Path,
    model_id: &str,
    embed: &mut dyn FnMut(&Path) -> std::result::Result<Embedding, String>,
) -> Result<PersonRows> {
    let text =
        std::fs::read_to_string(file).map_err(|source| Error::Io { action: "reading", path: file.into(), source })?;
    let values: Vec<serde_json::Value> = serde_json::from_str(&text)
        .map_err(|e| Error::Invalid { field: "persons file", message: format!("not a JSON array of persons: {e}") })?;
    let base = file.parent().unwrap_or(Path::new("."));
    let mut out = PersonRows::default();
    for (i, mut v) in values.into_iter().enumerate() {
        let row = i + 1;
        let mut fail = |message: String| out.errors.push(RowError { row, message });
        let photos: Vec<String> = match v.as_object_mut().and_then(|o| o.remove("photos")) {
            Some(p) => match serde_json::from_value(p) {
                Ok(p) => p,
                Err(e) => {
                    fail(format!("photos: {e}"));
                    continue;
                }
            },
            None => Vec::new(),
        };
        let mut person: PersonImport = match serde_json::from_value(v) {
            Ok(p) => p,
            Err(e) => {
                fail(e.to_string());
                continue;
            }
        };
        for photo in photos {
            match embed(&base.join(&photo)) {
                Ok(vector) => person.embeddings.push(ExportedEmbedding {
                    model_id: model_id.to_owned(),
                    vector,
                    source: Some(photo),
                }),
                Err(message) => fail(message),
            }
        }
        out.rows.push((row, person));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn photos_are_embedded_by_the_caller_and_every_bad_row_is_numbered() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("persons.json");
        std::fs::write(
            &file,
            r#"[{"name": "A", "category": "wanted", "photos": ["a.jpg", "none.jpg"]},
                {"name": "B", "category": "wanted", "photos": 3},
                {"nom": "C"},
                {"name": "D", "category": "missing"}]"#,
        )
        .unwrap();
        let mut asked = Vec::new();
        let mut embed = |p: &Path| {
            asked.push(p.file_name().unwrap().to_string_lossy().into_owned());
            if p.ends_with("a.jpg") {
                Ok(Embedding::new(vec![1.0, 0.0]).unwrap())
            } else {
                Err(format!("{}: no face found", p.display()))
            }
        };
        let r = read_person_rows(&file, "face-embed-512", &mut embed).unwrap();
        assert_eq!(asked, ["a.jpg", "none.jpg"]);
        assert_eq!(r.rows.iter().map(|(row, _)| *row).collect::<Vec<_>>(), [1, 4]);
        assert_eq!(r.rows[0].1.embeddings.len(), 1);
        assert_eq!(r.rows[0].1.embeddings[0].source.as_deref(), Some("a.jpg"));
        assert_eq!(r.errors.iter().map(|e| e.row).collect::<Vec<_>>(), [1, 2, 3]);
        assert!(r.errors[0].message.contains("no face found"));
        assert!(r.errors[1].message.starts_with("photos:"));
        std::fs::write(&file, "{}").unwrap();
        assert!(
            read_person_rows(&file, "m", &mut |_| Err(String::new())).unwrap_err().to_string().contains("JSON array")
        );
    }
}
