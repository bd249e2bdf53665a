// raqib console: plain JavaScript, no build step. Talks to /api (JSON) and the SSE alert stream.
// Every string it shows comes from i18n.js (Arabic right to left, French, English).
"use strict";

const state = { me: null, cursor: null, source: null, alerts: new Map(), policy: null, detail: null, inTime: new Set(), overdueSeen: new Set() };

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

// Switching language re-renders what is on screen; the choice is remembered for the user.
async function setLanguage(lang, remember) {
  applyLanguage(lang);
  $("lang").value = i18n.lang;
  if (remember && state.me) { try { await api("POST", "/api/me/language", { language: i18n.lang }); } catch (_) { /* kept locally */ } }
  for (const a of [...state.alerts.values()]) render(a, false);
  if (state.detail) showDetail(state.detail);
  if (!$("watchlist-view").hidden) loadWatchlist();
  if (!$("audit-view").hidden) loadAudit();
  countNew();
}

async function start() {
  try { state.me = await api("GET", "/api/me"); } catch (_) { showLogin(); return; }
  // A language picked on the login page is this user's choice from now on; else theirs.
  if (state.pickedLanguage && state.pickedLanguage !== state.me.language) await setLanguage(state.pickedLanguage, true);
  else applyLanguage(initialLanguage(state.me.language));
  state.pickedLanguage = null;
  $("lang").value = i18n.lang;
  $("login-view").hidden = true; $("nav").hidden = false; $("logout").hidden = false;
  $("who").textContent = `${state.me.name} (${state.me.role})`;
  $("node").textContent = state.me.node;
  const admin = state.me.role === "admin", analyst = isAnalyst();
  document.querySelector('[data-view="search"]').hidden = !analyst;
  document.querySelector('[data-view="watchlist"]').hidden = !analyst;
  document.querySelector('[data-view="audit"]').hidden = !admin;
  try { state.policy = await api("GET", "/api/alerts/policy"); } catch (_) { state.policy = { reject_reasons: [] }; }
  show("alerts");
  await loadAlerts();
  connect();
  // Camera health refreshes while shown; the events store's fault is checked on every view.
  loadCameras().catch(() => {});
  setInterval(() => { loadCameras().catch(() => {}); }, 5000);
  setInterval(tickDeadlines, 1000);
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

const isOpen = (a) => a.state !== "confirmed" && a.state !== "rejected";

function countNew() {
  const n = [...state.alerts.values()].filter((a) => a.state === "new").length;
  $("new-count").textContent = n ? `(${formatNumber(n)})` : "";
}

function beep(times) {
  try {
    const ctx = new AudioContext();
    for (let i = 0; i < (times || 1); i++) {
      const o = ctx.createOscillator();
      o.frequency.value = 880; o.connect(ctx.destination); o.start(ctx.currentTime + i * 0.35); o.stop(ctx.currentTime + i * 0.35 + 0.25);
    }
  } catch (_) { /* no audio before the first click: the flash still shows */ }
}

// `m:ss` (or `h:mm:ss`) of a span in milliseconds.
function span(ms) {
  const s = Math.max(0, Math.round(ms / 1000)), h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
  const two = (n) => String(n).padStart(2, "0");
  return h ? `${h}:${two(m)}:${two(r)}` : `${m}:${two(r)}`;
}

// The verification timer of an open alert; an alert past its deadline turns red and sounds
// once (the node marks it overdue too: audit, metric, escalation).
function tickDeadlines() {
  const now = Date.now();
  document.querySelectorAll(".due[data-due]").forEach((e) => {
    const a = state.alerts.get(e.dataset.id) || (state.detail && state.detail.id === e.dataset.id ? state.detail : null);
    if (!a) return;
    if (!isOpen(a)) { e.textContent = t("decided"); e.classList.remove("late"); return; }
    const left = Date.parse(a.due_at) - now;
    const late = left <= 0 || !!a.overdue_at;
    e.textContent = late ? t("overdue.by", { t: span(-left) }) : t("due.in", { t: span(left) });
    e.classList.toggle("late", late);
    const item = $(`alert-${a.id}`);
    if (item) item.classList.toggle("overdue", late);
    // Sounds when an alert this console saw in time goes overdue (not for ones already late).
    if (!late) state.inTime.add(a.id);
    else if (state.inTime.has(a.id) && !state.overdueSeen.has(a.id)) { state.overdueSeen.add(a.id); beep(3); }
  });
}

function decisionControls(a, after) {
  const comment = el("input", { "data-i18n-ph": "comment", placeholder: t("comment"), class: "comment" });
  const reason = el("select", { class: "reason" },
    el("option", { value: "" }, t("reject.reason")),
    ...(state.policy ? state.policy.reject_reasons : []).map((r) => el("option", { value: r }, tv("reason", r))));
  const act = (what) => async () => {
    const body = { comment: comment.value };
    if (what === "reject") {
      if (!reason.value) { reason.focus(); reason.classList.add("missing"); return; }
      body.reason = reason.value;
    }
    try { after(await api("POST", `/api/alerts/${a.id}/${what}`, body)); } catch (e) { alert(e.message); }
  };
  const open = isOpen(a);
  return el("div", { class: "actions" }, comment,
    open ? el("div", { class: "decide" },
      el("button", { class: "confirm", onclick: act("confirm") }, t("confirm")),
      reason,
      el("button", { class: "reject", onclick: act("reject") }, t("reject"))) : "",
    el("div", { class: "decide" },
      el("button", { class: "ack", onclick: act("acknowledge") }, t("acknowledge")),
      el("button", { class: "escalate", onclick: act("escalate") }, t("escalate"))));
}

// Analysts export an evidence package (ZIP, audited with its reason and SHA-256).
function evidenceLink(a) {
  const evidence = async (ev) => {
    ev.preventDefault();
    const reason = prompt(t("export.reason"), "");
    if (reason === null) return;
    const r = await fetch(`/api/alerts/${a.id}/evidence.zip?reason=${encodeURIComponent(reason)}`, { credentials: "same-origin" });
    if (!r.ok) { let m = `HTTP ${r.status}`; try { m = (await r.json()).error || m; } catch (_) { /* not JSON */ } alert(m); return; }
    const name = (/filename="([^"]+)"/.exec(r.headers.get("content-disposition") || "") || [])[1] || `evidence-${a.id}.zip`;
    const link = el("a", { href: URL.createObjectURL(await r.blob()), download: name });
    document.body.append(link); link.click(); link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 10000);
  };
  return el("a", { href: "#", class: "evidence", onclick: evidence }, t("export.evidence"));
}

