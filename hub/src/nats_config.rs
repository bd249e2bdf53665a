//! The NATS server configuration of a deployment: JetStream on, one user for the hub and one per
//! node, each node allowed to publish only its own subjects and to read only its own watchlist
//! consumers (see [`crate::subjects`]). Every client has an inbox prefix of its own
//! (`_INBOX_<user>`), so no node can read the replies meant for the hub or another node.
//!
//! Passwords are written in the file as given: keep it readable by the NATS server's user only
//! (0600). TLS: add a `tls { cert_file, key_file }` block to the generated file and give the
//! nodes `tls://` URLs; the clients verify the server against the system's roots (or
//! `[hub] ca_file`).

use crate::subjects::{NODES_STREAM, WATCHLIST_STREAM, node_consumers};

/// One NATS user.
#[derive(Debug, Clone)]
pub struct User {
    /// `hub` or the node id.
    pub name: String,
    /// Its password.
    pub password: String,
}

/// The inbox prefix of `user`.
pub fn inbox_prefix(user: &str) -> String {
    format!("_INBOX_{user}")
}

fn quoted(items: &[String]) -> String {
    items.iter().map(|s| format!("{s:?}")).collect::<Vec<_>>().join(", ")
}

/// The subjects node `node` may publish to.
pub fn node_publish(node: &str) -> Vec<String> {
    let mut allow = vec![format!("raqib.node.{node}.>"), format!("$JS.API.STREAM.INFO.{WATCHLIST_STREAM}")];
    for c in node_consumers(node) {
        for api in ["INFO", "CREATE", "DURABLE.CREATE", "MSG.NEXT"] {
            allow.push(format!("$JS.API.CONSUMER.{api}.{WATCHLIST_STREAM}.{c}"));
        }
        allow.push(format!("$JS.API.CONSUMER.CREATE.{WATCHLIST_STREAM}.{c}.>"));
        allow.push(format!("$JS.ACK.{WATCHLIST_STREAM}.{c}.>"));
    }
    allow
}

/// A nats-server configuration listening on `listen`, storing JetStream under `store_dir`.
pub fn server_config(listen: &str, store_dir: &str, hub: &User, nodes: &[User]) -> String {
    let mut users = vec![format!(
        "    {{ user: {:?}, password: {:?}, permissions: {{ publish: \">\", subscribe: \">\" }} }}",
        hub.name, hub.password
    )];
    for n in nodes {
        users.push(format!(
            "    {{ user: {:?}, password: {:?}, permissions: {{ publish: {{ allow: [{}] }}, subscribe: {{ allow: [{:?}] }} }} }}",
            n.name,
            n.password,
            quoted(&node_publish(&n.name)),
            format!("{}.>", inbox_prefix(&n.name))
        ));
    }
    format!(
        "# raqib national hub: JetStream streams {NODES_STREAM} and {WATCHLIST_STREAM}; one user per node.\n\
         listen: {listen:?}\njetstream {{ store_dir: {store_dir:?} }}\nauthorization {{\n  users: [\n{}\n  ]\n}}\n",
        users.join(",\n")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_node_may_publish_on_its_own_subjects_and_consumers_only() {
        let allow = node_publish("gate1");
        assert!(allow.contains(&"raqib.node.gate1.>".to_owned()));
        assert!(allow.iter().all(|s| !s.starts_with("raqib.watchlist")), "{allow:?}");
        assert!(allow.iter().all(|s| !s.contains("RAQIB_NODES")), "{allow:?}");
        let conf = server_config(
            "127.0.0.1:4222",
            "/tmp/js",
            &User { name: "hub".into(), password: "p".into() },
            &[User { name: "gate1".into(), password: "q".into() }],
        );
        assert!(conf.contains("jetstream") && conf.contains("\"_INBOX_gate1.>\""), "{conf}");
    }
}
