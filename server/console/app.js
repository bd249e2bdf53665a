// raqib console: plain JavaScript, no build step. Talks to /api (JSON) and the SSE alert stream.
"use strict";

const $ = (id) => document.getElementById(id);
const state = { me: null, cursor: null, source: null, alerts: new Map() };

// Builds an element; strings become text nodes (never HTML), so nothing read can inject markup.
function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else if (k === "dataset") Object.assign(e.dataset, v);
    else e.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) if (c !== null && c !== undefined) e.append(c instanceof Node ? c : String(c));
  return e;
}

// Plates mix Arabic letters and digits: left-to-right marks around separators keep
// `12345-ب-6` in the order it is written on the plate (the bidi algorithm would show `12345-6-ب`).
const ltr = (s) => (s === null || s === undefined ? "" : String(s).replace(/-/g, "\u200E-\u200E"));

async function api(method, path, body) {
  const opts = { method, credentials: "same-origin", headers: { "X-Raqib-Csrf": "1" } };
  if (body instanceof FormData) opts.body = body;
  else if (body !== undefined) { opts.body = JSON.stringify(body); opts.headers["Content-Type"] = "application/json"; }
  const r = await fetch(path, opts);
  if (r.status === 401 && path !== "/api/login") { showLogin(); throw new Error("log in again"); }
  const text = await r.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch (_) { data = { error: text }; }
  if (!r.ok) throw new Error((data && data.error) || `HTTP ${r.status}`);
  return data;
}

// Analysts and admins: searches, the watchlist, evidence exports.
const isAnalyst = () => !!state.me && (state.me.role === "analyst" || state.me.role === "admin");

function showLogin() {
  state.me = null;
  if (state.source) { state.source.close(); state.source = null; }
  $("login-view").hidden = false;
  $("nav").hidden = true; $("logout").hidden = true; $("who").textContent = "";
  document.querySelectorAll(".view").forEach((v) => (v.hidden = true));
}

function show(view) {
  document.querySelectorAll(".view").forEach((v) => (v.hidden = v.id !== `${view}-view`));
  document.querySelectorAll(".tab").forEach((t) => t.classList.toggle("active", t.dataset.view === view));
  if (view === "cameras") loadCameras();
  if (view === "watchlist") loadWatchlist();
  if (view === "audit") loadAudit();
}

async function start() {
  try { state.me = await api("GET", "/api/me"); } catch (_) { showLogin(); return; }
  $("login-view").hidden = true; $("nav").hidden = false; $("logout").hidden = false;
  $("who").textContent = `${state.me.name} (${state.me.role})`;
  $("node").textContent = state.me.node;
  const admin = state.me.role === "admin", analyst = isAnalyst();
  document.querySelector('[data-view="search"]').hidden = !analyst;
  document.querySelector('[data-view="watchlist"]').hidden = !analyst;
  document.querySelector('[data-view="audit"]').hidden = !admin;
  show("alerts");
  await loadAlerts();
  connect();
  // Camera health refreshes while shown; the events store's fault is checked on every view.
  loadCameras().catch(() => {});
  setInterval(() => { loadCameras().catch(() => {}); }, 5000);
}

// ---- alerts ----

function filters() {
  const q = new URLSearchParams({ limit: "100" });
  for (const [id, key] of [["f-camera", "camera"], ["f-category", "category"], ["f-state", "state"]]) {
    if ($(id).value.trim()) q.set(key, $(id).value.trim());
  }
  return q;
}

async function loadAlerts() {
  const data = await api("GET", `/api/alerts?${filters()}`);
  $("alerts").replaceChildren();
  state.alerts.clear();
  for (const a of data.alerts.reverse()) render(a, false);
  state.cursor = data.cursor;
  countNew();
}

function countNew() {
  const n = [...state.alerts.values()].filter((a) => a.state === "new").length;
  $("new-count").textContent = n ? `(${n})` : "";
}

function beep() {
  try {
    const ctx = new AudioContext(), o = ctx.createOscillator();
    o.frequency.value = 880; o.connect(ctx.destination); o.start(); o.stop(ctx.currentTime + 0.25);
  } catch (_) { /* no audio before the first click: the flash still shows */ }
}

