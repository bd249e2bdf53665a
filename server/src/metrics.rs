//! Prometheus metrics (`GET /metrics`, OpenMetrics text) with `prometheus-client`, the
//! Prometheus project's own Rust client: typed families, histograms, and collectors that read
//! live values at scrape time.
//!
//! - `raqib_camera_*{camera}`: up, input fps, frames in/sampled/analysed, drops, reconnects
//!   (read from the cameras' health at each scrape);
//! - `raqib_analysis_queue_depth`: frames waiting for the analysis thread;
//! - `raqib_stage_seconds{stage}`: per-frame latency histograms of the analysis stages;
//! - `raqib_reads_total`, `raqib_alerts_total{kind,category}`;
//! - `raqib_purged_total{kind}`: rows removed by the retention purge;
//! - `raqib_faces_gated_total{reason}`: face looks the quality gate stopped (too_small, blurred,
//!   turned_away); `raqib_face_tracks_not_kept_total{why}`: face tracks that matched nobody
//!   (unmatched) or nobody consistently (unconfirmed) — counts only, nothing of those faces is kept;
//! - `raqib_connections_refused_total`: new connections closed at once by a connection limit
//!   (every connection under it busy); `raqib_connections_closed_for_room_total`: idle
//!   connections closed to make room for a newer one;
//! - `raqib_sink_delivered_total{sink}`, `raqib_sink_failures_total{sink}`, `raqib_sink_pending{sink}`.

use std::sync::{Arc, OnceLock};

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::counter::{ConstCounter, Counter};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::{ConstGauge, Gauge};
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use crate::state::Node;

type Labels = Vec<(&'static str, String)>;
/// Reads one value of a camera's health.
type Field<T> = (&'static str, &'static str, fn(&raqib_events::health::CameraHealth) -> T);

/// The node's metrics.
pub struct Metrics {
    registry: Registry,
    stages: Family<Labels, Histogram>,
    reads: Counter,
    alerts: Family<Labels, Counter>,
    sink_delivered: Family<Labels, Counter>,
    sink_failures: Family<Labels, Counter>,
    sink_pending: Family<Labels, Gauge>,
    purged: Family<Labels, Counter>,
    faces_gated: Family<Labels, Counter>,
    face_tracks_not_kept: Family<Labels, Counter>,
    refused: Counter,
    closed_for_room: Counter,
    overdue: Gauge,
    node: Arc<OnceLock<Arc<dyn Node>>>,
}

/// Reads camera health at scrape time.
struct CameraCollector {
    node: Arc<OnceLock<Arc<dyn Node>>>,
    waiting: Arc<dyn Fn() -> usize + Send + Sync>,
}

impl std::fmt::Debug for CameraCollector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CameraCollector")
    }
}