// Analysts add the face of a confirmed face sighting to the person's enrolled faces (audited,
// with the reason asked for here; the node refuses anything but a confirmed face alert).
function enrolLink(a) {
  const enrol = async (ev) => {
    ev.preventDefault();
    const comment = prompt(t("enrol.reason"), "");
    if (comment === null) return;
    try { await api("POST", `/api/alerts/${a.id}/enrol`, { comment }); alert(t("enrol.done")); } catch (e) { alert(e.message); }
  };
  return el("a", { href: "#", class: "enrol", onclick: enrol }, t("enrol.sighting"));
}

function mapLink(a) {
  if (a.lat === null || a.lat === undefined) return t("location.unknown");
  return el("a", { href: `https://www.openstreetmap.org/?mlat=${a.lat}&mlon=${a.lon}#map=17/${a.lat}/${a.lon}`, target: "_blank", rel: "noopener" },
    el("bdi", { dir: "ltr" }, `${a.lat.toFixed(5)}, ${a.lon.toFixed(5)}`));
}

// How well it matched: for a face with a calibrated model, how rarely a stranger would match the
// watchlist this well ("1 in 40,000 strangers"), not a raw cosine; else the score. Beyond one in
// a million the calibration (a few thousand measured pairs) is an extrapolation: said so, no figure.
function matchScore(a) {
  if (a.kind === "face" && a.stranger_rate !== null && a.stranger_rate !== undefined) {
    if (a.stranger_rate < 1e-6) return t("face.stranger.rare");
    return t("face.stranger", { n: formatNumber(Math.max(1, Math.round(1 / a.stranger_rate))) });
  }
  return formatNumber(a.score, 2);
}

