//! What travels between the nodes and the hub: JetStream streams, subjects and messages.
//!
//! - Stream `RAQIB_NODES` (subjects `raqib.node.<node>.>`): each node publishes its alerts
//!   (`raqib.node.<node>.alert`), its operators' actions on them (`…action`), the reads
//!   retention lets it forward (`…read`), the watchlist changes it applied (`…applied`) and
//!   its health (`…health`). Every message carries a `Nats-Msg-Id` made of the node and
//!   the row it comes from, so a re-send after a lost acknowledgement is dropped by JetStream,
//!   and the hub's unique keys make any duplicate that still arrives change nothing.
//! - Stream `RAQIB_WATCHLIST` (subjects `raqib.watchlist.critical`, `raqib.watchlist.routine`):
//!   the national watchlist's changes, published by the hub only. Each node reads them through
//!   two durable consumers of its own and drains the critical one first (a missing-child alert
//!   before a routine entry, also when an offline node catches up).

use serde::{Deserialize, Serialize};

/// The stream of what the nodes publish.
pub const NODES_STREAM: &str = "RAQIB_NODES";
/// The stream of the national watchlist's changes.
pub const WATCHLIST_STREAM: &str = "RAQIB_WATCHLIST";
/// Critical watchlist changes (missing children): applied first.
pub const WATCHLIST_CRITICAL: &str = "raqib.watchlist.critical";
/// Every other watchlist change.
pub const WATCHLIST_ROUTINE: &str = "raqib.watchlist.routine";

/// `raqib.node.<node>.<what>`.
pub fn node_subject(node: &str, what: &str) -> String {
    format!("raqib.node.{node}.{what}")
}

/// The durable consumer names of `node` on the watchlist stream (critical, routine).
pub fn node_consumers(node: &str) -> [String; 2] {
    [format!("node-{node}-critical"), format!("node-{node}-routine")]
}

/// Node ids become subject tokens and user names: letters, digits, `-` and `_`.
pub fn valid_node_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 64 && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// One alert of a node, as the hub stores it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AlertMsg {
    /// The node that raised it.
    pub node: String,
    /// The alert as the node's API shows it (`raqib_events::alerts::Alert`).
    pub alert: serde_json::Value,
}

/// One plate read a node forwards.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ReadMsg {
    /// The node.
    pub node: String,
    /// The read (`raqib_events::store::StoredRead`).
    pub read: serde_json::Value,
}

/// An operator's action on one of a node's alerts (acknowledge, escalate, confirm, reject,
/// overdue), with the alert's state when it was sent.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ActionMsg {
    /// The node.
    pub node: String,
    /// The node's action row (unique per node).
    pub id: i64,
    /// The alert (`p<row>`, `f<row>`).
    pub alert: String,
    /// The alert's state when the action was sent.
    pub state: String,
    /// The action (`raqib_events::alerts::ActionRecord`).
    pub action: serde_json::Value,
}

/// A change of the national watchlist.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Change {
    /// The hub's entry id.
    pub entry_id: i64,
    /// Version of the entry this change makes (grows with every change of the entry).
    pub version: i64,
    /// Add or change (`Some`), or remove (`None`).
    pub entry: Option<raqib_watchlist::NewPlateEntry>,
    /// The plate and category it concerns (a removal names them too).
    pub plate: String,
    /// Category.
    pub category: String,
}

/// A node saying it applied a change.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Applied {
    /// The node.
    pub node: String,
    /// The hub's entry id.
    pub entry_id: i64,
    /// The version applied.
    pub version: i64,
    /// When (node clock).
    pub applied_at: chrono::DateTime<chrono::Utc>,
}
