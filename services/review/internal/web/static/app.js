// Minimal moderator (and auditor) page. It only calls the JSON API; the
// server enforces every rule (roles, leases, CSRF, blurring), so nothing
// here is trusted.
"use strict";
const $ = (id) => document.getElementById(id);
let csrf = "", current = null, canPrecision = false, me = null, reasonCodes = [];

async function api(method, path, body) {
  const opts = { method, headers: {}, credentials: "same-origin" };
  if (method !== "GET") opts.headers["X-CSRF-Token"] = csrf;
  if (body !== undefined) { opts.headers["Content-Type"] = "application/json"; opts.body = JSON.stringify(body); }
  const res = await fetch(path, opts);
  const data = res.status === 204 ? {} : await res.json().catch(() => ({}));
  if (!res.ok) {
    const err = new Error((data.error && data.error.message) || res.statusText);
    err.status = res.status;
    // A session that ended (idle, expired, revoked) while signed in:
    // back to the sign-in form rather than every panel failing.
    if (res.status === 401 && me && path !== "/api/v1/login") {
      err.message = "Your session has ended: sign in again.";
      sessionEnded();
    }
    throw err;
  }
  return data;
}

// sessionEnded empties the page of the last user's work and shows the
// sign-in form (start() finds no session).
function sessionEnded() { me = null; csrf = ""; show(null); start(); }

// severityName names the API's severity number (moderation.Severity).
function severityName(n) { return ["", "low", "medium", "high", "critical"][n] || "severity " + n; }

function say(text) { $("msg").textContent = text; }

// sayIn shows a panel's status line, marked as an error or not.
function sayIn(id, text, error) {
  $(id).textContent = text;
  $(id).className = error ? "error" : "";
}

function queueName() { return $("leads").checked ? "leads" : "default"; }

function reasonOptions() { return reasonCodes.map((r) => new Option(r.code + " " + r.title, r.code)); }