impl Collector for CameraCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let Some(node) = self.node.get() else { return Ok(()) };
        let cams = node.cameras();
        let gauges: [Field<f64>; 2] = [
            ("raqib_camera_up", "1 when the camera delivers frames", |h| {
                f64::from(u8::from(matches!(h.state, raqib_events::health::CameraState::Streaming)))
            }),
            ("raqib_camera_fps_in", "Decoded frames per second arriving from the camera", |h| h.fps_in),
        ];
        for (name, help, value) in gauges {
            let mut family = encoder.encode_descriptor(name, help, None, MetricType::Gauge)?;
            for h in &cams {
                ConstGauge::new(value(h)).encode(family.encode_family(&vec![("camera", h.id.clone())])?)?;
            }
        }
        let counters: [Field<u64>; 5] = [
            ("raqib_camera_frames_in", "Frames decoded from the camera", |h| h.frames_in),
            ("raqib_camera_frames_sampled", "Frames kept for analysis", |h| h.frames_sampled),
            ("raqib_camera_frames_analysed", "Frames analysed", |h| h.frames_analysed),
            ("raqib_camera_drops", "Sampled frames dropped because analysis was busy", |h| h.drops),
            ("raqib_camera_reconnects", "Reconnections after a failure", |h| h.reconnects),
        ];
        for (name, help, value) in counters {
            let mut family = encoder.encode_descriptor(name, help, None, MetricType::Counter)?;
            for h in &cams {
                ConstCounter::new(value(h)).encode(family.encode_family(&vec![("camera", h.id.clone())])?)?;
            }
        }
        let backlog = node.events_backlog();
        let waiting = encoder.encode_descriptor(
            "raqib_events_waiting",
            "Outcomes the events store could not take yet, kept in memory and retried",
            None,
            MetricType::Gauge,
        )?;
        ConstGauge::new(backlog.waiting as i64).encode(waiting)?;
        let mut dropped = encoder.encode_descriptor(
            "raqib_events_dropped",
            "Outcomes dropped from a full backlog of a failing events store, by kind",
            None,
            MetricType::Counter,
        )?;
        for (kind, n) in [("read", backlog.dropped_reads), ("hit", backlog.dropped_hits)] {
            ConstCounter::new(n).encode(dropped.encode_family(&vec![("kind", kind.to_owned())])?)?;
        }
        let depth = encoder.encode_descriptor(
            "raqib_analysis_queue_depth",
            "Frames waiting for the analysis thread",
            None,
            MetricType::Gauge,
        )?;
        ConstGauge::new((self.waiting)() as i64).encode(depth)?;
        Ok(())
    }
}

impl Metrics {
    /// New metrics; `waiting` reports the analysis queue depth.
    pub fn new(waiting: Arc<dyn Fn() -> usize + Send + Sync>) -> Arc<Metrics> {
        let mut registry = Registry::default();
        let stages = Family::<Labels, Histogram>::new_with_constructor(|| {
            Histogram::new(exponential_buckets(0.001, 2.0, 14)) // 1 ms … 8 s
        });
        registry.register("raqib_stage_seconds", "Time per analysed frame in each stage", stages.clone());
        let reads = Counter::default();
        registry.register("raqib_reads", "Plate reads (one per vehicle track)", reads.clone());
        let alerts = Family::<Labels, Counter>::default();
        registry.register("raqib_alerts", "Alerts raised (watchlist hits)", alerts.clone());
        let sink_delivered = Family::<Labels, Counter>::default();
        registry.register("raqib_sink_delivered", "Alerts delivered by each sink", sink_delivered.clone());
        let sink_failures = Family::<Labels, Counter>::default();
        registry.register("raqib_sink_failures", "Failed delivery attempts of each sink", sink_failures.clone());
        let sink_pending = Family::<Labels, Gauge>::default();
        registry.register("raqib_sink_pending", "Alerts waiting in each sink's outbox", sink_pending.clone());
        let purged = Family::<Labels, Counter>::default();
        registry.register("raqib_purged", "Rows removed by the retention purge, by kind", purged.clone());
        let faces_gated = Family::<Labels, Counter>::default();
        registry.register(
            "raqib_faces_gated",
            "Face looks stopped by the quality gate, by reason",
            faces_gated.clone(),
        );
        let face_tracks_not_kept = Family::<Labels, Counter>::default();
        registry.register(
            "raqib_face_tracks_not_kept",
            "Face tracks that matched nobody (unmatched) or not consistently (unconfirmed)",
            face_tracks_not_kept.clone(),
        );
        let refused = Counter::default();
        registry.register(
            "raqib_connections_refused",
            "Connections closed at once: a connection limit",
            refused.clone(),
        );
        let closed_for_room = Counter::default();
        registry.register(
            "raqib_connections_closed_for_room",
            "Idle connections closed to make room for a newer one at a connection limit",
            closed_for_room.clone(),
        );
        let overdue = Gauge::default();
        registry.register(
            "raqib_alerts_overdue",
            "Alerts past their verification deadline (alerts.deadline_minutes) still neither confirmed nor rejected",
            overdue.clone(),
        );
        let node = Arc::new(OnceLock::new());
        registry.register_collector(Box::new(CameraCollector { node: node.clone(), waiting }));
        Arc::new(Metrics {
            registry,
            stages,
            reads,
            alerts,
            sink_delivered,
            sink_failures,
            sink_pending,
            purged,
            faces_gated,
            face_tracks_not_kept,
            refused,
            closed_for_room,
            overdue,
            node,
        })
    }