// The lines every view of an alert shows: what matched, badges, where and when.
function alertFacts(a) {
  return [
    el("div", { class: "subject" }, plate(a.subject), a.latin && a.latin !== a.subject ? [" (", plate(a.latin), ")"] : ""),
    el("div", {}, `${t(a.kind === "face" ? "kind.face" : "kind.plate")} `, el("b", {}, a.category), ` — ${t("priority")} `,
      el("b", { class: "priority" }, tv("priority", a.priority)),
      ` — ${t("entry")} `, plate(a.entry), ` (${tv("match", a.match_kind)}, ${matchScore(a)})`),
    el("div", { class: "badges" },
      a.retro ? el("span", { class: "badge retro" }, t("retro", { t: formatTime(a.seen_at) })) : "",
      a.repeats ? el("span", { class: "badge repeats" }, t("repeats", { n: formatNumber(a.repeats), t: formatTime(a.last_repeat_at) })) : "",
      a.covert_list ? el("span", { class: "badge covert" }, t("covert", { l: a.covert_list })) : ""),
    el("div", { class: "meta" }, `${t("camera")} ${a.camera} · `, el("time", { datetime: a.raised_at }, formatTime(a.raised_at)), " · ", mapLink(a)),
  ];
}

function render(a, live) {
  state.alerts.set(a.id, a);
  const urgent = a.priority === "critical" || a.priority === "high";
  const details = (ev) => { ev.preventDefault(); openDetail(a.id); };
  const item = el("li", {
      id: `alert-${a.id}`,
      class: `alert p-${a.priority} s-${a.state}${urgent ? " urgent" : ""}${live ? " fresh" : ""}${a.overdue_at && isOpen(a) ? " overdue" : ""}`,
      dataset: { id: a.id, raised: String(Date.parse(a.raised_at)), shown: String(Date.now()), state: a.state },
    },
    el("img", { src: `/api/alerts/${a.id}/crop.jpg`, alt: "" }),
    el("div", {},
      ...alertFacts(a),
      el("div", { class: "meta" },
        el("a", { href: "#", class: "details", onclick: details }, t("details")),
        a.has_frame ? el("span", {}, " · ", el("a", { href: `/api/alerts/${a.id}/frame.jpg`, target: "_blank" }, t("full.frame"))) : "",
        isAnalyst() ? el("span", {}, " · ", evidenceLink(a)) : ""),
      el("div", { class: "meta state" }, `${t("state")}: ${tv("state", a.state)} · `,
        el("span", { class: "due", dataset: { id: a.id, due: a.due_at } }))),
    decisionControls(a, (updated) => { render(updated, false); countNew(); }));
  const old = $(`alert-${a.id}`);
  if (old) old.replaceWith(item);
  else $("alerts").prepend(item);
  if (live && urgent) beep();
  tickDeadlines();
}

// ---- one alert ----

async function openDetail(id) {
  try { showDetail(await api("GET", `/api/alerts/${id}`)); show("detail"); } catch (e) { alert(e.message); }
}