function render(a, live) {
  state.alerts.set(a.id, a);
  const urgent = a.priority === "critical" || a.priority === "high";
  const where = a.lat !== null && a.lat !== undefined
    ? el("a", { href: `https://www.openstreetmap.org/?mlat=${a.lat}&mlon=${a.lon}#map=17/${a.lat}/${a.lon}`, target: "_blank", rel: "noopener" },
        `${a.lat.toFixed(5)}, ${a.lon.toFixed(5)}`)
    : "location unknown";
  const comment = el("input", { placeholder: "comment", class: "comment" });
  const act = (what) => async () => {
    try { render(await api("POST", `/api/alerts/${a.id}/${what}`, { comment: comment.value }), false); countNew(); }
    catch (e) { alert(e.message); }
  };
  // Analysts export an evidence package (ZIP, audited with its reason and SHA-256).
  const evidence = async (ev) => {
    ev.preventDefault();
    const reason = prompt("Reason for exporting this alert's evidence (case reference):", "");
    if (reason === null) return;
    const r = await fetch(`/api/alerts/${a.id}/evidence.zip?reason=${encodeURIComponent(reason)}`, { credentials: "same-origin" });
    if (!r.ok) { let m = `HTTP ${r.status}`; try { m = (await r.json()).error || m; } catch (_) { /* not JSON */ } alert(m); return; }
    const name = (/filename="([^"]+)"/.exec(r.headers.get("content-disposition") || "") || [])[1] || `evidence-${a.id}.zip`;
    const link = el("a", { href: URL.createObjectURL(await r.blob()), download: name });
    document.body.append(link); link.click(); link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 10000);
  };
  const item = el("li", {
      id: `alert-${a.id}`,
      class: `alert p-${a.priority} s-${a.state}${urgent ? " urgent" : ""}${live ? " fresh" : ""}`,
      dataset: { id: a.id, raised: String(Date.parse(a.raised_at)), shown: String(Date.now()), state: a.state },
    },
    el("img", { src: `/api/alerts/${a.id}/crop.jpg`, alt: "crop" }),
    el("div", {},
      el("div", { class: "subject" }, ltr(a.subject), a.latin && a.latin !== a.subject ? ` (${a.latin})` : ""),
      el("div", {}, `${a.kind === "face" ? "Person" : "Plate"} on watchlist `, el("b", {}, a.category), ` — priority `, el("b", { class: "priority" }, a.priority),
        ` — entry ${ltr(a.entry)} (${a.match_kind}, ${a.score.toFixed(2)})`),
      el("div", { class: "meta" }, `camera ${a.camera} · ${new Date(a.raised_at).toLocaleString()} · `, where,
        a.has_frame ? el("span", {}, " · ", el("a", { href: `/api/alerts/${a.id}/frame.jpg`, target: "_blank" }, "full frame")) : "",
        isAnalyst() ? el("span", {}, " · ", el("a", { href: "#", class: "evidence", onclick: evidence }, "export evidence")) : ""),
      el("div", { class: "meta state" }, `state: ${a.state}`)),
    el("div", { class: "actions" }, comment,
      el("button", { class: "ack", onclick: act("acknowledge") }, "Acknowledge"),
      el("button", { class: "escalate", onclick: act("escalate") }, "Escalate")));
  const old = $(`alert-${a.id}`);
  if (old) old.replaceWith(item);
  else $("alerts").prepend(item);
  if (live && urgent) beep();
}

function connect() {
  if (state.source) state.source.close();
  const src = new EventSource(`/api/alerts/stream?after=${encodeURIComponent(state.cursor || "")}`);
  state.source = src;
  src.onopen = () => { $("conn").textContent = "live"; $("conn").className = "conn up"; };
  src.onerror = () => { $("conn").textContent = "reconnecting…"; $("conn").className = "conn down"; };
  // EventSource resends the last event id by itself when it reconnects: nothing is missed.
  src.addEventListener("alert", (ev) => {
    state.cursor = ev.lastEventId;
    render(JSON.parse(ev.data), true);
    countNew();
  });
  src.addEventListener("state", () => refreshStates());
}

let refreshing = null;
function refreshStates() {
  clearTimeout(refreshing);
  refreshing = setTimeout(async () => {
    const data = await api("GET", `/api/alerts?${filters()}`);
    for (const a of data.alerts) {
      const known = state.alerts.get(a.id);
      if (known && known.state !== a.state) render(a, false);
    }
    countNew();
  }, 300);
}

// ---- cameras ----

async function loadCameras() {
  const data = await api("GET", "/api/cameras");
  const b = data.events_store || {};
  const fault = $("store-fault");
  fault.hidden = !(b.waiting > 0 || b.dropped_hits > 0 || b.dropped_reads > 0);
  fault.textContent = fault.hidden ? "" : `Events store failing: ${b.waiting} outcome(s) waiting to be stored (${b.waiting_hits} hit(s)), ` +
    `${b.dropped_hits} hit(s) and ${b.dropped_reads} read(s) lost${b.last_error ? ` — ${b.last_error}` : ""}. Alerts still arrive live.`;
  if ($("cameras-view").hidden) return;
  $("cameras").replaceChildren(...data.cameras.map((c) => el("div", { class: `camera ${c.state}` },
    el("b", {}, c.name || c.id), el("div", {}, c.state),
    el("div", { class: "meta" }, `${c.fps_in.toFixed(1)} fps in · analysed ${c.frames_analysed} · dropped ${c.drops} · reconnects ${c.reconnects}`),
    c.last_error ? el("div", { class: "error" }, c.last_error) : "")));
}

// ---- search ----

function table(id, head, rows) {
  $(id).replaceChildren(el("tr", {}, head.map((h) => el("th", {}, h))), ...rows.map((r) => el("tr", {}, r.map((c) => el("td", {}, c)))));
}

