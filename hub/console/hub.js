// raqib national hub console: live alerts of every node, node and camera health, national
// search, the national watchlist and how far each entry has reached, the audit log. Plain
// JavaScript (helpers in dom.js, strings in i18n.js: Arabic right to left, French, English).
"use strict";

const state = { me: null, cursor: "", source: null, timer: null, alerts: [], live: null };
const isAnalyst = () => !!state.me && (state.me.role === "analyst" || state.me.role === "admin");

function showLogin() {
  state.me = null;
  if (state.source) { state.source.close(); state.source = null; }
  clearInterval(state.timer);
  $("login-view").hidden = false;
  $("nav").hidden = true; $("logout").hidden = true; $("who").textContent = "";
  document.querySelectorAll(".view").forEach((v) => (v.hidden = true));
}

function show(view) {
  document.querySelectorAll(".view").forEach((v) => (v.hidden = v.id !== `${view}-view`));
  document.querySelectorAll(".tab").forEach((b) => b.classList.toggle("active", b.dataset.view === view));
  if (view === "nodes") loadNodes().catch(() => {});
  if (view === "entries") loadEntries().catch((e) => { $("e-error").textContent = e.message; });
  if (view === "audit") loadAudit().catch(() => {});
}

// Sets the language and draws what is shown again in it.
function language(lang, remember) {
  applyLanguage(lang);
  document.title = t("hub.title");
  $("lang").value = i18n.lang;
  if (state.live !== null) connState(state.live);
  $("alerts").replaceChildren();
  for (const a of state.alerts) render(a, false, false);
  const shown = document.querySelector(".view:not([hidden])");
  if (shown && shown.id !== "alerts-view" && shown.id !== "login-view") show(shown.id.replace(/-view$/, ""));
  if (remember && state.me) api("POST", "/api/me/language", { language: i18n.lang }).catch(() => {});
}

function connState(up) {
  state.live = up;
  $("conn").textContent = t(up ? "live.up" : "live.down");
  $("conn").className = `conn ${up ? "up" : "down"}`;
}

async function start() {
  try { state.me = await api("GET", "/api/me"); } catch (_) { showLogin(); return; }
  language(initialLanguage(state.me.language), false);
  $("login-view").hidden = true; $("nav").hidden = false; $("logout").hidden = false;
  $("who").textContent = `${state.me.name} (${state.me.role})`;
  document.querySelector('[data-view="search"]').hidden = !isAnalyst();
  document.querySelector('[data-view="entries"]').hidden = !isAnalyst();
  document.querySelector('[data-view="audit"]').hidden = state.me.role !== "admin";
  $("add-entry").hidden = state.me.role !== "admin";
  show("alerts");
  const data = await api("GET", "/api/alerts?limit=100");
  $("alerts").replaceChildren();
  state.alerts = [];
  for (const a of data.alerts.reverse()) render(a, false, true);
  if (data.alerts.length) state.cursor = String(data.alerts[data.alerts.length - 1].seq);
  connect();
  state.timer = setInterval(() => { if (!$("nodes-view").hidden) loadNodes().catch(() => {}); }, 5000);
}

// ---- live alerts ----

// Draws one alert at the top of the list, or in place when it is already shown (a node's
// operators acted on it); `keep`: remember it (to draw again in another language).
function render(a, live, keep) {
  const key = `${a.node}/${a.id}`;
  if (keep) {
    state.alerts = state.alerts.filter((x) => `${x.node}/${x.id}` !== key);
    state.alerts.push(a);
    if (state.alerts.length > 300) state.alerts.shift();
  }
  const retro = a.retro ? el("span", { class: "badge retro" }, t("hub.retro")) : null;
  const last = (a.actions || [])[(a.actions || []).length - 1];
  const item = el("li", { class: `alert p-${a.priority} s-${a.state || "new"}${live ? " fresh urgent" : ""}`, dataset: { key, state: a.state || "new" } },
    el("div", {}, el("div", { class: "meta" }, `${t("col.node")}: `, el("strong", {}, a.node)),
      el("div", { class: "meta" }, `${t("camera")}: ${a.camera}`)),
    el("div", {},
      el("div", { class: "subject" }, a.kind === "plate" ? plate(a.subject) : a.subject),
      el("div", { class: "badges" }, el("span", { class: "badge" }, tv("priority", a.priority)),
        el("span", { class: "badge" }, a.category), retro),
      el("div", { class: "meta" }, `${t("detail.seen")} ${formatTime(a.seen_at || a.raised_at)} · ${t("hub.received")} ${formatTime(a.received_at)}`),
      last ? el("div", { class: "meta" }, `${tv("action", last.action)} · ${last.actor} · ${formatTime(last.at)}${last.comment ? ` · ${last.comment}` : ""}${last.reason ? ` · ${tv("reason", last.reason)}` : ""}`) : null),
    el("div", { class: "meta state" }, tv("state", a.state || "new")));
  const shown = [...$("alerts").children].find((li) => li.dataset.key === key);
  if (shown) shown.replaceWith(item);
  else $("alerts").prepend(item);
  while ($("alerts").children.length > 300) $("alerts").lastChild.remove();
}