async function start() {
  try {
    me = await api("GET", "/api/v1/me");
    csrf = me.csrf_token || "";
    // Before the desk shows: an item's forms need them. Signed in all
    // the same if they fail to load (the server checks every decision).
    const rc = await api("GET", "/api/v1/reason-codes").catch((e) => {
      say("Loading the reason codes failed: " + e.message);
      return { reason_codes: [] };
    });
    reasonCodes = rc.reason_codes;
    $("reasons").replaceChildren(...reasonOptions());
    $("who").textContent = me.user.username + " (" + me.user.roles.join(", ") + ")";
    $("login").hidden = true; $("logout").hidden = false; $("desk").hidden = false;
    // Roles that do not review (auditors, rule engineers, admins) get no
    // claim button: the server would refuse every claim.
    $("claim").hidden = !me.permissions.includes("queue:claim");
    $("leads").parentElement.hidden = !me.permissions.includes("decide:escalated");
    canPrecision = me.permissions.includes("rules:read");
    $("precision-panel").hidden = !canPrecision;
    loadPrecision();
    startReports();
    // The leads' and auditors' panels (decisions.js, holds.js, audit.js).
    startDecisions(); startHolds(); startAudit(); startQueue();
    // Users' appeals against removals (appeals.js).
    startAppeals();
    // The admins' Users panel (users.js); everybody's own password (account.js).
    startUsers(); startAccount();
    const claimed = await api("GET", "/api/v1/queue/claimed").catch(() => ({ items: [] }));
    // Unless a claim made meanwhile already put an item on screen.
    if (claimed.items.length && !current) show(claimed.items[0]);
  } catch (e) {
    $("login").hidden = false; $("desk").hidden = true; $("logout").hidden = true;
    // Signed out: nothing of the last user's panels stays on screen.
    canPrecision = false; $("precision-panel").hidden = true;
    $("media-colour").checked = false; $("media").classList.add("greyscale");
    resetReports();
    resetDecisions(); resetHolds(); resetAudit(); resetQueue(); resetUsers(); resetAccount();
    resetAppeals();
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
  $("clusters").replaceChildren();
  if (!item) {
    // Nothing of the last item stays in the page, hidden or not: the next
    // person at this screen may be someone else.
    for (const id of ["title", "meta", "text", "matches", "history", "media"]) $(id).replaceChildren();
    $("evidence").hidden = true;
    $("evidence-link").removeAttribute("href");
    return;
  }
  // The evidence package (GET /api/v1/items/{id}/evidence), for leads and
  // admins (evidence:export); the server audits every download.
  $("evidence").hidden = !me.permissions.includes("evidence:export");
  $("evidence-link").href = "/api/v1/items/" + item.id + "/evidence";
  const overdue = new Date(item.sla_deadline) < new Date();
  $("title").textContent = "#" + item.id + " " + item.category + " (" + severityName(item.severity) + ")";
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
  $("media").replaceChildren(...item.media.filter((m) => m.sha256).map((m) => mediaFigure(item, m)));
  $("media-colour-label").hidden = !$("media").querySelector("button.reveal");
  loadClusters(item);
}

// The types the server sends inline (httpapi.safeImageTypes); it offers
// any other original only as a download.
const inlineImageTypes = new Set(["image/jpeg", "image/png", "image/gif", "image/webp"]);

// mediaFigure shows one picture of an item, blurred by the server. A
// moderator whose role allows the original (media:unblurred) reveals one
// picture at a time; the server audits every reveal before it sends a
// byte, and "Blur again" puts the blurred copy back. Revealed pictures
// are shown in greyscale unless "colour" is ticked: a wellbeing default,
// with colour one click away when it matters (a flag, a uniform, blood).
function mediaFigure(item, m) {
  const fig = document.createElement("figure");
  const img = document.createElement("img");
  const src = "/api/v1/items/" + item.id + "/media/" + encodeURIComponent(m.media_id);
  img.alt = "blurred evidence"; img.src = src;
  fig.append(img);
  if (!me.permissions.includes("media:unblurred")) return fig;
  const caption = document.createElement("figcaption");
  fig.append(caption);
  if (!inlineImageTypes.has(m.mime)) {
    caption.textContent = "Original (" + m.mime + ") not shown on the page.";
    return fig;
  }
  const b = document.createElement("button"); b.type = "button"; b.className = "reveal";
  const show = (original) => {
    img.src = original ? src + "?view=original" : src;
    img.alt = original ? "original evidence" : "blurred evidence";
    img.classList.toggle("original", original);
    b.textContent = original ? "Blur again" : "Show original";
    b.setAttribute("aria-pressed", String(original));
    caption.replaceChildren(b);
  };
  img.addEventListener("error", () => {
    if (img.classList.contains("original")) caption.replaceChildren("The original could not be loaded (purged, or your session ended).");
  });
  b.addEventListener("click", () => show(!img.classList.contains("original")));
  show(false);
  return fig;
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

// Clusters. Undecided posts whose media matched the same hash-bank entry
// (copies of one known image) form a cluster; when the item on screen has
// copies still undecided, the page says how many, lists them, and can
// decide them all with one POST /api/v1/clusters/{id}/decision. The
// server decides what is undecided when the request arrives and skips
// the rest, saying why for each; the page reports what it did.

// clusterMax is moderation.MaxClusterDecision: the most items one cluster
// lists or decides.
const clusterMax = 1000;

// The id is BANK:ENTRY as one path segment (an entry id may hold '/').
function clusterPath(bank, entry) { return "/api/v1/clusters/" + encodeURIComponent(bank + ":" + entry); }

// clusterLoad numbers the loads: only the latest one shows its clusters
// (the same item can be shown twice, each show starting a load).
let clusterLoad = 0;

async function loadClusters(item) {
  const load = ++clusterLoad;
  const seen = new Set(), found = [];
  for (const m of item.matches) {
    const id = m.bank + ":" + m.entry;
    if (!m.bank || !m.entry || seen.has(id)) continue;
    seen.add(id);
    try {
      const c = await api("GET", clusterPath(m.bank, m.entry));
      if (current !== item || load !== clusterLoad) return;
      found.push({ key: { bank: m.bank, entry: m.entry }, items: c.items });
    } catch (e) {
      // 404: nothing of it is undecided any more.
      if (e.status !== 404) say("Loading the cluster of bank " + m.bank + " entry " + m.entry + ": " + e.message);
    }
  }
  for (const g of sameMembers(found)) {
    const view = clusterView(item, g.keys);
    if (view.update(g.items) > 0) $("clusters").append(view.box);
  }
}

// sameMembers groups clusters whose undecided items are the same posts:
// a picture in two banks (the demo's are in a PDQ and a pHash bank)
// matches an entry of each, and two boxes listing the same posts would
// ask the moderator to decide them twice. Groups keep the matches' order.
function sameMembers(found) {
  const groups = new Map();
  for (const c of found) {
    const members = c.items.map((it) => it.id).sort((a, b) => a - b).join(",");
    const g = groups.get(members);
    if (g) g.keys.push(c.key);
    else groups.set(members, { keys: [c.key], items: c.items });
  }
  return [...groups.values()];
}

// skipReason says why a cluster decision would leave it out (a reason
// of skipTexts), as far as the page can tell when it asks for
// confirmation, or "" if it would be decided. A forecast: what was in
// fact skipped, and why, the server says.
function skipReason(it) {
  if ((it.status === "escalated" || it.queue === "leads") && !me.permissions.includes("decide:escalated")) {
    return "leads_queue";
  }
  if (it.status === "claimed" && it.claimed_by !== me.user.id && new Date(it.lease_expires_at) > new Date()) {
    return "held";
  }
  return "";
}

// decisionProblem checks a decision as the server will (which still
// does): the reason code applies to the action, a report has a note.
const maxNoteChars = 4000;

function decisionProblem(input) {
  const rc = reasonCodes.find((r) => r.code === input.reason_code);
  if (!rc) return "Choose a reason code.";
  if (rc.actions && rc.actions.length && !rc.actions.includes(input.action)) {
    return "Reason code " + rc.code + " does not apply to " + input.action + ".";
  }
  if (input.action === "report" && !input.note.trim()) return "A report to law enforcement needs a note.";
  // Characters, as the server counts them (moderation.MaxNoteLen); the
  // fields' maxlength counts UTF-16 units, two per emoji, so it is 8000.
  const chars = [...input.note].length;
  if (chars > maxNoteChars) return "The note is " + chars + " characters long; at most " + maxNoteChars + ".";
  return "";
}

function plural(n, word) { return n + " " + word + (n === 1 ? "" : "s"); }

// skipTexts words the reasons for skipping an item of a cluster decision
// (moderation.SkipReason). The page lists only undecided members, so one
// no longer in the cluster was decided meanwhile.
const skipTexts = new Map([
  ["not_in_cluster", "decided meanwhile"],
  ["held", "held by another reviewer"],
  ["leads_queue", "in the leads queue"],
  ["busy", "being claimed or decided at that moment, try again"],
]);

function skipText(reason) { return skipTexts.get(reason) || "skipped: " + reason; }

// clusterPost is one post of a cluster's list: everything from the post
// is inserted as text, and its media blurred like the item's.
function clusterPost(it) {
  const li = document.createElement("li");
  li.dataset.item = String(it.id);
  const meta = document.createElement("p");
  meta.className = "cluster-meta";
  const skip = skipReason(it);
  meta.append(plain("#" + it.id + " " + it.category + " (" + severityName(it.severity) + ") · " + it.platform +
    " · @" + it.author_handle + " · " + it.status + (skip ? " · will be skipped: " + skipText(skip) : "")));
  const text = document.createElement("div");
  text.className = "post-text";
  text.append(plain(it.text));
  li.append(meta, text);
  for (const m of it.media.filter((x) => x.sha256)) {
    const img = document.createElement("img");
    img.alt = "blurred evidence"; img.loading = "lazy";
    img.src = "/api/v1/items/" + it.id + "/media/" + encodeURIComponent(m.media_id);
    li.append(img);
  }
  return li;
}

// clusterView builds the box of the clusters of item with the bank
// entries keys (one, or several whose members are the same posts): the
// count, the list and the form deciding it whole, with a confirmation
// showing the count. It reads and decides through the first key: the
// posts confirmed are sent by id, so that is enough for all of them.
function clusterView(item, keys) {
  const box = $("cluster-tpl").content.firstElementChild.cloneNode(true);
  const q = (sel) => box.querySelector(sel);
  const form = q("form"), field = (name) => form.querySelector("[name=" + name + "]");
  const confirmBox = q(".cluster-confirm"), result = q(".cluster-result");
  const buttons = [q(".cluster-review"), q(".cluster-yes"), q(".cluster-no")];
  const { bank, entry } = keys[0];
  const label = keys.map((k) => "bank " + k.bank + ", entry " + k.entry).join("; ");
  let known = new Map(), pending = null;

  // The same choices as the item's own decision.
  field("action").replaceChildren(...[...$("decide").querySelector("select[name=action]").options].map((o) => new Option(o.text, o.value)));
  field("reason_code").replaceChildren(...reasonOptions());
  form.hidden = !me.permissions.includes("decide");

  // update shows the cluster's undecided items and returns how many
  // there are besides item.
  function update(items) {
    known = new Map(items.map((it) => [it.id, it]));
    const others = items.filter((it) => it.id !== item.id);
    const atLeast = items.length >= clusterMax ? "at least " : "";
    q(".cluster-summary").replaceChildren(plain("This image (" + label + ") is in " + atLeast + plural(others.length, "other undecided post") + "."));
    q("summary").textContent = "List them (" + others.length + ")";
    q(".cluster-posts").replaceChildren(...others.map(clusterPost));
    const n = items.filter((it) => !skipReason(it)).length;
    buttons[0].textContent = "Decide the cluster (" + atLeast + plural(n, "post") + ")…";
    return others.length;
  }
  function busy(on) { for (const b of buttons) b.disabled = on; }
  function report(text, error) {
    result.textContent = text;
    result.className = "cluster-result" + (error ? " error" : "");
    say(text);
  }
  function cancel() { confirmBox.hidden = true; pending = null; }

  form.addEventListener("input", cancel);
  form.addEventListener("change", cancel);
  q(".cluster-no").addEventListener("click", () => { cancel(); report("Cancelled: nothing was decided."); });
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    cancel();
    const input = { action: field("action").value, reason_code: field("reason_code").value, note: field("note").value };
    const problem = decisionProblem(input);
    if (problem) { report(problem, true); return; }
    busy(true);
    try {
      // Confirm the count as it is now, not as it was when the item came up.
      const c = await api("GET", clusterPath(bank, entry));
      if (current !== item) return;
      update(c.items);
    } catch (e) {
      report(e.status === 404 ? "Nothing of " + label + " is undecided any more." : e.message, true);
      return;
    } finally { busy(false); }
    const items = [...known.values()], skipped = items.filter(skipReason);
    const n = items.length - skipped.length;
    if (n === 0) {
      report("Every undecided post of " + label + " is held by another reviewer or in the leads queue: nothing to decide.", true);
      return;
    }
    const mine = known.has(item.id) && !skipReason(known.get(item.id));
    let text = "Decide " + plural(n, "post") + " of " + label + (mine ? " (this one and " + plural(n - 1, "other") + ")" : "") +
      " as " + input.action + ", reason " + input.reason_code + (input.note ? ", with your note on each" : "") + "?";
    if (skipped.length) {
      text += " " + plural(skipped.length, "other post") + " will be skipped: " +
        skipped.map((it) => "#" + it.id + " (" + skipText(skipReason(it)) + ")").join(", ") + ".";
    }
    confirmBox.querySelector("p").replaceChildren(plain(text));
    q(".cluster-yes").textContent = "Confirm: decide " + plural(n, "post");
    result.textContent = "";
    // Only what the confirmation names: copies queued meanwhile wait for
    // someone to see them.
    pending = { input: { ...input, item_ids: items.filter((it) => !skipReason(it)).map((it) => it.id) },
      excluded: skipped.map((it) => [it.id, skipReason(it)]) };
    confirmBox.hidden = false;
    q(".cluster-yes").focus();
  });
  q(".cluster-yes").addEventListener("click", async () => {
    if (!pending) return;
    const { input, excluded } = pending;
    cancel();
    busy(true);
    try {
      const r = await api("POST", clusterPath(bank, entry) + "/decision", input);
      let text = "Cluster " + label + ": decided " + plural(r.decisions.length, "post") + " as " + input.action + " (" + input.reason_code + ")";
      // Skipped: those the confirmation left out (for the reason it
      // gave), and those the server did not decide, for its reasons.
      const why = new Map(excluded.map(([id, reason]) => [id, "left out when you confirmed (" + skipText(reason) + ")"]));
      for (const s of r.skipped_items) why.set(s.item_id, skipText(s.reason));
      const skipped = [...why.keys()].sort((a, b) => a - b);
      text += skipped.length ? "; " + skipped.length + " skipped: " + skipped.map((id) => "#" + id + " " + why.get(id)).join(", ") + "." : "; none skipped.";
      loadPrecision(); decisionsChanged();
      if (r.decisions.some((d) => d.item_id === item.id)) {
        // The item on screen was decided with the rest: on to the next,
        // as a single decision's submit does.
        await claimAfter(text);
        return;
      }
      report(text);
      const c = await api("GET", clusterPath(bank, entry)).catch(() => ({ items: [] }));
      if (current === item) update(c.items);
    } catch (e) {
      report("Deciding the cluster failed: " + e.message, true);
    } finally { busy(false); }
  });
  return { box, update };
}

