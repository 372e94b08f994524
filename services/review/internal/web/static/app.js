// Minimal moderator page. It only calls the JSON API; the server enforces
// every rule (roles, leases, CSRF, blurring), so nothing here is trusted.
"use strict";
const $ = (id) => document.getElementById(id);
let csrf = "", current = null, canPrecision = false;

async function api(method, path, body) {
  const opts = { method, headers: {}, credentials: "same-origin" };
  if (method !== "GET") opts.headers["X-CSRF-Token"] = csrf;
  if (body !== undefined) { opts.headers["Content-Type"] = "application/json"; opts.body = JSON.stringify(body); }
  const res = await fetch(path, opts);
  const data = res.status === 204 ? {} : await res.json().catch(() => ({}));
  if (!res.ok) throw new Error((data.error && data.error.message) || res.statusText);
  return data;
}

function say(text) { $("msg").textContent = text; }

async function start() {
  try {
    const me = await api("GET", "/api/v1/me");
    csrf = me.csrf_token || "";
    $("who").textContent = me.user.username + " (" + me.user.roles.join(", ") + ")";
    $("login").hidden = true; $("logout").hidden = false; $("desk").hidden = false;
    // Roles that do not review (auditors, rule engineers, admins) get no
    // claim button: the server would refuse every claim.
    $("claim").hidden = !me.permissions.includes("queue:claim");
    $("leads").parentElement.hidden = !me.permissions.includes("decide:escalated");
    const rc = await api("GET", "/api/v1/reason-codes");
    $("reasons").replaceChildren(...rc.reason_codes.map((r) => new Option(r.code + " " + r.title, r.code)));
    canPrecision = me.permissions.includes("rules:read");
    $("precision-panel").hidden = !canPrecision;
    loadPrecision();
    const claimed = await api("GET", "/api/v1/queue/claimed").catch(() => ({ items: [] }));
    if (claimed.items.length) show(claimed.items[0]);
  } catch (e) {
    $("login").hidden = false; $("desk").hidden = true; $("logout").hidden = true;
  }
}

// Characters that reorder or hide text (bidi embeddings, overrides and
// isolates, directional marks, zero-width characters) are shown as
// visible markers instead of acting: a post can otherwise make
// "exe.live" read "evil.exe" or split a word invisibly.
const hidden = /[\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]/g;
const hiddenNames = {
  "\u061c": "ALM", "\u200b": "ZWSP", "\u200c": "ZWNJ", "\u200d": "ZWJ", "\u200e": "LRM", "\u200f": "RLM",
  "\u202a": "LRE", "\u202b": "RLE", "\u202c": "PDF", "\u202d": "LRO", "\u202e": "RLO",
  "\u2060": "WJ", "\u2066": "LRI", "\u2067": "RLI", "\u2068": "FSI", "\u2069": "PDI", "\ufeff": "BOM",
};

// plain returns str as text nodes, each hidden character as a marker.
function plain(str) {
  const out = document.createDocumentFragment();
  let at = 0;
  for (const m of str.matchAll(hidden)) {
    out.append(str.slice(at, m.index));
    const c = document.createElement("span");
    c.className = "ctl";
    c.textContent = "\u27e8" + (hiddenNames[m[0]] || "U+" + m[0].codePointAt(0).toString(16).toUpperCase()) + "\u27e9";
    out.append(c);
    at = m.index + m[0].length;
  }
  out.append(str.slice(at));
  return out;
}

function highlight(text, matches) {
  const spans = matches.flatMap((m) => m.spans || []).sort((a, b) => a[0] - b[0]);
  const bytes = new TextEncoder().encode(text), dec = new TextDecoder();
  const out = document.createDocumentFragment();
  let at = 0;
  for (const [s, e] of spans) {
    if (s < at) continue;
    out.append(plain(dec.decode(bytes.slice(at, s))));
    const m = document.createElement("mark"); m.append(plain(dec.decode(bytes.slice(s, e)))); out.append(m);
    at = e;
  }
  out.append(plain(dec.decode(bytes.slice(at))));
  return out;
}

