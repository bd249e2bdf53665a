// raqib consoles (the node's and the national hub's): building elements, plates in their
// written order, JSON calls to the API, results tables and the audit log. Plain JavaScript, no build step.
"use strict";

const $ = (id) => document.getElementById(id);

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

// Plates mix Arabic letters and digits: left-to-right marks around separators, inside a
// left-to-right isolate, keep `12345-ب-6` in the order it is written on the plate in every
// language (the bidi algorithm would show `12345-6-ب`, and an Arabic page would reverse it).
const ltr = (s) => (s === null || s === undefined ? "" : String(s).replace(/-/g, "\u200E-\u200E"));
// A plate as the API gives it: text, or a watchlist entry's stored plate ({canonical, …}).
const plateText = (p) => (p && typeof p === "object" ? p.canonical : p);
const plate = (s) => el("bdi", { dir: "ltr", class: "plate" }, ltr(plateText(s)));

async function api(method, path, body) {
  const opts = { method, credentials: "same-origin", headers: { "X-Raqib-Csrf": "1" } };
  if (body instanceof FormData) opts.body = body;
  else if (body !== undefined) { opts.body = JSON.stringify(body); opts.headers["Content-Type"] = "application/json"; }
  const r = await fetch(path, opts);
  // `showLogin` is the page's own (each console defines it).
  if (r.status === 401 && path !== "/api/login") { showLogin(); throw new Error(t("login.again")); }
  const text = await r.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch (_) { data = { error: text }; }
  if (!r.ok) throw new Error((data && data.error) || `HTTP ${r.status}`);
  return data;
}

// A results table: a header row, then one row per entry (cells: text or elements).
function table(id, head, rows) {
  $(id).replaceChildren(el("tr", {}, head.map((h) => el("th", {}, h))), ...rows.map((r) => el("tr", {}, r.map((c) => el("td", {}, c)))));
}

// The audit log (admins): the same table in both consoles.
async function loadAudit() {
  const data = await api("GET", "/api/audit?limit=300");
  table("audit", [t("col.time"), t("col.actor"), t("col.action"), t("col.target"), t("col.reason"), t("col.detail")], data.records.map((r) => [
    r.at ? formatTime(r.at) : "", r.actor, r.action, r.target || "", r.reason || "", r.detail || ""]));
}