// claimAfter claims the next item once the one on screen was decided,
// saying what was done first.
async function claimAfter(done) {
  try {
    const r = await api("POST", "/api/v1/queue/claim", { count: 1, queue: queueName() });
    show(r.items[0] || null);
    say(done + (r.items.length ? "" : " Nothing more to review."));
  } catch (e) {
    show(null);
    say(done + " Claiming the next item failed: " + e.message);
  }
}

// Per-rule precision; rules the server judges low (below its threshold
// with enough decided items) are highlighted, and a precision from too
// few decisions says so rather than look like a verdict. A hash bank's
// row ("bank:NAME") opens to its entries' precision: one entry (a meme in
// a shared list) goes wrong where the bank's row averages it away.
const precisionOpen = new Set(); // banks whose entries are shown
let precisionUser = null;
async function loadPrecision() {
  if (!canPrecision) return;
  // Another user signed in: none of the last one's banks stay open.
  if (precisionUser !== me.user.username) { precisionOpen.clear(); precisionUser = me.user.username; }
  try {
    const p = await api("GET", "/api/v1/rules/precision");
    $("precision-policy").textContent = "Highlighted: precision below " + p.threshold.toFixed(2) +
      " with at least " + p.min_decided + " decided items.";
    $("precision").tBodies[0].replaceChildren(...p.rules.flatMap((r) => {
      const tr = document.createElement("tr");
      if (r.low) tr.className = "low";
      const cells = [r.rule, "v" + r.version, r.flagged, r.removed, r.no_violation,
        precisionText(r, p.min_decided), r.decided ? Math.round(r.median_time_to_decision_seconds) + " s" : "–"];
      for (const c of cells) { const td = document.createElement("td"); td.textContent = String(c); tr.append(td); }
      const td = document.createElement("td"); tr.append(td);
      if (!r.rule.startsWith("bank:")) return [tr];
      const bank = r.rule.slice("bank:".length);
      const more = document.createElement("tr"); more.className = "bank-entries";
      const cell = document.createElement("td"); cell.colSpan = cells.length + 1; more.append(cell);
      const b = document.createElement("button"); b.type = "button"; b.className = "bank-entries-toggle";
      const open = (on) => {
        more.hidden = !on; b.textContent = on ? "Hide entries" : "Show entries";
        b.setAttribute("aria-expanded", String(on));
        if (on) { precisionOpen.add(bank); loadBankEntries(bank, cell); } else precisionOpen.delete(bank);
      };
      b.addEventListener("click", () => open(more.hidden));
      td.append(b);
      open(precisionOpen.has(bank));
      return [tr, more];
    }));
  } catch (e) { say(e.message); }
}

