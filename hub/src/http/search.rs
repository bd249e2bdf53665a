//! Analysts' national search: the reads the nodes forwarded and the alerts of every node, by
//! plate (any spelling, `?`/`*` wildcards, fuzzy with OCR look-alikes cheaper), within the
//! hub's search window. A reason (case reference) is required and audited with the plate, the
//! mode and the number of results before anything is shown.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Query, State};
use raqib_server::auth::{ApiError, Caller, audit, off_workers, require_reason};
use raqib_server::users::Role;
use serde::Deserialize;

use super::{HubState, api_error};
use crate::search::{PlateQuery, Table};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SearchQuery {
    plate: String,
    mode: Option<String>,
    reason: Option<String>,
    limit: Option<i64>,
}

/// `GET /api/reads?plate=&mode=exact|fuzzy|wildcard&reason=`.
pub(crate) async fn reads(
    State(state): State<Arc<HubState>>,
    caller: Caller,
    Query(q): Query<SearchQuery>,
) -> Result<Json<serde_json::Value>, ApiError> {
    search(state, caller, q, Table::Reads).await
}

/// `GET /api/hits?plate=&mode=&reason=`.
pub(crate) async fn hits(
    State(state): State<Arc<HubState>>,
    caller: Caller,
    Query(q): Query<SearchQuery>,
) -> Result<Json<serde_json::Value>, ApiError> {
    search(state, caller, q, Table::Hits).await
}

async fn search(
    state: Arc<HubState>,
    caller: Caller,
    q: SearchQuery,
    table: Table,
) -> Result<Json<serde_json::Value>, ApiError> {
    let what = if table == Table::Reads { "searching reads" } else { "searching hits" };
    caller.require(Role::Analyst, &state, what).await?;
    let reason = require_reason(q.reason.as_deref())?;
    let query = PlateQuery::parse(&q.plate, q.mode.as_deref(), state.config.max_distance).map_err(api_error)?;
    let since = chrono::Utc::now() - chrono::Duration::days(i64::from(state.config.search_days));
    let db = state.hub.db().await.map_err(api_error)?;
    let found = crate::search::search(&db, table, &query, since, q.limit.unwrap_or(100).clamp(1, 1000))
        .await
        .map_err(api_error)?;
    // Audited before it is shown: a record that cannot be written refuses the answer.
    let action = if table == Table::Reads { "search.reads" } else { "search.hits" };
    let detail = format!("mode {}, {} result(s), national", query.mode(), found.len());
    let plate = q.plate.clone();
    off_workers(&state, move |s| audit(s, &caller, action, Some(&plate), Some(reason.as_str()), Some(&detail))).await?;
    Ok(Json(serde_json::json!({ "mode": query.mode(), "results": found })))
}
