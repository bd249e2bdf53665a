//! Persons and their enrolment embeddings in the store.

use raqib_core::Embedding;
use rusqlite::{Connection, OptionalExtension, Row, params};

use super::{Actor, Store, category_priority, from_ts, now_ts, to_ts};
use crate::audit::record;
use crate::entry::{NewPerson, Person, Priority, parse_time};
use crate::error::{Error, Result};

const SELECT: &str = "SELECT id, name, category, priority, case_ref, valid_from, expires_at, notes, scope FROM persons";

fn from_row(r: &Row) -> rusqlite::Result<Person> {
    Ok(Person {
        id: r.get(0)?,
        name: r.get(1)?,
        category: r.get(2)?,
        priority: Priority::from_i64(r.get(3)?).unwrap_or(Priority::Low),
        case_ref: r.get(4)?,
        valid_from: from_ts(r.get(5)?),
        expires_at: from_ts(r.get(6)?),
        notes: r.get(7)?,
        // A scope that no longer reads restricts nothing (the person keeps alerting).
        scope: r.get::<_, Option<String>>(8)?.and_then(|j| serde_json::from_str(&j).ok()).unwrap_or_default(),
    })
}

/// One stored enrolment embedding.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredEmbedding {
    /// Row id.
    pub id: i64,
    /// Whose.
    pub person_id: i64,
    /// The embedding.
    pub embedding: Embedding,
}

impl Store {
    /// Adds a person (no embeddings yet: enrol photos next).
    pub fn add_person(&mut self, new: &NewPerson, actor: Actor) -> Result<Person> {
        let tx = self.conn.transaction()?;
        let id = insert_person(&tx, new)?;
        record(&tx, actor, "person.add", Some(&format!("person:{id}")), None)?;
        tx.commit()?;
        self.person(id)
    }

    /// Removes a person and their embeddings; linked plates stay, unlinked.
    pub fn remove_person(&mut self, id: i64, actor: Actor) -> Result<Person> {
        crate::transfer::require_reason(&actor, "removing a person")?;
        let person = self.person(id)?;
        let tx = self.conn.transaction()?;
        tx.execute("DELETE FROM persons WHERE id = ?1", [id])?;
        // The audit names the person by id only: the name must not outlive the removal.
        record(&tx, actor, "person.remove", Some(&format!("person:{id}")), None)?;
        tx.commit()?;
        self.scrub()?;
        Ok(person)
    }

    /// One person.
    pub fn person(&self, id: i64) -> Result<Person> {
        self.conn
            .query_row(&format!("{SELECT} WHERE id = ?1"), [id], from_row)
            .optional()?
            .ok_or(Error::NotFound { kind: "person", id })
    }