// precisionText is a precision as shown, with its sample size when it is
// from too few decided items to judge.
function precisionText(r, minDecided) {
  let prec = r.precision === null ? "–" : r.precision.toFixed(2);
  if (r.precision !== null && r.decided < minDecided) {
    prec += " (" + r.decided + " of " + minDecided + " decided: too few to judge)";
  }
  return prec;
}

const bankEntriesLimit = 50;

// loadBankEntries fills cell with a bank's entries, worst precision
// first, low ones highlighted as rules are. Entry ids come from shared
// lists: inserted as text, hidden characters shown as markers.
// An answer that arrives after the row was hidden, or after a later load
// of the same cell, is dropped.
async function loadBankEntries(bank, cell) {
  const seq = cell.loadSeq = (cell.loadSeq || 0) + 1;
  const stale = () => seq !== cell.loadSeq || cell.parentElement.hidden;
  cell.replaceChildren("Loading the entries of " + bank + "…");
  try {
    const p = await api("GET", "/api/v1/banks/precision?bank=" + encodeURIComponent(bank) + "&limit=" + bankEntriesLimit);
    if (stale()) return;
    const table = document.createElement("table"); table.className = "bank-entries";
    const head = table.createTHead().insertRow();
    for (const h of ["entry", "hash", "flagged", "removed", "no violation", "precision", "median time to decision", "median distance"]) {
      const th = document.createElement("th"); th.textContent = h; head.append(th);
    }
    const body = table.createTBody();
    for (const e of p.entries) {
      const tr = body.insertRow();
      if (e.low) tr.className = "low";
      const id = document.createElement("td"); id.append(plain(e.entry)); tr.append(id);
      for (const c of [e.hash_type, e.flagged, e.removed, e.no_violation, precisionText(e, p.low_min_decided),
        e.decided ? Math.round(e.median_time_to_decision_seconds) + " s" : "–", e.median_distance]) {
        const td = document.createElement("td"); td.textContent = String(c); tr.append(td);
      }
    }
    const note = document.createElement("p"); note.className = "hint";
    note.textContent = (p.entries.length === bankEntriesLimit ? "The " + bankEntriesLimit + " worst entries (vigilctl banks precision --bank " + bank + " lists all). " : "") +
      (p.entries.some((e) => e.low) ? "A highlighted entry most likely holds the hash of a common image (a meme, a logo) and flags harmless posts: " +
        "remove it from its bank file or source list and re-import the bank (docs/hashing.md)." : "");
    cell.replaceChildren(p.entries.length ? table : "No entry of " + bank + " matched an item in the period.", note);
  } catch (e) { if (!stale()) cell.replaceChildren("Loading the entries of " + bank + " failed: " + e.message); }
}