    /// Connects the camera collector to the node.
    pub(crate) fn attach(&self, node: Arc<dyn Node>) {
        let _ = self.node.set(node);
    }

    /// Records how long a stage took on one frame.
    pub fn observe_stage(&self, stage: &'static str, seconds: f64) {
        self.stages.get_or_create(&vec![("stage", stage.to_owned())]).observe(seconds);
    }

    /// Counts a plate read.
    pub fn count_read(&self) {
        self.reads.inc();
    }

    /// Counts an alert.
    pub fn count_alert(&self, kind: &'static str, category: &str) {
        self.alerts.get_or_create(&vec![("kind", kind.to_owned()), ("category", category.to_owned())]).inc();
    }

    /// Counts rows removed by the retention purge.
    pub fn count_purged(&self, kind: &'static str, n: usize) {
        self.purged.get_or_create(&vec![("kind", kind.to_owned())]).inc_by(n as u64);
    }

    /// Counts what one retention purge removed, by kind.
    pub fn count_purge(&self, r: &raqib_events::retention::PurgeReport) {
        self.count_purged("reads", r.events.reads);
        self.count_purged("hit_reads", r.events.hit_reads);
        self.count_purged("face_hits", r.events.face_hits);
        self.count_purged("audit", r.audit);
    }

    /// Counts what face analysis gated (`(reason, looks)`) and did not keep (`(why, tracks)`).
    pub fn count_faces(&self, gated: &[(&'static str, u64)], not_kept: &[(&'static str, u64)]) {
        for (why, n) in gated.iter().filter(|(_, n)| *n > 0) {
            self.faces_gated.get_or_create(&vec![("reason", (*why).to_owned())]).inc_by(*n);
        }
        for (why, n) in not_kept.iter().filter(|(_, n)| *n > 0) {
            self.face_tracks_not_kept.get_or_create(&vec![("why", (*why).to_owned())]).inc_by(*n);
        }
    }

    pub(crate) fn connection_refused(&self) {
        self.refused.inc();
    }

    pub(crate) fn connections_closed_for_room(&self, n: usize) {
        if n > 0 {
            self.closed_for_room.inc_by(n as u64);
        }
    }

    pub(crate) fn set_overdue(&self, n: u64) {
        self.overdue.set(i64::try_from(n).unwrap_or(i64::MAX));
    }

    pub(crate) fn sink_delivered(&self, sink: &str) {
        self.sink_delivered.get_or_create(&vec![("sink", sink.to_owned())]).inc();
    }

    pub(crate) fn sink_failed(&self, sink: &str) {
        self.sink_failures.get_or_create(&vec![("sink", sink.to_owned())]).inc();
    }

    pub(crate) fn sink_pending(&self, sink: &str, n: usize) {
        self.sink_pending.get_or_create(&vec![("sink", sink.to_owned())]).set(n as i64);
    }

    /// The OpenMetrics text of every metric.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        if let Err(e) = prometheus_client::encoding::text::encode(&mut out, &self.registry) {
            tracing::error!(error = %e, "cannot encode metrics");
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_encode_as_openmetrics_text() {
        let m = Metrics::new(Arc::new(|| 2));
        m.observe_stage("plates", 0.012);
        m.count_read();
        m.count_alert("plate", "stolen");
        m.sink_failed("cc");
        let text = m.encode();
        assert!(text.contains("raqib_stage_seconds_bucket{le=\"0.016\",stage=\"plates\"} 1"), "{text}");
        assert!(text.contains("raqib_reads_total 1"), "{text}");
        assert!(text.contains("raqib_alerts_total{kind=\"plate\",category=\"stolen\"} 1"), "{text}");
        assert!(text.contains("raqib_sink_failures_total{sink=\"cc\"} 1"), "{text}");
        assert!(text.ends_with("# EOF\n"));
    }
}
