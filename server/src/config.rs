//! The `[server]` section of `raqib.toml`: where the console listens, upload limits, sessions,
//! and the sinks that forward alerts (`[[server.webhooks]]`, `[server.mqtt]`).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

use crate::error::Error;

/// Largest `max_upload_bytes` accepted.
pub const MAX_UPLOAD_BYTES: u64 = 100 * 1024 * 1024;
/// Longest `session_hours` accepted.
pub const MAX_SESSION_HOURS: u64 = 168;

/// The `[server]` section.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// Address the console and API listen on. Loopback by default: exposing a node is a choice
    /// the operator makes explicitly.
    pub bind: SocketAddr,
    /// Largest accepted upload (photos for enrolment or search), in bytes.
    pub max_upload_bytes: u64,
    /// Largest decoded size of an uploaded photo, in pixels (a face photo needs far less);
    /// larger: 413 before anything is decoded.
    pub max_upload_pixels: u64,
    /// Seconds a client has to send a request's headers (also the first request of a new
    /// connection); slower: the connection is closed.
    pub header_timeout_s: u64,
    /// Open connections at most (well below the process's descriptor limit, so the cameras
    /// always have descriptors); more: closed at once.
    pub max_connections: usize,
    /// Open connections from one address at most.
    pub max_connections_per_address: usize,
    /// How long a console login lasts, in hours.
    pub session_hours: u64,
    /// Mark the session cookie `Secure` (set when the console is served behind HTTPS).
    pub secure_cookies: bool,
    /// Host names the console answers to (the `Host` header), besides `localhost` and IP
    /// literals, which always pass: a request naming any other host is refused (421), so a web
    /// page elsewhere cannot reach the node through DNS rebinding. Add the node's DNS name here
    /// when it is served under one.
    pub allowed_hosts: Vec<String>,
    /// Webhooks that receive every alert.
    pub webhooks: Vec<WebhookConfig>,
    /// An MQTT broker that receives every alert.
    pub mqtt: Option<MqttConfig>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            bind: SocketAddr::from(([127, 0, 0, 1], 8080)),
            max_upload_bytes: 10 * 1024 * 1024,
            max_upload_pixels: 16_000_000,
            header_timeout_s: 10,
            max_connections: 256,
            max_connections_per_address: 32,
            session_hours: 12,
            secure_cookies: false,
            allowed_hosts: Vec::new(),
            webhooks: Vec::new(),
            mqtt: None,
        }
    }
}

/// `[[server.webhooks]]`: alerts (and escalations) POSTed as JSON, signed with HMAC-SHA256.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookConfig {
    /// Name of the sink (its delivery cursor is kept under this name).
    pub name: String,
    /// Receiver URL (`http://` or `https://`).
    pub url: String,
    /// Environment variable holding the HMAC secret.
    pub secret_env: Option<String>,
    /// File holding the HMAC secret (first line).
    pub secret_file: Option<PathBuf>,
    /// Per-request timeout in milliseconds.
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
    /// Longest wait between retries, in seconds.
    #[serde(default = "default_max_backoff_s")]
    pub max_backoff_s: u64,
    /// Also forward operators' escalations (`"event": "escalation"`), after the alerts.
    #[serde(default = "default_escalations")]
    pub escalations: bool,
}

/// `[server.mqtt]`: alerts published with QoS 1 on `<topic_prefix>/<node>/alerts/<camera>/<category>`
/// (escalations on `…/escalations/…`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MqttConfig {
    /// Broker host.
    pub host: String,
    /// Broker port.
    #[serde(default = "default_mqtt_port")]
    pub port: u16,
    /// MQTT client id (default `raqib-<node>`).
    pub client_id: Option<String>,
    /// First topic level.
    #[serde(default = "default_topic_prefix")]
    pub topic_prefix: String,
    /// User name, if the broker wants one.
    pub username: Option<String>,
    /// Environment variable holding the password.
    pub password_env: Option<String>,
    /// Longest wait between retries, in seconds.
    #[serde(default = "default_max_backoff_s")]
    pub max_backoff_s: u64,
    /// Also publish operators' escalations, on `<topic_prefix>/<node>/escalations/<camera>/<category>`.
    #[serde(default = "default_escalations")]
    pub escalations: bool,
}

fn default_escalations() -> bool {
    true
}
fn default_timeout_ms() -> u64 {
    5000
}
fn default_max_backoff_s() -> u64 {
    30
}
fn default_mqtt_port() -> u16 {
    1883
}
fn default_topic_prefix() -> String {
    "raqib".into()
}