// Reports: the transparency report of a period for roles with
// stats:read (auditors, leads, rule engineers, admins), and links to its
// Markdown and CSV and to the decisions export. The period is half-open,
// [from, to), in whole UTC days; the page checks it as the server will
// (which still does and has the last word) and shows the server's
// message when it refuses. Category names and reason codes come from
// outside and are inserted as text.

const reportMaxDays = 366; // moderation.MaxReportPeriod
const dayMs = 24 * 3600 * 1000;
let reportSeq = 0;

// isoDay is the YYYY-MM-DD of ms (a UTC midnight).
function isoDay(ms) { return new Date(ms).toISOString().slice(0, 10); }

// dayMsOf reads a date input's YYYY-MM-DD as that day's midnight UTC, or
// NaN.
function dayMsOf(s) {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s);
  return m ? Date.UTC(+m[1], +m[2] - 1, +m[3]) : NaN;
}

// periodProblem says what is wrong with [from, to), or "". A report's
// period must have ended; an export's may run into the future.
function periodProblem(from, to, ended) {
  const f = dayMsOf(from), t = dayMsOf(to);
  if (isNaN(f) || isNaN(t)) return "Choose both dates, From and To.";
  if (f >= t) return "From (" + from + ") must be before To (" + to + "); To is exclusive: for one day, To is the day after.";
  const days = Math.round((t - f) / dayMs);
  if (days > reportMaxDays) return "The period is " + days + " days long: at most " + reportMaxDays + ".";
  if (ended && t > Date.now()) {
    return "To (" + to + ") is in the future: a report covers a period that has ended (To at the latest " + isoDay(Math.floor(Date.now() / dayMs) * dayMs) + ").";
  }
  return "";
}