function show(item) {
  current = item;
  $("item").hidden = !item;
  // One item at a time: a second claim would leave this one held, out of
  // sight, until its lease ran out.
  $("claim").disabled = !!item;
  $("claim").title = item ? "Decide or release the item you hold first" : "";
  if (!item) return;
  const overdue = new Date(item.sla_deadline) < new Date();
  $("title").textContent = "#" + item.id + " " + item.category + " (severity " + item.severity + ")";
  $("meta").replaceChildren(plain(item.platform + " · @" + item.author_handle + " · due " + new Date(item.sla_deadline).toLocaleString() + (overdue ? " · OVERDUE" : "")));
  $("meta").className = overdue ? "overdue" : "";
  $("text").replaceChildren(highlight(item.text, item.matches));
  $("matches").replaceChildren(...item.matches.map((m) => {
    const li = document.createElement("li");
    // version and distance are left out of the JSON when 0 (an unpublished
    // rule directory, an exact hash match).
    li.textContent = m.rule ? "rule " + m.rule + " v" + (m.version || 0)
      : "bank " + m.bank + " entry " + m.entry + " (" + m.hash_type + ", distance " + (m.distance || 0) + ")";
    return li;
  }));
  $("history").replaceChildren();
  if (item.queue === "leads") loadHistory(item.id);
  $("media").replaceChildren(...item.media.filter((m) => m.sha256).map((m) => {
    const img = document.createElement("img");
    img.alt = "blurred evidence"; img.src = "/api/v1/items/" + item.id + "/media/" + encodeURIComponent(m.media_id);
    return img;
  }));
}

// The earlier decisions of an escalated item (who escalated it, why, and
// their note), which a claim does not return.
async function loadHistory(id) {
  try {
    const d = await api("GET", "/api/v1/items/" + id);
    if (!current || current.id !== id) return;
    $("history").replaceChildren(...(d.decisions || []).map((x) => {
      const li = document.createElement("li");
      li.append(plain(x.actor + ": " + x.action + " (" + x.reason_code + ")" + (x.note ? ": " + x.note : "")));
      return li;
    }));
  } catch (e) { say(e.message); }
}

// Per-rule precision; rules the server judges low (below its threshold
// with enough decided items) are highlighted, and a precision from too
// few decisions says so rather than look like a verdict.
async function loadPrecision() {
  if (!canPrecision) return;
  try {
    const p = await api("GET", "/api/v1/rules/precision");
    $("precision-policy").textContent = "Highlighted: precision below " + p.threshold.toFixed(2) +
      " with at least " + p.min_decided + " decided items.";
    $("precision").tBodies[0].replaceChildren(...p.rules.map((r) => {
      const tr = document.createElement("tr");
      if (r.low) tr.className = "low";
      let prec = r.precision === null ? "–" : r.precision.toFixed(2);
      if (r.precision !== null && r.decided < p.min_decided) {
        prec += " (" + r.decided + " of " + p.min_decided + " decided: too few to judge)";
      }
      const cells = [r.rule, "v" + r.version, r.flagged, r.removed, r.no_violation,
        prec, r.decided ? Math.round(r.median_time_to_decision_seconds) + " s" : "–"];
      for (const c of cells) { const td = document.createElement("td"); td.textContent = String(c); tr.append(td); }
      return tr;
    }));
  } catch (e) { say(e.message); }
}

$("login").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const f = new FormData(ev.target);
  try {
    const r = await api("POST", "/api/v1/login", { username: f.get("username"), password: f.get("password") });
    csrf = r.csrf_token; ev.target.reset(); say(""); start();
  } catch (e) { say(e.message); }
});
$("logout").addEventListener("click", async () => { await api("POST", "/api/v1/logout").catch(() => {}); csrf = ""; show(null); start(); });
$("claim").addEventListener("click", async () => {
  try {
    const r = await api("POST", "/api/v1/queue/claim", { count: 1, queue: $("leads").checked ? "leads" : "default" });
    show(r.items[0] || null); say(r.items.length ? "" : "Nothing to review.");
  } catch (e) { say(e.message); }
});
$("release").addEventListener("click", async () => {
  if (!current) return;
  try { await api("POST", "/api/v1/items/" + current.id + "/release"); show(null); say("Released."); } catch (e) { say(e.message); }
});
$("decide").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  if (!current) return;
  const f = new FormData(ev.target);
  try {
    // Submit and next: the decision and the claim of the next item in one request.
    const r = await api("POST", "/api/v1/items/" + current.id + "/decision-and-claim", {
      action: f.get("action"), reason_code: f.get("reason_code"), note: f.get("note"),
      next: { count: 1, queue: $("leads").checked ? "leads" : "default" } });
    say("Decided #" + current.id + ": " + f.get("action") + (r.items.length ? "" : ". Nothing more to review."));
    show(r.items[0] || null); ev.target.note.value = "";
    loadPrecision();
  } catch (e) { say(e.message); }
});
start();
