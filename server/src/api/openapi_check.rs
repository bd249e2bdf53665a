//! Keeping an `openapi.yaml` true to its router: the paths a router's source declares and the
//! paths a description documents, to compare in a test (the node's and the hub's).

use std::collections::BTreeSet;

/// The API paths `source` routes (`.route("/api…"` and the probes `/metrics`, `/healthz`,
/// `/readyz`).
pub fn routed_paths(source: &str) -> BTreeSet<String> {
    source
        .split(".route(\"")
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .filter(|p| p.starts_with("/api") || ["/metrics", "/healthz", "/readyz"].contains(p))
        .map(str::to_owned)
        .collect()
}

/// The paths `yaml` documents (its `paths:` keys, two spaces in).
pub fn described_paths(yaml: &str) -> BTreeSet<String> {
    yaml.lines()
        .filter_map(|l| l.strip_prefix("  /"))
        .filter_map(|rest| rest.find(':').map(|end| format!("/{}", &rest[..end])))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_routes_and_paths() {
        let source = r#".route("/api/a/{id}", get(x)).route("/healthz", get(y)).route("/", get(z))"#;
        assert_eq!(routed_paths(source), ["/api/a/{id}", "/healthz"].map(String::from).into());
        let yaml = "paths:\n  /api/a/{id}:\n    get: {}\n  /healthz:\n    get: {}\n";
        assert_eq!(described_paths(yaml), routed_paths(source));
    }
}