function reportQuery(from, to) { return "from=" + encodeURIComponent(from) + "&to=" + encodeURIComponent(to); }

// duration shows seconds in the two largest units (3 h, 1 h 30 min,
// 40 min); null (nothing decided) as a dash.
function duration(sec) {
  if (sec === null || sec === undefined) return "–";
  if (sec < 60) return (Math.round(sec * 10) / 10) + " s";
  const units = [["d", 86400], ["h", 3600], ["min", 60], ["s", 1]];
  let rest = Math.round(sec);
  const parts = [];
  for (const [name, n] of units) {
    if (parts.length === 2) break;
    const q = Math.floor(rest / n);
    rest -= q * n;
    if (q > 0) parts.push(q + " " + name);
    else if (parts.length) parts.push(null); // a zero in the middle ends it: "1 d", not "1 d 0 h"
  }
  return parts.filter((p) => p !== null).join(" ");
}

function cell(tag, value, title) {
  const c = document.createElement(tag);
  if (value instanceof Node) c.append(value); else c.textContent = String(value);
  if (title) c.title = title;
  return c;
}

// The columns of a group's row: label, value from ReportCounts, and a
// title with the exact seconds for durations.
const reportColumns = [
  ["flagged", (c) => c.items_flagged],
  ["decided", (c) => c.items_decided],
  ["remove", (c) => c.decisions_by_action.remove],
  ["no violation", (c) => c.decisions_by_action.no_violation],
  ["escalate", (c) => c.decisions_by_action.escalate],
  ["report", (c) => c.decisions_by_action.report],
  ["referrals", (c) => c.referrals_to_law_enforcement],
  ["reversals", (c) => c.reversals],
  ["restored", (c) => c.restored],
  ["p50", (c) => c.time_to_action.p50_seconds, true],
  ["p90", (c) => c.time_to_action.p90_seconds, true],
  ["p99", (c) => c.time_to_action.p99_seconds, true],
  ["max", (c) => c.time_to_action.max_seconds, true],
  ["SLA met", (c) => c.sla_met],
  ["SLA missed", (c) => c.sla_missed],
  ["open at end", (c) => c.open_at_end],
  ["overdue at end", (c) => c.open_overdue_at_end],
];