function showDetail(data) {
  const a = data.alert;
  state.detail = Object.assign({}, a, { data });
  const rows = (pairs) => el("table", { class: "results kv" }, ...pairs.filter(([, v]) => v !== null && v !== undefined && v !== "")
    .map(([k, v]) => el("tr", {}, el("th", {}, k), el("td", {}, v))));
  const entry = data.entry || {};
  $("detail").replaceChildren(
    el("h2", {}, t("detail.title", { id: a.id })),
    el("div", { class: "detail-media" },
      el("img", { src: `/api/alerts/${a.id}/crop.jpg`, alt: "", class: "crop" }),
      a.has_frame ? el("img", { src: `/api/alerts/${a.id}/frame.jpg`, alt: "", class: "frame" }) : ""),
    el("div", { class: "detail-facts" }, ...alertFacts(a),
      rows([[t("detail.seen"), formatTime(a.seen_at)], [t("detail.raised"), formatTime(a.raised_at)],
        [t("detail.due"), el("span", { class: "due", dataset: { id: a.id, due: a.due_at } })],
        [t("state"), tv("state", a.state)], [t("detail.map"), mapLink(a)]])),
    el("h3", {}, t("detail.entry")),
    rows([[t("col.plate"), entry.plate ? plate(entry.plate) : ""], [t("col.category"), entry.category], [t("col.priority"), entry.priority ? tv("priority", entry.priority) : ""],
      [t("col.case"), entry.case_ref], [t("col.expires"), entry.expires_at ? formatTime(entry.expires_at) : ""], ["", entry.notes]]),
    decisionControls(a, (updated) => { render(updated, false); countNew(); openDetail(updated.id); }),
    isAnalyst() ? el("p", {}, evidenceLink(a),
      a.kind === "face" && a.state === "confirmed" ? el("span", {}, " · ", enrolLink(a)) : "") : "",
    el("h3", {}, t("detail.history")),
    el("table", { class: "results history" },
      el("tr", {}, [t("col.time"), t("col.actor"), t("col.action"), t("col.reason"), t("col.comment")].map((h) => el("th", {}, h))),
      ...data.actions.map((x) => el("tr", { class: `action-${x.action}` }, el("td", {}, formatTime(x.at)), el("td", {}, x.actor),
        el("td", {}, tv("action", x.action)), el("td", {}, x.reason ? tv("reason", x.reason) : ""), el("td", {}, x.comment)))));
  tickDeadlines();
}

function connect() {
  if (state.source) state.source.close();
  const src = new EventSource(`/api/alerts/stream?after=${encodeURIComponent(state.cursor || "")}`);
  state.source = src;
  src.onopen = () => { $("conn").textContent = t("live.up"); $("conn").className = "conn up"; };
  src.onerror = () => { $("conn").textContent = t("live.down"); $("conn").className = "conn down"; };
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
    const changed = (x, a) => x.state !== a.state || x.repeats !== a.repeats || x.overdue_at !== a.overdue_at;
    for (const a of data.alerts) {
      const known = state.alerts.get(a.id);
      if (known && changed(known, a)) render(a, false);
      // The detail page is drawn again only when its alert changed (not on every tick).
      if (state.detail && a.id === state.detail.id && changed(state.detail, a) && !$("detail-view").hidden) openDetail(a.id);
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
  fault.textContent = fault.hidden ? "" : t("store.fault", { w: b.waiting, h: b.waiting_hits, dh: b.dropped_hits, dr: b.dropped_reads, e: b.last_error ? ` — ${b.last_error}` : "" });
  if ($("cameras-view").hidden) return;
  $("cameras").replaceChildren(...data.cameras.map((c) => el("div", { class: `camera ${c.state}` },
    el("b", {}, c.name || c.id), el("div", {}, tv("camera.state", c.state)),
    el("div", { class: "meta" }, t("camera.meta", { fps: formatNumber(c.fps_in, 1), a: formatNumber(c.frames_analysed), d: formatNumber(c.drops), r: formatNumber(c.reconnects) })),
    c.last_error ? el("div", { class: "error" }, c.last_error) : "")));
}

// ---- search ----

async function searchPlates(ev) {
  ev.preventDefault();
  $("s-error").textContent = "";
  const q = new URLSearchParams({ plate: $("s-plate").value, mode: $("s-mode").value, reason: $("s-reason").value });
  try {
    const data = await api("GET", `/api/reads?${q}`);
    table("s-results", [t("col.crop"), t("col.plate"), t("col.camera"), t("col.seen"), t("col.confidence"), t("col.distance"), t("col.hit")],
      data.results.map(({ read, distance }) => [
        el("img", { src: `/api/reads/${read.id}/crop.jpg`, alt: "" }), [plate(read.plate), " (", plate(read.latin), ")"], read.source,
        formatTime(read.seen_at), formatNumber(read.confidence, 2), formatNumber(distance, 2), read.hit ? t("yes") : ""]));
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
      el("p", {}, data.persons.length ? t("face.matches", { m: data.persons.map((m) => `${m.person.name} (${formatNumber(m.similarity, 2)})`).join(", ") }) : t("face.none")),
      ...data.sightings.map((s) => el("div", {}, el("img", { src: `/api/alerts/${s.id}/crop.jpg`, alt: "" }), ` ${s.subject} — ${s.camera} — ${formatTime(s.raised_at)}`)));
  } catch (e) { $("fs-error").textContent = e.message; }
}

