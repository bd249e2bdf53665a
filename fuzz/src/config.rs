//! `raqib.toml`: the sections whose types and rules live in the library crates (`[analysis]`,
//! `[runtime]`, `[retention]`, `[disk]`, `[server]`), parsed and validated as the binary does
//! for each. Invariant: no panic, whatever the text (huge integers, wrong types, unknown keys).

use serde::de::DeserializeOwned;

fn section<T: DeserializeOwned>(doc: &toml::Table, key: &str) -> Option<T> {
    let value = doc.get(key)?.clone();
    value.try_into().ok()
}

/// The target.
pub fn config(data: &[u8]) {
    let text = crate::text(data);
    let Ok(doc) = text.parse::<toml::Table>() else { return };
    if let Some(p) = section::<raqib_core::AnalysisPolicy>(&doc, "analysis") {
        let _ = p.validate();
    }
    if let Some(r) = section::<raqib_models::RuntimeConfig>(&doc, "runtime") {
        let _ = r.validate();
    }
    if let Some(r) = section::<raqib_events::retention::RetentionPolicy>(&doc, "retention") {
        let _ = r.validate();
    }
    if let Some(d) = section::<raqib_core::disk::DiskPolicy>(&doc, "disk") {
        let _ = d.validate();
    }
    if let Some(s) = section::<raqib_server::ServerConfig>(&doc, "server") {
        let _ = s.validate();
    }
}