function valueCell(c, [, get, isDuration]) {
  const v = get(c);
  return isDuration ? cell("td", duration(v), v === null ? "" : v + " s") : cell("td", v);
}

// groupTable fills table with one row per group (a category or a
// detection source), its key as text.
function groupTable(table, keyName, groups) {
  const head = document.createElement("tr");
  head.append(cell("th", keyName), ...reportColumns.map(([label]) => cell("th", label)));
  table.tHead.replaceChildren(head);
  table.tBodies[0].replaceChildren(...groups.map((g) => {
    const tr = document.createElement("tr");
    tr.dataset.key = g.key;
    tr.append(cell("td", plain(g.key)), ...reportColumns.map((col) => valueCell(g, col)));
    return tr;
  }));
  if (!groups.length) {
    const tr = document.createElement("tr");
    const td = cell("td", "nothing in this period");
    td.colSpan = reportColumns.length + 1;
    tr.append(td);
    table.tBodies[0].append(tr);
  }
}

function showReport(r) {
  const t = r.total, tta = t.time_to_action;
  const day = (s) => (s.endsWith("T00:00:00Z") ? s.slice(0, 10) : s);
  $("report-title").textContent = "From " + day(r.period.from) + " up to " + day(r.period.to) + " (exclusive), UTC; generated " +
    r.generated_at.replace("T", " ").replace(/\.\d+/, "").replace(/Z$/, " UTC");
  const rows = [
    ["Items flagged", t.items_flagged],
    ["Items decided", t.items_decided],
    ["Decisions: remove", t.decisions_by_action.remove],
    ["Decisions: no violation", t.decisions_by_action.no_violation],
    ["Decisions: escalate", t.decisions_by_action.escalate],
    ["Decisions: report to law enforcement", t.decisions_by_action.report],
    ["Referrals to law enforcement", t.referrals_to_law_enforcement],
    ["Reversals", t.reversals],
    ["Restored (removal reversed)", t.restored],
    ["Time to action p50", tta.p50_seconds, true],
    ["Time to action p90", tta.p90_seconds, true],
    ["Time to action p99", tta.p99_seconds, true],
    ["Time to action max", tta.max_seconds, true],
    ["SLA met", t.sla_met],
    ["SLA missed", t.sla_missed],
    ["Open at end", t.open_at_end],
    ["Open and overdue at end", t.open_overdue_at_end],
  ];
  // Users' appeals against removals (appeals.js resolves them).
  const ap = r.appeals;
  if (ap) {
    rows.push(["Appeals received", ap.received], ["Appeals upheld", ap.upheld], ["Appeals reinstated", ap.reinstated],
      ["Appeals: median time to resolution", ap.time_to_resolution.median_seconds, true], ["Appeals open at end", ap.open_at_end]);
  }
  $("report-summary").tBodies[0].replaceChildren(...rows.map(([label, v, isDuration]) => {
    const tr = document.createElement("tr");
    tr.append(cell("th", label), isDuration ? cell("td", duration(v), v === null ? "" : v + " s") : cell("td", v));
    return tr;
  }));
  groupTable($("report-categories"), "category", r.by_category || []);
  groupTable($("report-sources"), "detection source", r.by_detection_source || []);
  const reasons = $("report-reasons");
  const head = document.createElement("tr");
  head.append(...["reason code", "title", "remove", "no violation", "escalate", "report"].map((h) => cell("th", h)));
  reasons.tHead.replaceChildren(head);
  reasons.tBodies[0].replaceChildren(...(r.decisions_by_reason_code || []).map((x) => {
    const tr = document.createElement("tr");
    const a = x.decisions_by_action;
    tr.append(cell("td", plain(x.reason_code)), cell("td", plain(x.title || "")), cell("td", a.remove), cell("td", a.no_violation), cell("td", a.escalate), cell("td", a.report));
    return tr;
  }));
  $("report").hidden = false;
}

function reportSay(text, error) { sayIn("report-msg", text, error); }

// reportLinks points the download links at the period in the form, or
// hides them while it is not one the server would accept.
function reportLinks() {
  const { from, to } = reportPeriod();
  const q = reportQuery(from, to);
  const reportOK = !periodProblem(from, to, true), exportOK = !periodProblem(from, to, false);
  $("report-markdown").href = "/api/v1/reports/transparency?" + q + "&format=markdown";
  $("report-csv").href = "/api/v1/reports/transparency?" + q + "&format=csv";
  $("report-export").href = "/api/v1/decisions/export?" + q;
  $("report-markdown").parentElement.hidden = $("report-csv").parentElement.hidden = !reportOK;
  $("report-downloads-period").textContent = from + " up to " + to + " (exclusive)";
  $("report-downloads").hidden = !exportOK;
}