function connect() {
  if (state.source) state.source.close();
  const src = new EventSource(`/api/alerts/stream?after=${encodeURIComponent(state.cursor)}`);
  state.source = src;
  src.onopen = () => connState(true);
  src.onerror = () => connState(false);
  // EventSource resends the last event id when it reconnects: nothing is missed.
  src.addEventListener("alert", (ev) => { state.cursor = ev.lastEventId; render(JSON.parse(ev.data), true, true); });
}

// ---- nodes ----

async function loadNodes() {
  const data = await api("GET", "/api/nodes");
  $("nodes").replaceChildren(...data.nodes.map((n) => {
    const cams = (n.health && n.health.cameras) || [];
    const streaming = cams.filter((c) => c.state === "streaming").length;
    return el("div", { class: `camera ${n.online ? "streaming" : "reconnecting"}` },
      el("strong", {}, n.node), " ", el("span", { class: "badge" }, t(n.online ? "node.online" : "node.offline")),
      el("div", { class: "meta" }, t("node.meta", { t: formatTime(n.last_seen), c: cams.length, s: streaming, h: n.hits })),
      el("ul", {}, cams.map((c) => el("li", { class: "meta" }, `${c.name || c.id}: ${tv("camera.state", c.state)}`))));
  }));
}

// ---- search ----

async function search(ev) {
  ev.preventDefault();
  $("s-error").textContent = "";
  const what = $("s-table").value;
  const q = new URLSearchParams({ plate: $("s-plate").value, mode: $("s-mode").value, reason: $("s-reason").value });
  try {
    const data = await api("GET", `/api/${what}?${q}`);
    table("s-results", [t("col.node"), t("col.plate"), t("col.camera"), t("col.seen"), t("col.category"), t("col.distance")],
      data.results.map((r) => {
        const b = r.body;
        const when = what === "reads" ? b.seen_at : (b.seen_at || b.raised_at);
        return [r.node, plate(what === "reads" ? b.plate : b.subject), what === "reads" ? b.source : b.camera,
          formatTime(when), b.category || "", formatNumber(r.distance, 2)];
      }));
  } catch (e) { $("s-error").textContent = e.message; }
}

// ---- national watchlist ----

async function loadEntries() {
  const data = await api("GET", "/api/entries");
  const admin = state.me.role === "admin";
  table("entries", [t("col.plate"), t("col.category"), t("col.version"), t("col.applied"), ""], data.entries.map((e) => [
    plate(e.plate), e.category, String(e.version),
    `${t("entries.applied", { n: e.nodes_applied, m: data.nodes })}${e.last_applied_at ? ` · ${formatTime(e.last_applied_at)}` : ""}`,
    admin ? el("button", { onclick: () => removeEntry(e.id) }, t("remove")) : ""]));
}

async function addEntry(ev) {
  ev.preventDefault();
  $("e-error").textContent = "";
  try {
    await api("POST", "/api/entries", {
      plate: $("e-plate").value, category: $("e-category").value, priority: $("e-priority").value || null,
      case_ref: $("e-case").value || null, critical: $("e-critical").checked, reason: $("e-reason").value });
    $("e-plate").value = "";
    await loadEntries();
  } catch (e) { $("e-error").textContent = e.message; }
}

async function removeEntry(id) {
  const reason = prompt(t("remove.reason"));
  if (!reason) return;
  try { await api("DELETE", `/api/entries/${id}?reason=${encodeURIComponent(reason)}`); await loadEntries(); }
  catch (e) { $("e-error").textContent = e.message; }
}


// ---- wiring ----

document.addEventListener("DOMContentLoaded", () => {
  language(initialLanguage(null), false);
  $("lang").addEventListener("change", () => language($("lang").value, true));
  $("login-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    $("login-error").textContent = "";
    try { await api("POST", "/api/login", { name: $("name").value, password: $("password").value }); $("password").value = ""; start(); }
    catch (e) { $("login-error").textContent = e.message; }
  });
  $("logout").addEventListener("click", async () => { try { await api("POST", "/api/logout"); } finally { showLogin(); } });
  document.querySelectorAll(".tab").forEach((b) => b.addEventListener("click", () => show(b.dataset.view)));
  $("plate-search").addEventListener("submit", search);
  $("add-entry").addEventListener("submit", addEntry);
  start();
});
