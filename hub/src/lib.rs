//! # raqib-hub
//!
//! Many nodes, one national hub. Nodes publish their alerts (and the reads retention lets them
//! forward) to NATS JetStream from persisted outboxes; the hub stores them in PostgreSQL and
//! publishes the national watchlist, which every node applies to its local replica (and keeps
//! matching from while the hub or the network is down). See [`subjects`] for what travels where.
//!
//! - [`node`]: a node's link (`[hub]` in `raqib.toml`): outbox publisher and watchlist replica.
//! - [`central`]: the hub (`raqib hub serve`): JetStream → PostgreSQL, national watchlist changes.
//! - [`nats_config`]: the NATS server configuration with one user per node and its permissions.
//! - [`pg`]: the hub's PostgreSQL tables and queries.
//!
//! ## Dependency choices
//! - `async-nats`: the NATS maintainers' Rust client, with JetStream (streams, durable pull
//!   consumers, publish acknowledgements, message-id de-duplication) and reconnection built in.
//! - `tokio-postgres`: the mainstream asynchronous PostgreSQL client (the `postgres` crates'
//!   async core), no ORM: a handful of SQL statements whose unique keys carry exactly-once.

#[cfg(feature = "test-servers")]
pub mod bench;
pub mod central;
pub mod error;
pub mod http;
pub mod nats_config;
pub mod node;
pub mod pg;
pub mod search;
pub mod subjects;
#[cfg(feature = "test-servers")]
pub mod testing;

pub use error::{Error, Result};