// startReports shows the panel to users with stats:read, with the last
// full calendar month (UTC) as the period, and forgets an earlier user's
// report.
function startReports() {
  const can = me.permissions.includes("stats:read");
  resetReports();
  $("reports-panel").hidden = !can;
  if (!can) return;
  const field = (name) => $("report-form").querySelector("[name=" + name + "]"), now = new Date();
  if (!field("from").value && !field("to").value) {
    field("to").value = isoDay(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
    field("from").value = isoDay(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 1));
  }
  reportLinks();
}

// resetReports hides the panel and forgets the report on screen (and
// any still loading): at sign-out, before the next user.
function resetReports() {
  reportSeq++;
  $("reports-panel").hidden = true;
  $("report").hidden = true;
  for (const id of ["report-summary", "report-categories", "report-sources", "report-reasons"]) $(id).tBodies[0].replaceChildren();
  reportSay("");
}

// reportPeriod is the period in the form, as the inputs' YYYY-MM-DD.
function reportPeriod() {
  const f = $("report-form");
  return { from: f.querySelector("[name=from]").value, to: f.querySelector("[name=to]").value };
}

$("report-form").addEventListener("input", () => { reportLinks(); reportSay(""); });
$("report-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const { from, to } = reportPeriod();
  const problem = periodProblem(from, to, true);
  const seq = ++reportSeq;
  if (problem) { $("report").hidden = true; reportSay(problem, true); return; }
  reportSay("Loading the report of " + from + " up to " + to + "…");
  try {
    const r = await api("GET", "/api/v1/reports/transparency?" + reportQuery(from, to));
    if (seq !== reportSeq) return; // a later Show, or another user, since
    showReport(r);
    reportSay("");
  } catch (e) {
    if (seq !== reportSeq) return;
    $("report").hidden = true;
    reportSay("The server refused the report: " + e.message, true);
  }
});

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
    const r = await api("POST", "/api/v1/queue/claim", { count: 1, queue: queueName() });
    show(r.items[0] || null); say(r.items.length ? "" : "Nothing to review.");
  } catch (e) { say(e.message); }
});
$("media-colour").addEventListener("change", (ev) => $("media").classList.toggle("greyscale", !ev.target.checked));
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
      next: { count: 1, queue: queueName() } });
    say("Decided #" + current.id + ": " + f.get("action") + (r.items.length ? "" : ". Nothing more to review."));
    show(r.items[0] || null); ev.target.note.value = "";
    loadPrecision(); decisionsChanged();
  } catch (e) { say(e.message); }
});
// Keyboard shortcuts at the desk, for people who review all day: 1 to 4
// choose the action (remove, no violation, escalate, report) and move to
// the reason (to the note for a report, which needs one); Enter on the
// action or the reason sends the decision, as Enter in the note does; v
// shows or blurs the item's first picture; c claims when nothing is held.
// A key never decides by itself. Keys typed into a field, or with a
// modifier, are the field's.
const actionKeys = { "1": "remove", "2": "no_violation", "3": "escalate", "4": "report" };
document.addEventListener("keydown", (ev) => {
  if (ev.ctrlKey || ev.metaKey || ev.altKey || ev.repeat || $("desk").hidden) return;
  const t = ev.target, form = $("decide");
  if (ev.key === "Enter" && t instanceof HTMLSelectElement && form.contains(t) && current) {
    ev.preventDefault(); form.requestSubmit(); return;
  }
  if (t instanceof HTMLInputElement || t instanceof HTMLTextAreaElement || t instanceof HTMLSelectElement || t.isContentEditable) return;
  if (actionKeys[ev.key] && current && !$("item").hidden) {
    ev.preventDefault();
    form.querySelector("select[name=action]").value = actionKeys[ev.key];
    (ev.key === "4" ? form.querySelector("input[name=note]") : $("reasons")).focus();
  } else if (ev.key === "v" && current) {
    const b = $("media").querySelector("button.reveal");
    if (b) { ev.preventDefault(); b.click(); }
  } else if (ev.key === "c" && !current && !$("claim").hidden && !$("claim").disabled) {
    ev.preventDefault(); $("claim").click();
  }
});

// Once every deferred script ran: start() calls the panels of
// decisions.js, holds.js, audit.js, users.js and account.js, loaded after
// this file.
document.addEventListener("DOMContentLoaded", start);
