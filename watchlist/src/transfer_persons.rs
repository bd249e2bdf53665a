//! Import and export of persons with their enrolment embeddings, as JSON.
//!
//! Export writes every person with their embeddings (values and the id of the model that made
//! them), so a node can be restored or another node seeded; embeddings are biometric data, so the
//! export is audited like any other. Import is all-or-nothing with row-numbered errors.
//! Computing embeddings from photos is the caller's job (this crate knows no models): it passes
//! them in [`PersonImport::embeddings`].

use std::io::Write;

use raqib_core::Embedding;
use serde::{Deserialize, Serialize};

use crate::audit::record;
use crate::entry::{NewPerson, Person};
use crate::error::{Error, Result, RowError};
use crate::store::{Actor, Store};

/// One embedding in an export.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExportedEmbedding {
    /// The model that made it (e.g. `face-embed-512`).
    pub model_id: String,
    /// Unit-length values.
    pub vector: Embedding,
    /// Where it came from (photo file name).
    #[serde(default)]
    pub source: Option<String>,
}

/// One person in an import: the fields, plus embeddings already computed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PersonImport {
    /// The person.
    #[serde(flatten)]
    pub person: NewPerson,
    /// Embeddings to store with the person.
    #[serde(default)]
    pub embeddings: Vec<ExportedEmbedding>,
}

impl Store {
    /// Adds every person with their embeddings in one transaction; any invalid row rejects all.
    /// Returns the new person ids in row order.
    ///
    /// Every embedding of one model must have that model's dimension: the one `known` gives
    /// (the caller knows its models, e.g. `("face-embed-512", 512)`), else the one of that model's
    /// embeddings already stored, else the first one in this import. A row with another size is
    /// rejected by number (a 3-value "embedding" would otherwise reshape the gallery and switch
    /// face matching off for everyone).
    pub fn import_persons(
        &mut self,
        rows: &[(usize, PersonImport)],
        source: &str,
        actor: Actor,
        known: &[(&str, usize)],
    ) -> Result<Vec<i64>> {
        let tx = self.conn.transaction()?;
        let mut ids = Vec::new();
        let mut rejected = Vec::new();
        let mut dims = dims_of(known);
        for (row, p) in rows {
            if let Some(message) = wrong_dimension(&tx, &p.embeddings, &mut dims)? {
                rejected.push(RowError { row: *row, message });
                continue;
            }
            match crate::store::insert_person(&tx, &p.person) {
                Ok(id) => {
                    for e in &p.embeddings {
                        crate::store::insert_embedding(&tx, id, &e.model_id, &e.vector, e.source.as_deref())?;
                    }
                    ids.push(id);
                }
                Err(e) => rejected.push(RowError { row: *row, message: e.to_string() }),
            }
        }
        if !rejected.is_empty() {
            return Err(Error::ImportRejected(rejected));
        }
        record(&tx, actor, "import.persons", Some(source), Some(&format!("{} persons", ids.len())))?;
        tx.commit()?;
        Ok(ids)
    }

    /// The rows [`Store::import_persons`] would reject, without writing anything.
    pub fn check_persons(&mut self, rows: &[(usize, PersonImport)], known: &[(&str, usize)]) -> Result<Vec<RowError>> {
        let tx = self.conn.transaction()?; // dropped without commit: rolled back
        let mut rejected = Vec::new();
        let mut dims = dims_of(known);
        for (row, p) in rows {
            if let Some(message) = wrong_dimension(&tx, &p.embeddings, &mut dims)? {
                rejected.push(RowError { row: *row, message });
                continue;
            }
            if let Err(e) = crate::store::insert_person(&tx, &p.person) {
                rejected.push(RowError { row: *row, message: e.to_string() });
            }
        }
        Ok(rejected)
    }

    /// Writes every person with all their embeddings as a JSON array; audited.
    pub fn export_persons(&self, mut out: impl Write, target: &str, actor: Actor) -> Result<usize> {
        crate::transfer::require_reason(&actor, "an export (--reason)")?;
        let persons = self.persons()?;
        let mut rows = Vec::with_capacity(persons.len());
        for p in &persons {
            rows.push(PersonImport { person: to_new(p), embeddings: self.person_embeddings(p.id)? });
        }
        let io = |e: std::io::Error| Error::Io { action: "writing", path: target.into(), source: e };
        serde_json::to_writer_pretty(&mut out, &rows).map_err(|e| io(std::io::Error::other(e)))?;
        out.write_all(b"\n").map_err(io)?;
        record(&self.conn, actor, "export.persons", Some(target), Some(&format!("{} persons", rows.len())))?;
        Ok(rows.len())
    }
}

/// Model id → dimension, from the caller's known models.
fn dims_of(known: &[(&str, usize)]) -> std::collections::HashMap<String, usize> {
    known.iter().map(|(m, d)| ((*m).to_owned(), *d)).collect()
}