impl WebhookConfig {
    /// The HMAC secret, from the environment variable or the file.
    pub fn secret(&self) -> Result<Vec<u8>, Error> {
        let key = "webhooks.secret_env";
        if let Some(var) = &self.secret_env {
            return std::env::var(var)
                .map(String::into_bytes)
                .map_err(|_| Error::InvalidConfig { key, message: format!("environment variable {var} is not set") });
        }
        if let Some(path) = &self.secret_file {
            let text = std::fs::read_to_string(path).map_err(|e| Error::InvalidConfig {
                key: "webhooks.secret_file",
                message: format!("{}: {e}", path.display()),
            })?;
            return Ok(text.lines().next().unwrap_or_default().trim().as_bytes().to_vec());
        }
        Err(Error::InvalidConfig { key, message: format!("webhook `{}` needs secret_env or secret_file", self.name) })
    }

    /// Longest retry wait.
    pub fn max_backoff(&self) -> Duration {
        Duration::from_secs(self.max_backoff_s.max(1))
    }
}

impl ServerConfig {
    /// Checks values that parse but make no sense.
    pub fn validate(&self) -> Result<(), Error> {
        let bad = |key, message: &str| Err(Error::InvalidConfig { key, message: message.into() });
        if self.max_upload_bytes == 0 {
            return bad("max_upload_bytes", "must be > 0");
        }
        if self.max_upload_bytes > MAX_UPLOAD_BYTES {
            return bad("max_upload_bytes", "must be at most 104857600 (100 MiB)");
        }
        if self.max_upload_pixels == 0 || self.max_upload_pixels > 64_000_000 {
            return bad("max_upload_pixels", "must be between 1 and 64000000");
        }
        if self.header_timeout_s == 0 || self.header_timeout_s > 300 {
            return bad("header_timeout_s", "must be between 1 and 300");
        }
        if self.max_connections == 0 || self.max_connections > 4096 {
            return bad("max_connections", "must be between 1 and 4096");
        }
        if self.max_connections_per_address == 0 || self.max_connections_per_address > self.max_connections {
            return bad("max_connections_per_address", "must be between 1 and max_connections");
        }
        if self.session_hours == 0 || self.session_hours > MAX_SESSION_HOURS {
            return bad("session_hours", "must be between 1 and 168 (a week)");
        }
        for h in &self.allowed_hosts {
            if h.is_empty() || h.contains([':', '/', ' ']) {
                return bad("allowed_hosts", &format!("`{h}` is not a host name (no port, scheme or path)"));
            }
        }
        let mut names = std::collections::HashSet::new();
        for w in &self.webhooks {
            if !(w.url.starts_with("http://") || w.url.starts_with("https://")) {
                return bad("webhooks.url", &format!("`{}` is not an http(s) URL", w.url));
            }
            if w.name.is_empty() || !names.insert(w.name.as_str()) {
                return bad("webhooks.name", &format!("`{}` is empty or used twice", w.name));
            }
            if w.secret_env.is_none() && w.secret_file.is_none() {
                return bad("webhooks.secret_env", &format!("webhook `{}` needs secret_env or secret_file", w.name));
            }
            if w.timeout_ms == 0 || w.timeout_ms > 60_000 {
                return bad("webhooks.timeout_ms", "must be between 1 and 60000");
            }
            if w.max_backoff_s == 0 || w.max_backoff_s > 3600 {
                return bad("webhooks.max_backoff_s", "must be between 1 and 3600");
            }
        }
        if let Some(m) = &self.mqtt
            && (m.host.is_empty() || m.topic_prefix.is_empty() || m.topic_prefix.contains(['#', '+']))
        {
            return bad("mqtt", "host and topic_prefix must be set; the prefix may not hold MQTT wildcards");
        }
        if let Some(m) = &self.mqtt
            && (m.max_backoff_s == 0 || m.max_backoff_s > 3600)
        {
            return bad("mqtt.max_backoff_s", "must be between 1 and 3600");
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

    #[test]
    fn webhooks_need_a_url_and_a_secret() {
        let hook = WebhookConfig {
            name: "cc".into(),
            url: "ftp://x".into(),
            secret_env: Some("X".into()),
            secret_file: None,
            timeout_ms: 10,
            max_backoff_s: 1,
            escalations: true,
        };
        let c = ServerConfig { webhooks: vec![hook.clone()], ..ServerConfig::default() };
        assert!(c.validate().unwrap_err().to_string().contains("server.webhooks.url"));
        let no_secret = WebhookConfig { url: "http://h/".into(), secret_env: None, ..hook };
        let c = ServerConfig { webhooks: vec![no_secret], ..ServerConfig::default() };
        assert!(c.validate().unwrap_err().to_string().contains("server.webhooks.secret_env"));
    }
}