    /// Every person, by id.
    pub fn persons(&self) -> Result<Vec<Person>> {
        let mut stmt = self.conn.prepare(&format!("{SELECT} ORDER BY id"))?;
        let rows = stmt.query_map([], from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Stores an enrolment embedding computed by `model_id` (the face embedder's manifest id).
    pub fn add_embedding(
        &mut self,
        person_id: i64,
        model_id: &str,
        embedding: &Embedding,
        source: Option<&str>,
        actor: Actor,
    ) -> Result<i64> {
        self.person(person_id)?;
        let tx = self.conn.transaction()?;
        let id = insert_embedding(&tx, person_id, model_id, embedding, source)?;
        record(&tx, actor, "person.enroll", Some(&format!("person:{person_id}")), Some(model_id))?;
        tx.commit()?;
        Ok(id)
    }

    /// Every embedding of one person, all models, for export.
    pub fn person_embeddings(&self, person_id: i64) -> Result<Vec<crate::transfer_persons::ExportedEmbedding>> {
        let mut stmt = self
            .conn
            .prepare("SELECT model_id, vector, source FROM person_embeddings WHERE person_id = ?1 ORDER BY id")?;
        let rows = stmt.query_map([person_id], |r| Ok((r.get::<_, String>(0)?, r.get::<_, Vec<u8>>(1)?, r.get(2)?)))?;
        let mut out = Vec::new();
        for row in rows {
            let (model_id, bytes, source) = row?;
            let vector = Embedding::from_le_bytes(&bytes).map_err(|e| Error::invalid("embedding", e.to_string()))?;
            out.push(crate::transfer_persons::ExportedEmbedding { model_id, vector, source });
        }
        Ok(out)
    }

    /// Embeddings made by `model_id`. Embeddings of other models are never returned: comparing
    /// vectors of different models gives meaningless similarities.
    pub fn embeddings(&self, model_id: &str) -> Result<Vec<StoredEmbedding>> {
        let mut stmt =
            self.conn.prepare("SELECT id, person_id, vector FROM person_embeddings WHERE model_id = ?1 ORDER BY id")?;
        let rows =
            stmt.query_map([model_id], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?, r.get::<_, Vec<u8>>(2)?)))?;
        let mut out = Vec::new();
        for row in rows {
            let (id, person_id, bytes) = row?;
            match Embedding::from_le_bytes(&bytes) {
                Ok(embedding) => out.push(StoredEmbedding { id, person_id, embedding }),
                Err(e) => tracing::warn!(embedding = id, error = %e, "skipping unreadable embedding"),
            }
        }
        Ok(out)
    }

    /// Persons with no embedding from `model_id`: they must be re-enrolled (with their photos)
    /// before face matching can find them, e.g. after the face model changed.
    pub fn persons_needing_enrolment(&self, model_id: &str) -> Result<Vec<Person>> {
        let mut stmt = self.conn.prepare(&format!(
            "{SELECT} WHERE id NOT IN (SELECT person_id FROM person_embeddings WHERE model_id = ?1) ORDER BY id"
        ))?;
        let rows = stmt.query_map([model_id], from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

/// Checks and inserts a person; returns the id. Errors name the field.
pub(crate) fn insert_person(conn: &Connection, new: &NewPerson) -> Result<i64> {
    let name = new.name.trim();
    if name.is_empty() {
        return Err(Error::invalid("name", "must not be empty"));
    }
    let category = new.category.trim();
    let default_priority = category_priority(conn, category)?;
    let priority = match new.priority.as_deref().map(str::trim).filter(|p| !p.is_empty()) {
        Some(p) => Priority::parse(p)?,
        None => default_priority,
    };
    let valid_from = parse_time("valid_from", new.valid_from.as_deref())?;
    let expires_at = parse_time("expires_at", new.expires_at.as_deref())?;
    let scope = new.scope()?;
    let scope = (!scope.is_empty()).then(|| serde_json::to_string(&scope).unwrap_or_default());
    conn.execute(
        "INSERT INTO persons (name, category, priority, case_ref, valid_from, expires_at, notes, created_at, updated_at, scope)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8, ?9)",
        params![
            name,
            category,
            priority as i64,
            new.case_ref,
            to_ts(valid_from),
            to_ts(expires_at),
            new.notes,
            now_ts(),
            scope
        ],
    )?;
    Ok(conn.last_insert_rowid())
}

/// Inserts an embedding row; returns its id.
pub(crate) fn insert_embedding(
    conn: &Connection,
    person_id: i64,
    model_id: &str,
    embedding: &Embedding,
    source: Option<&str>,
) -> Result<i64> {
    conn.execute(
        "INSERT INTO person_embeddings (person_id, model_id, dim, vector, source, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![person_id, model_id, embedding.dim() as i64, embedding.to_le_bytes(), source, now_ts()],
    )?;
    Ok(conn.last_insert_rowid())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_change_forces_re_enrolment() {
        let mut s = Store::open_in_memory().unwrap();
        let a = Actor::new("t", Some("case 9"));
        let p = s
            .add_person(
                &NewPerson { name: "Child A".into(), category: "missing_child".into(), ..Default::default() },
                a,
            )
            .unwrap();
        assert_eq!(p.priority, Priority::Critical);
        let e = Embedding::new(vec![1.0, 0.0, 0.0]).unwrap();
        s.add_embedding(p.id, "face-embed-512", &e, Some("photo1.jpg"), a).unwrap();
        assert_eq!(s.embeddings("face-embed-512").unwrap().len(), 1);
        assert!(s.persons_needing_enrolment("face-embed-512").unwrap().is_empty());
        // A new model: the old embeddings are not offered, and the person is flagged.
        assert!(s.embeddings("face-embed-v2").unwrap().is_empty());
        assert_eq!(s.persons_needing_enrolment("face-embed-v2").unwrap()[0].id, p.id);
    }

    #[test]
    fn a_person_keeps_the_scope_and_covert_list_given_and_a_bad_one_is_named() {
        let mut s = Store::open_in_memory().unwrap();
        let a = Actor::new("t", Some("op heron"));
        let new = NewPerson {
            name: "Suspect H".into(),
            category: "wanted_person".into(),
            days: Some("Mon-Fri".into()),
            cameras: Some("gate, road".into()),
            covert_list: Some("op-heron".into()),
            ..Default::default()
        };
        let p = s.add_person(&new, a).unwrap();
        assert_eq!(p.scope.days.as_deref(), Some("mon,tue,wed,thu,fri"));
        assert_eq!(p.scope.cameras, ["gate", "road"]);
        assert_eq!(s.persons().unwrap()[0].scope.covert_list.as_deref(), Some("op-heron"));
        // Export and import into another node: the scope travels with the person.
        let mut out = Vec::new();
        s.export_persons(&mut out, "file", a).unwrap();
        let rows: Vec<crate::transfer_persons::PersonImport> = serde_json::from_slice(&out).unwrap();
        let mut other = Store::open_in_memory().unwrap();
        let numbered: Vec<_> = rows.into_iter().enumerate().map(|(i, r)| (i + 1, r)).collect();
        other.import_persons(&numbered, "file", a, &[]).unwrap();
        assert_eq!(other.persons().unwrap()[0].scope, p.scope);
        for (bad, field) in [
            (NewPerson { days: Some("someday".into()), ..new.clone() }, "days"),
            (NewPerson { covert_list: Some("no spaces please".into()), ..new.clone() }, "covert_list"),
            (NewPerson { area: Some("34.0,-6.8".into()), ..new.clone() }, "area"),
        ] {
            let e = s.add_person(&bad, a).unwrap_err().to_string();
            assert!(e.starts_with(field), "{field}: {e}");
        }
        assert_eq!(s.persons().unwrap().len(), 1, "a refused person is not added");
    }

    #[test]
    fn removing_a_person_removes_embeddings() {
        let mut s = Store::open_in_memory().unwrap();
        let a = Actor::new("t", Some("case 3"));
        let p = s
            .add_person(&NewPerson { name: "X".into(), category: "wanted_person".into(), ..Default::default() }, a)
            .unwrap();
        s.add_embedding(p.id, "m", &Embedding::new(vec![0.0, 1.0]).unwrap(), None, a).unwrap();
        s.remove_person(p.id, a).unwrap();
        assert!(s.embeddings("m").unwrap().is_empty());
        assert!(s.add_embedding(p.id, "m", &Embedding::new(vec![1.0]).unwrap(), None, a).is_err());
    }

    #[test]
    fn a_removal_needs_a_reason_and_leaves_no_name_photo_or_embedding_in_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("watchlist.db");
        let mut s = Store::open(&path).unwrap();
        let a = Actor::new("amina", Some("case 2026/77"));
        let name = "Zineb Qadiri-Testname";
        let p = s
            .add_person(&NewPerson { name: name.into(), category: "wanted_person".into(), ..Default::default() }, a)
            .unwrap();
        // A 512-value embedding with a recognisable byte pattern.
        let values: Vec<f32> = (0..512).map(|i| 0.001 + i as f32 * 1e-4).collect();
        let e = Embedding::new(values).unwrap();
        s.add_embedding(p.id, "face-embed-512", &e, Some("photos/zineb-qadiri.jpg"), a).unwrap();
        for reason in [None, Some(""), Some("ab"), Some("x\ny")] {
            assert!(
                matches!(s.remove_person(p.id, Actor::new("amina", reason)), Err(Error::ReasonRequired(_))),
                "{reason:?}"
            );
        }
        assert_eq!(s.person(p.id).unwrap().name, name, "a refused removal removes nothing");
        s.remove_person(p.id, a).unwrap();
        drop(s);
        let needle_f32: Vec<u8> = e.as_slice()[100..108].iter().flat_map(|v| v.to_le_bytes()).collect();
        for file in std::fs::read_dir(dir.path()).unwrap() {
            let file = file.unwrap().path();
            let bytes = std::fs::read(&file).unwrap();
            let has = |n: &[u8]| bytes.windows(n.len()).any(|w| w == n);
            assert!(!has(name.as_bytes()), "name left in {}", file.display());
            assert!(!has(b"zineb-qadiri.jpg"), "photo path left in {}", file.display());
            assert!(!has(&needle_f32), "embedding left in {}", file.display());
        }
    }
}
