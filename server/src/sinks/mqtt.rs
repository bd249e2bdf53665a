//! MQTT sink: each alert published with QoS 1 on
//! `<topic_prefix>/<node>/alerts/<camera>/<category>`, escalations on
//! `<topic_prefix>/<node>/escalations/<camera>/<category>` (topic levels cleaned of `/`, `+`, `#`).
//! A delivery counts once the broker acknowledged it (PUBACK); the client reconnects by itself
//! through its event loop and re-sends unacknowledged publishes after a reconnection, so a
//! delivery is published once and then waited for (up to 60 s) rather than re-published.

use std::time::Duration;

use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};
use tokio::sync::mpsc;

use super::{Deliver, Delivery, DeliveryEvent, Failure};
use crate::config::MqttConfig;
use crate::error::{Error, Result};

/// A connected (or reconnecting) MQTT publisher.
pub struct Mqtt {
    client: AsyncClient,
    acks: mpsc::Receiver<()>,
    prefix: String,
}

/// One topic level: no separators or wildcards.
fn level(s: &str) -> String {
    let cleaned: String = s.chars().map(|c| if matches!(c, '/' | '+' | '#') { '_' } else { c }).collect();
    if cleaned.is_empty() { "_".into() } else { cleaned }
}

/// The topic of an alert or of an escalation.
pub fn topic(prefix: &str, node: &str, event: DeliveryEvent, camera: &str, category: &str) -> String {
    let kind = match event {
        DeliveryEvent::Alert => "alerts",
        DeliveryEvent::Escalation => "escalations",
    };
    format!("{prefix}/{}/{kind}/{}/{}", level(node), level(camera), level(category))
}

impl Mqtt {
    /// Creates the client and drives its event loop on the current runtime.
    pub fn start(cfg: &MqttConfig, node: &str) -> Result<Mqtt> {
        let id = cfg.client_id.clone().unwrap_or_else(|| format!("raqib-{node}"));
        let mut opts = MqttOptions::new(id, cfg.host.clone(), cfg.port);
        opts.set_keep_alive(Duration::from_secs(15));
        if let Some(user) = &cfg.username {
            let password = match &cfg.password_env {
                Some(var) => std::env::var(var).map_err(|_| Error::InvalidConfig {
                    key: "mqtt.password_env",
                    message: format!("environment variable {var} is not set"),
                })?,
                None => String::new(),
            };
            opts.set_credentials(user.clone(), password);
        }
        let (client, mut eventloop) = AsyncClient::new(opts, 64);
        let (tx, acks) = mpsc::channel(64);
        tokio::spawn(async move {
            let mut failing = false;
            loop {
                match eventloop.poll().await {
                    Ok(Event::Incoming(Packet::PubAck(_))) => {
                        let _ = tx.try_send(());
                    }
                    Ok(Event::Incoming(Packet::ConnAck(_))) => {
                        if failing {
                            tracing::info!("MQTT broker reconnected");
                        }
                        failing = false;
                    }
                    Ok(_) => {}
                    Err(e) => {
                        if !failing {
                            tracing::warn!(error = %e, "MQTT broker unreachable; retrying");
                        }
                        failing = true;
                        tokio::time::sleep(Duration::from_secs(1)).await;
                    }
                }
            }
        });
        Ok(Mqtt { client, acks, prefix: cfg.topic_prefix.clone() })
    }
}

impl Deliver for Mqtt {
    async fn deliver(&mut self, d: &Delivery<'_>) -> Result<(), Failure> {
        while self.acks.try_recv().is_ok() {} // stale acks of earlier, timed-out attempts
        let payload = serde_json::to_vec(d).map_err(|e| Failure::Reject(e.to_string()))?;
        let topic = topic(&self.prefix, d.node, d.event, &d.alert.camera, &d.alert.category);
        self.client
            .publish(topic, QoS::AtLeastOnce, false, payload)
            .await
            .map_err(|e| Failure::Retry(e.to_string()))?;
        match tokio::time::timeout(Duration::from_secs(60), self.acks.recv()).await {
            Ok(Some(())) => Ok(()),
            _ => Err(Failure::Retry("no PUBACK from the broker within 60 s".into())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topics_cannot_be_split_or_wildcarded_by_names() {
        assert_eq!(
            topic("raqib", "node-1", DeliveryEvent::Alert, "gate/north", "stolen#"),
            "raqib/node-1/alerts/gate_north/stolen_"
        );
        assert_eq!(topic("raqib", "n", DeliveryEvent::Alert, "", "+"), "raqib/n/alerts/_/_");
        assert_eq!(topic("raqib", "n", DeliveryEvent::Escalation, "gate", "bolo"), "raqib/n/escalations/gate/bolo");
    }
}
