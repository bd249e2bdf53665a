//! # raqib-server
//!
//! The operator and analyst side of a node: REST API, live alerts, web console, webhook and MQTT
//! sinks, users and roles. It presents what `raqib-pipeline` produces.
//!
//! What exists so far: the `[server]` configuration section and its validation. The API itself is
//! tracked by the Console issue.

use std::net::SocketAddr;

use serde::Deserialize;

/// Errors of the server crate.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A `[server]` key is invalid.
    #[error("server.{key}: {message}")]
    InvalidConfig {
        /// The key inside `[server]`.
        key: &'static str,
        /// What is wrong.
        message: String,
    },
}

/// The `[server]` section of `raqib.toml`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// Address the console and API listen on. Loopback by default: exposing a node is a choice
    /// the operator makes explicitly.
    pub bind: SocketAddr,
    /// Largest accepted upload (photos for enrolment or search), in bytes.
    pub max_upload_bytes: u64,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig { bind: SocketAddr::from(([127, 0, 0, 1], 8080)), max_upload_bytes: 10 * 1024 * 1024 }
    }
}

impl ServerConfig {
    /// Checks values that parse but make no sense.
    pub fn validate(&self) -> Result<(), Error> {
        if self.max_upload_bytes == 0 {
            return Err(Error::InvalidConfig { key: "max_upload_bytes", message: "must be > 0".into() });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_bind_loopback_only() {
        let c = ServerConfig::default();
        assert!(c.bind.ip().is_loopback());
        assert!(c.validate().is_ok());
        let bad = ServerConfig { max_upload_bytes: 0, ..c };
        assert_eq!(bad.validate().unwrap_err().to_string(), "server.max_upload_bytes: must be > 0");
    }
}
