//! Schema migrations. Each step runs once, in order, inside a transaction; `PRAGMA user_version`
//! records how far a file has come.

/// Migration steps; index + 1 is the schema version after the step.
pub(crate) const MIGRATIONS: &[&str] = &[
    // 1: entries, embeddings, audit, and a revision counter bumped on every change so a running
    //    node (or another process) can notice changes cheaply.
    r#"
    CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
    INSERT INTO meta (key, value) VALUES ('revision', 0);

    CREATE TABLE categories (
        name TEXT PRIMARY KEY,
        default_priority INTEGER NOT NULL CHECK (default_priority BETWEEN 1 AND 4),
        description TEXT NOT NULL DEFAULT ''
    );

    CREATE TABLE persons (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL,
        category TEXT NOT NULL REFERENCES categories(name),
        priority INTEGER NOT NULL CHECK (priority BETWEEN 1 AND 4),
        case_ref TEXT,
        valid_from INTEGER,
        expires_at INTEGER,
        notes TEXT,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
    );

    CREATE TABLE person_embeddings (
        id INTEGER PRIMARY KEY,
        person_id INTEGER NOT NULL REFERENCES persons(id) ON DELETE CASCADE,
        model_id TEXT NOT NULL,
        dim INTEGER NOT NULL,
        vector BLOB NOT NULL,
        source TEXT,
        created_at INTEGER NOT NULL
    );
    CREATE INDEX person_embeddings_model ON person_embeddings(model_id);

    CREATE TABLE plate_entries (
        id INTEGER PRIMARY KEY,
        plate_key TEXT NOT NULL,
        plate_canonical TEXT NOT NULL,
        plate_format TEXT NOT NULL,
        original TEXT NOT NULL,
        country TEXT,
        category TEXT NOT NULL REFERENCES categories(name),
        priority INTEGER NOT NULL CHECK (priority BETWEEN 1 AND 4),
        case_ref TEXT,
        issuing_unit TEXT,
        vehicle_make TEXT,
        vehicle_colour TEXT,
        valid_from INTEGER,
        expires_at INTEGER,
        notes TEXT,
        person_id INTEGER REFERENCES persons(id) ON DELETE SET NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        UNIQUE (plate_key, category)
    );
    CREATE INDEX plate_entries_key ON plate_entries(plate_key);

    CREATE TABLE audit (
        id INTEGER PRIMARY KEY,
        at INTEGER NOT NULL,
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        target TEXT,
        reason TEXT,
        detail TEXT
    );
    CREATE INDEX audit_at ON audit(at);

    CREATE TRIGGER plate_entries_ins AFTER INSERT ON plate_entries BEGIN UPDATE meta SET value = value + 1 WHERE key = 'revision'; END;
    CREATE TRIGGER plate_entries_upd AFTER UPDATE ON plate_entries BEGIN UPDATE meta SET value = value + 1 WHERE key = 'revision'; END;
    CREATE TRIGGER plate_entries_del AFTER DELETE ON plate_entries BEGIN UPDATE meta SET value = value + 1 WHERE key = 'revision'; END;
    CREATE TRIGGER persons_ins AFTER INSERT ON persons BEGIN UPDATE meta SET value = value + 1 WHERE key = 'revision'; END;
    CREATE TRIGGER persons_upd AFTER UPDATE ON persons BEGIN UPDATE meta SET value = value + 1 WHERE key = 'revision'; END;
    CREATE TRIGGER persons_del AFTER DELETE ON persons BEGIN UPDATE meta SET value = value + 1 WHERE key = 'revision'; END;
    CREATE TRIGGER embeddings_ins AFTER INSERT ON person_embeddings BEGIN UPDATE meta SET value = value + 1 WHERE key = 'revision'; END;
    CREATE TRIGGER embeddings_del AFTER DELETE ON person_embeddings BEGIN UPDATE meta SET value = value + 1 WHERE key = 'revision'; END;
    "#,
    // 2: the audit log becomes append-only and hash-chained (see `audit`): rows written before
    //    get their hashes once, on open; UPDATE is refused on rows that have one, DELETE unless
    //    the retention purge is running.
    r#"
    ALTER TABLE audit ADD COLUMN prev_hash TEXT;
    ALTER TABLE audit ADD COLUMN hash TEXT;
    CREATE TABLE audit_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    INSERT INTO audit_meta (key, value) VALUES ('lock', '0'), ('purging', '0');
    CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit WHEN OLD.hash IS NOT NULL
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
    CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
    WHEN (SELECT value FROM audit_meta WHERE key = 'purging') <> '1'
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
    "#,
    // 3: where and when an entry alerts, and its covert list (`scope`, JSON; NULL: unscoped).
    r#"
    ALTER TABLE plate_entries ADD COLUMN scope TEXT;
    "#,
    // 4: persons get the same scope as plate entries (where and when they alert, covert list).
    r#"
    ALTER TABLE persons ADD COLUMN scope TEXT;
    "#,
];
