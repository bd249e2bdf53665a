//! The overdue-alert watch: every [`EVERY`], open alerts past their verification deadline
//! (`[alerts] deadline_minutes`, [`raqib_events::handling`]) are marked once, each mark audited
//! (`alert.overdue` by `raqib`), every console woken (its timer turns red and it sounds), and
//! `raqib_alerts_overdue` set to the open overdue alerts.

use std::sync::Arc;
use std::time::Duration;

use raqib_watchlist::Actor;

use crate::state::AppState;

/// How often the deadlines are checked.
pub(crate) const EVERY: Duration = Duration::from_secs(1);

/// Runs until the runtime stops.
pub(crate) async fn watch(state: Arc<AppState>) {
    let mut tick = tokio::time::interval(EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let checked = state
            .events_off_workers(|events| {
                let marked = events.mark_overdue(chrono::Utc::now())?;
                Ok((marked, events.open_overdue()?))
            })
            .await;
        let (marked, open) = match checked {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!(error = %e, "overdue alerts: cannot read the events store");
                continue;
            }
        };
        state.metrics.set_overdue(open);
        if marked.is_empty() {
            continue;
        }
        let st = state.clone();
        let audited = tokio::task::spawn_blocking(move || {
            let wl = st.watchlist();
            for id in &marked {
                let detail = "not confirmed or rejected within its deadline";
                if let Err(e) =
                    wl.audit(Actor::new("raqib", None), "alert.overdue", Some(&id.to_string()), Some(detail))
                {
                    tracing::error!(error = %e, alert = %id, "cannot audit an overdue alert");
                }
            }
            marked.len()
        })
        .await;
        tracing::warn!(alerts = audited.unwrap_or(0), "alerts past their verification deadline");
        state.alerts_changed();
    }
}