async function searchPlates(ev) {
  ev.preventDefault();
  $("s-error").textContent = "";
  const q = new URLSearchParams({ plate: $("s-plate").value, mode: $("s-mode").value, reason: $("s-reason").value });
  try {
    const data = await api("GET", `/api/reads?${q}`);
    table("s-results", ["crop", "plate", "camera", "seen", "confidence", "distance", "hit"], data.results.map(({ read, distance }) => [
      el("img", { src: `/api/reads/${read.id}/crop.jpg`, alt: "" }), `${ltr(read.plate)} (${read.latin})`, read.source,
      new Date(read.seen_at).toLocaleString(), read.confidence.toFixed(2), distance.toFixed(2), read.hit ? "yes" : ""]));
    $("s-results").dataset.count = String(data.results.length);
  } catch (e) { $("s-error").textContent = e.message; }
}

async function searchFace(ev) {
  ev.preventDefault();
  $("fs-error").textContent = "";
  const form = new FormData();
  form.append("reason", $("fs-reason").value);
  form.append("photo", $("fs-photo").files[0]);
  try {
    const data = await api("POST", "/api/search/face", form);
    $("fs-results").replaceChildren(
      el("p", {}, data.persons.length ? `Matches: ${data.persons.map((m) => `${m.person.name} (${m.similarity.toFixed(2)})`).join(", ")}` : "No enrolled person matches."),
      ...data.sightings.map((s) => el("div", {}, el("img", { src: `/api/alerts/${s.id}/crop.jpg`, alt: "" }), ` ${s.subject} — ${s.camera} — ${new Date(s.raised_at).toLocaleString()}`)));
  } catch (e) { $("fs-error").textContent = e.message; }
}

// ---- watchlist ----

async function loadWatchlist() {
  const admin = state.me.role === "admin";
  $("add-plate").hidden = !admin; $("enrol").hidden = !admin;
  const remove = (kind, id) => async () => {
    const reason = prompt("Reason for removing this entry (case reference):");
    if (!reason) return;
    try { await api("DELETE", `/api/watchlist/${kind}/${id}?reason=${encodeURIComponent(reason)}`); loadWatchlist(); }
    catch (e) { alert(e.message); }
  };
  const plates = await api("GET", "/api/watchlist/plates");
  table("w-plates", ["plate", "category", "priority", "case", "expires", ""], plates.plates.map((p) => [
    ltr(p.plate), p.category, p.priority, p.case_ref || "", p.expires_at || "", admin ? el("button", { onclick: remove("plates", p.id) }, "Remove") : ""]));
  const persons = await api("GET", "/api/watchlist/persons");
  table("w-persons", ["name", "category", "priority", "case", ""], persons.persons.map((p) => [
    p.name, p.category, p.priority, p.case_ref || "", admin ? el("button", { onclick: remove("persons", p.id) }, "Remove") : ""]));
}

async function addPlate(ev) {
  ev.preventDefault();
  $("w-error").textContent = "";
  const body = { plate: $("w-plate").value, category: $("w-category").value };
  if ($("w-priority").value) body.priority = $("w-priority").value;
  if ($("w-case").value) body.case_ref = $("w-case").value;
  if ($("w-expires").value) body.expires_at = $("w-expires").value;
  try { await api("POST", "/api/watchlist/plates", body); ev.target.reset(); loadWatchlist(); }
  catch (e) { $("w-error").textContent = e.message; }
}

async function enrol(ev) {
  ev.preventDefault();
  $("p-error").textContent = "";
  const form = new FormData();
  for (const [id, key] of [["p-name", "name"], ["p-category", "category"], ["p-priority", "priority"], ["p-case", "case_ref"]]) form.append(key, $(id).value);
  form.append("photo", $("p-photo").files[0]);
  try { await api("POST", "/api/watchlist/persons", form); ev.target.reset(); loadWatchlist(); }
  catch (e) { $("p-error").textContent = e.message; }
}

// ---- audit ----

async function loadAudit() {
  const data = await api("GET", "/api/audit?limit=300");
  table("audit", ["time", "actor", "action", "target", "reason", "detail"], data.records.map((r) => [
    r.at ? new Date(r.at).toLocaleString() : "", r.actor, r.action, r.target || "", r.reason || "", r.detail || ""]));
}

// ---- wiring ----

document.addEventListener("DOMContentLoaded", () => {
  $("login-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    $("login-error").textContent = "";
    try { await api("POST", "/api/login", { name: $("name").value, password: $("password").value }); $("password").value = ""; start(); }
    catch (e) { $("login-error").textContent = e.message; }
  });
  $("logout").addEventListener("click", async () => { try { await api("POST", "/api/logout"); } finally { showLogin(); } });
  document.querySelectorAll(".tab").forEach((t) => t.addEventListener("click", () => show(t.dataset.view)));
  $("f-apply").addEventListener("click", async () => { await loadAlerts(); connect(); });
  $("plate-search").addEventListener("submit", searchPlates);
  $("face-search").addEventListener("submit", searchFace);
  $("add-plate").addEventListener("submit", addPlate);
  $("enrol").addEventListener("submit", enrol);
  start();
});