/// The first embedding of `embeddings` whose size is not its model's, described; the sizes seen
/// are remembered in `dims` (model id → dimension).
fn wrong_dimension(
    conn: &rusqlite::Connection,
    embeddings: &[ExportedEmbedding],
    dims: &mut std::collections::HashMap<String, usize>,
) -> Result<Option<String>> {
    for (i, e) in embeddings.iter().enumerate() {
        let expected = match dims.get(&e.model_id) {
            Some(d) => *d,
            None => {
                let stored: Option<i64> = rusqlite::OptionalExtension::optional(conn.query_row(
                    "SELECT dim FROM person_embeddings WHERE model_id = ?1 LIMIT 1",
                    [&e.model_id],
                    |r| r.get(0),
                ))?;
                let d = stored.map_or(e.vector.dim(), |d| d as usize);
                dims.insert(e.model_id.clone(), d);
                d
            }
        };
        if e.vector.dim() != expected {
            return Ok(Some(format!(
                "embeddings[{i}]: {} values, but model `{}` makes {expected}-value embeddings",
                e.vector.dim(),
                e.model_id
            )));
        }
    }
    Ok(None)
}

fn to_new(p: &Person) -> NewPerson {
    NewPerson {
        name: p.name.clone(),
        category: p.category.clone(),
        priority: Some(p.priority.as_str().to_owned()),
        case_ref: p.case_ref.clone(),
        valid_from: p.valid_from.map(|t| t.to_rfc3339()),
        expires_at: p.expires_at.map(|t| t.to_rfc3339()),
        notes: p.notes.clone(),
        days: p.scope.days.clone(),
        hours: p.scope.hours.clone(),
        cameras: (!p.scope.cameras.is_empty()).then(|| p.scope.cameras.join(",")),
        area: p.scope.area.clone(),
        covert_list: p.scope.covert_list.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn person(name: &str, category: &str) -> PersonImport {
        PersonImport {
            person: NewPerson { name: name.into(), category: category.into(), ..Default::default() },
            embeddings: vec![ExportedEmbedding {
                model_id: "m".into(),
                vector: Embedding::new(vec![1.0, 2.0]).unwrap(),
                source: Some("a.jpg".into()),
            }],
        }
    }

    #[test]
    fn export_then_import_restores_persons_and_embeddings() {
        let a = Actor::new("t", Some("backup"));
        let mut s = Store::open_in_memory().unwrap();
        s.import_persons(&[(1, person("A", "wanted_person")), (2, person("B", "missing_child"))], "in.json", a, &[])
            .unwrap();
        let mut out = Vec::new();
        assert_eq!(s.export_persons(&mut out, "out.json", a).unwrap(), 2);
        let rows: Vec<PersonImport> = serde_json::from_slice(&out).unwrap();
        let mut s2 = Store::open_in_memory().unwrap();
        s2.import_persons(
            &rows.into_iter().enumerate().map(|(i, r)| (i + 1, r)).collect::<Vec<_>>(),
            "out.json",
            a,
            &[],
        )
        .unwrap();
        assert_eq!(s2.persons().unwrap().len(), 2);
        assert_eq!(s2.embeddings("m").unwrap(), s.embeddings("m").unwrap());
    }

    #[test]
    fn a_bad_row_rejects_the_whole_import() {
        let a = Actor::new("t", None);
        let mut s = Store::open_in_memory().unwrap();
        let err = s
            .import_persons(
                &[(1, person("A", "wanted_person")), (2, person("", "wanted_person")), (3, person("C", "nope"))],
                "x",
                a,
                &[],
            )
            .unwrap_err();
        let Error::ImportRejected(rows) = err else { panic!("{err}") };
        assert_eq!(rows.iter().map(|r| r.row).collect::<Vec<_>>(), [2, 3]);
        assert!(s.persons().unwrap().is_empty());
        assert!(s.embeddings("m").unwrap().is_empty());
        let checked = s.check_persons(&[(1, person("A", "wanted_person")), (2, person("B", "nope"))], &[]).unwrap();
        assert_eq!(checked.iter().map(|r| r.row).collect::<Vec<_>>(), [2]);
        assert!(s.persons().unwrap().is_empty(), "check writes nothing");
    }

    #[test]
    fn an_embedding_of_the_wrong_size_rejects_its_row_by_number() {
        let a = Actor::new("t", Some("load"));
        let mut s = Store::open_in_memory().unwrap();
        let with = |name: &str, v: Vec<f32>| {
            let mut p = person(name, "wanted_person");
            p.embeddings =
                vec![ExportedEmbedding { model_id: "m".into(), vector: Embedding::new(v).unwrap(), source: None }];
            p
        };
        // The model's size is known: a 3-value vector is refused, and nothing is written.
        let err =
            s.import_persons(&[(1, with("A", vec![0.1; 4])), (2, with("B", vec![1.0, 0.0, 0.0]))], "x", a, &[("m", 4)]);
        let Err(Error::ImportRejected(rows)) = err else { panic!("{err:?}") };
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].row, 2);
        assert!(rows[0].message.contains("3 values") && rows[0].message.contains("4-value"), "{}", rows[0].message);
        assert!(s.persons().unwrap().is_empty());
        // Unknown size: the stored embeddings of that model decide.
        s.import_persons(&[(1, with("A", vec![0.1; 4]))], "x", a, &[]).unwrap();
        let err = s.import_persons(&[(1, with("C", vec![0.5; 2]))], "y", a, &[]);
        assert!(matches!(err, Err(Error::ImportRejected(r)) if r[0].row == 1));
        assert_eq!(s.check_persons(&[(7, with("D", vec![0.5; 3]))], &[]).unwrap()[0].row, 7);
        assert_eq!(s.embeddings("m").unwrap().len(), 1, "the gallery keeps its real embeddings");
    }
}