// ---- watchlist ----

function scopeText(s) {
  if (!s) return "";
  return [s.days, s.hours, (s.cameras || []).join(","), s.area, s.covert_list ? t("covert", { l: s.covert_list }) : ""].filter(Boolean).join(" · ");
}

async function loadWatchlist() {
  const admin = state.me.role === "admin";
  $("add-plate").hidden = !admin; $("enrol").hidden = !admin;
  const remove = (kind, id) => async () => {
    const reason = prompt(t("remove.reason"));
    if (!reason) return;
    try { await api("DELETE", `/api/watchlist/${kind}/${id}?reason=${encodeURIComponent(reason)}`); loadWatchlist(); }
    catch (e) { alert(e.message); }
  };
  const plates = await api("GET", "/api/watchlist/plates");
  table("w-plates", [t("col.plate"), t("col.category"), t("col.priority"), t("col.case"), t("col.expires"), t("col.scope"), ""], plates.plates.map((p) => [
    plate(p.plate), p.category, tv("priority", p.priority), p.case_ref || "", p.expires_at ? formatTime(p.expires_at) : "", scopeText(p.scope),
    admin ? el("button", { onclick: remove("plates", p.id) }, t("remove")) : ""]));
  const persons = await api("GET", "/api/watchlist/persons");
  table("w-persons", [t("col.name"), t("col.category"), t("col.priority"), t("col.case"), t("col.scope"), ""], persons.persons.map((p) => [
    p.name, p.category, tv("priority", p.priority), p.case_ref || "", scopeText(p.scope), admin ? el("button", { onclick: remove("persons", p.id) }, t("remove")) : ""]));
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
  for (const [id, key] of [["p-name", "name"], ["p-category", "category"], ["p-priority", "priority"], ["p-case", "case_ref"], ["p-covert", "covert_list"]]) form.append(key, $(id).value);
  form.append("photo", $("p-photo").files[0]);
  try { await api("POST", "/api/watchlist/persons", form); ev.target.reset(); loadWatchlist(); }
  catch (e) { $("p-error").textContent = e.message; }
}


// ---- wiring ----

document.addEventListener("DOMContentLoaded", () => {
  applyLanguage(initialLanguage(null));
  $("lang").value = i18n.lang;
  $("lang").addEventListener("change", () => {
    if (!state.me) state.pickedLanguage = $("lang").value;
    setLanguage($("lang").value, !!state.me);
  });
  $("login-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    $("login-error").textContent = "";
    try { await api("POST", "/api/login", { name: $("name").value, password: $("password").value }); $("password").value = ""; start(); }
    catch (e) { $("login-error").textContent = e.message; }
  });
  $("logout").addEventListener("click", async () => { try { await api("POST", "/api/logout"); } finally { showLogin(); } });
  document.querySelectorAll(".tab").forEach((t) => t.addEventListener("click", () => { state.detail = null; show(t.dataset.view); }));
  $("detail-back").addEventListener("click", () => { state.detail = null; show("alerts"); });
  $("f-apply").addEventListener("click", async () => { await loadAlerts(); connect(); });
  $("plate-search").addEventListener("submit", searchPlates);
  $("face-search").addEventListener("submit", searchFace);
  $("add-plate").addEventListener("submit", addPlate);
  $("enrol").addEventListener("submit", enrol);
  start();
});
