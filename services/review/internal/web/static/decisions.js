// Decisions panel, for leads (decide:reverse): the latest decisions,
// filtered as GET /api/v1/decisions allows (item, post, actor, action, a
// period of whole UTC days), newest first and paged; a final decision can
// be reversed, after a confirmation, with POST
// /api/v1/decisions/{id}/reverse. A reversal is a new decision, never an
// edit: the list then shows both. Notes, usernames and reason codes come
// from outside and are inserted as text (plain() of app.js). Uses api(),
// $(), me, reasonCodes, plain(), cell() and loadPrecision() of app.js;
// started and reset by its start().
"use strict";

const decisionsPageSize = 50;
const reversibleActions = [["remove", "remove"], ["no_violation", "no violation"], ["report", "report to law enforcement"]];
// decisionsEpoch changes at every reset: answers to an earlier user's
// requests are dropped. decisionsLoad numbers the loads: only the latest
// shows.
let decisionsEpoch = 0, decisionsLoad = 0;
// decisionsPages is the before_id of every page from the newest to the
// one on screen (0: the newest); decisionsMore says an older page exists.
let decisionsPages = [0], decisionsMore = false;
let reverseTarget = null, reversePending = null;

function decisionsField(name) { return $("decisions-filter").querySelector("[name=" + name + "]"); }

function decisionsSay(text, error) { sayIn("decisions-msg", text, error); }

// utcTime shows an RFC 3339 time as "YYYY-MM-DD hh:mm:ss UTC".
function utcTime(s) {
  const d = new Date(s);
  return isNaN(d) ? s : d.toISOString().slice(0, 19).replace("T", " ") + " UTC";
}

// decisionsQuery is the listing's query for the filters and the page
// before id (0: the newest), or throws with what is wrong with them.
function decisionsQuery(before) {
  const v = (name) => decisionsField(name).value.trim();
  const q = new URLSearchParams({ order: "desc", limit: String(decisionsPageSize + 1) });
  if (v("item_id")) {
    if (!/^[1-9][0-9]{0,17}$/.test(v("item_id"))) throw new Error("Item must be an item id, a positive whole number.");
    q.set("item_id", v("item_id"));
  }
  if (v("post_id")) q.set("post_id", v("post_id"));
  if (v("actor")) q.set("actor", v("actor"));
  if (v("action")) q.set("action", v("action"));
  const from = v("from"), to = v("to");
  if (from && to && dayMsOf(from) >= dayMsOf(to)) {
    throw new Error("From (" + from + ") must be before To (" + to + "); To is exclusive: for one day, To is the day after.");
  }
  if (from) q.set("since", from + "T00:00:00Z");
  if (to) q.set("until", to + "T00:00:00Z");
  if (before) q.set("before_id", String(before));
  return q.toString();
}

// loadDecisions shows the page before id before; it reports whether it
// did (a later load, a reset or a refusal leave the list as it was).
async function loadDecisions(before) {
  const load = ++decisionsLoad, epoch = decisionsEpoch;
  let query;
  try { query = decisionsQuery(before); } catch (e) { decisionsSay(e.message, true); return false; }
  try {
    const r = await api("GET", "/api/v1/decisions?" + query);
    if (load !== decisionsLoad || epoch !== decisionsEpoch) return false;
    decisionsMore = r.decisions.length > decisionsPageSize;
    showDecisions(r.decisions.slice(0, decisionsPageSize));
    return true;
  } catch (e) {
    if (load !== decisionsLoad || epoch !== decisionsEpoch) return false;
    decisionsSay("The server refused the listing: " + e.message, true);
    return false;
  }
}

function showDecisions(list) {
  const body = $("decisions").tBodies[0];
  // A decision reversed by one on the page is no longer its item's
  // latest: no Reverse… (the server would refuse it).
  const reversed = new Set(list.filter((d) => d.reverses).map((d) => d.reverses));
  body.replaceChildren(...list.map((d) => decisionRow(d, reversed.has(d.id))));
  if (!list.length) {
    const td = cell("td", "no decision matches");
    td.colSpan = 9;
    const tr = document.createElement("tr");
    tr.append(td);
    body.append(tr);
  }
  $("decisions-newer").disabled = decisionsPages.length === 1;
  $("decisions-older").disabled = !decisionsMore;
  $("decisions-page").textContent = "newest first, page " + decisionsPages.length;
}

function decisionRow(d, reversed) {
  const tr = document.createElement("tr");
  tr.dataset.id = String(d.id);
  const action = d.reverses ? d.action + " (reverses #" + d.reverses + ")" : d.action;
  // A reversal has no SLA of its own: it keeps the item's deadline.
  const met = new Date(d.created_at) <= new Date(d.sla_deadline);
  const sla = cell("td", d.reverses ? "n/a (reversal)" : met ? "met" : "missed", "deadline " + utcTime(d.sla_deadline));
  if (!d.reverses && !met) sla.className = "overdue";
  tr.append(cell("td", "#" + d.id), cell("td", "#" + d.item_id), cell("td", plain(d.actor)), cell("td", action),
    cell("td", plain(d.reason_code)), cell("td", plain(d.note || "")), cell("td", utcTime(d.created_at), d.created_at), sla);
  const last = document.createElement("td");
  // Escalations are not final: the item is decided, not reversed. The
  // server also refuses a decision that is no longer the item's latest.
  if (d.action !== "escalate" && !reversed) {
    const b = document.createElement("button");
    b.type = "button"; b.className = "reverse-open"; b.textContent = "Reverse…";
    b.addEventListener("click", () => openReverse(d));
    last.append(b);
  }
  tr.append(last);
  return tr;
}

// reverseField is a field of the reverse form (form.action would be the
// form's own action attribute to a reader, whatever the browser does).
function reverseField(name) { return $("reverse-form").querySelector("[name=" + name + "]"); }

function reverseSay(text, error) { sayIn("reverse-msg", text, error); }

// openReverse shows the reverse form for decision d: the final actions
// other than its own, the reason codes that apply to the one chosen.
function openReverse(d) {
  reverseTarget = d;
  closeReverseConfirm();
  $("reverse-title").replaceChildren(plain("Reverse decision #" + d.id + " (item #" + d.item_id + ": " + d.action +
    ", " + d.reason_code + ", by " + d.actor + ")"));
  reverseField("action").replaceChildren(...reversibleActions.filter(([a]) => a !== d.action).map(([a, label]) => new Option(label, a)));
  reverseField("note").value = "";
  reverseReasons();
  reverseSay("");
  $("reverse").hidden = false;
  reverseField("action").focus();
}

function reverseReasons() {
  const action = reverseField("action").value;
  reverseField("reason_code").replaceChildren(...reasonCodes.filter((r) => !r.actions || !r.actions.length || r.actions.includes(action))
    .map((r) => new Option(r.code + " " + r.title, r.code)));
}

function closeReverse() {
  reverseTarget = null;
  closeReverseConfirm();
  $("reverse").hidden = true;
  reverseSay("");
}

function closeReverseConfirm() {
  reversePending = null;
  $("reverse-confirm").hidden = true;
  $("reverse-form").querySelector("button:not([type])").disabled = false;
}

$("reverse-form").addEventListener("change", (ev) => { if (ev.target.name === "action") reverseReasons(); closeReverseConfirm(); });
$("reverse-form").addEventListener("input", () => closeReverseConfirm());
$("reverse-cancel").addEventListener("click", closeReverse);
$("reverse-no").addEventListener("click", () => { closeReverseConfirm(); reverseField("action").focus(); });
$("reverse-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  const d = reverseTarget;
  if (!d) return;
  const input = { action: reverseField("action").value, reason_code: reverseField("reason_code").value, note: reverseField("note").value };
  if (!input.reason_code) { reverseSay("Choose a reason code.", true); return; }
  reversePending = { id: d.id, input };
  $("reverse-confirm").querySelector("p").replaceChildren(plain("Reverse decision #" + d.id + " on item #" + d.item_id +
    " (" + d.action + " by " + d.actor + ") to " + input.action + " (" + input.reason_code + ")" +
    (input.note ? " with the note: " + input.note : "") + "? This records a new decision; the old one stays on record."));
  $("reverse-confirm").hidden = false;
  $("reverse-form").querySelector("button:not([type])").disabled = true;
  reverseSay("");
  $("reverse-yes").focus();
});
$("reverse-yes").addEventListener("click", async () => {
  if (!reversePending) return;
  const { id, input } = reversePending, epoch = decisionsEpoch;
  reversePending = null;
  $("reverse-yes").disabled = true;
  try {
    const r = await api("POST", "/api/v1/decisions/" + id + "/reverse", input);
    if (epoch !== decisionsEpoch) return;
    const n = r.decision;
    closeReverse();
    decisionsSay("Reversed decision #" + id + ": new decision #" + n.id + ", item #" + n.item_id + " is now " +
      n.action + " (" + n.reason_code + ").");
    // Back to the newest page, where the new decision is (unless the
    // filters leave it out).
    decisionsPages = [0];
    if (await loadDecisions(0)) {
      const row = $("decisions").querySelector("tr[data-id='" + n.id + "']");
      if (row) row.classList.add("new");
    }
    loadPrecision();
  } catch (e) {
    if (epoch !== decisionsEpoch) return;
    closeReverseConfirm();
    reverseSay("The server refused the reversal: " + e.message, true);
  } finally { $("reverse-yes").disabled = false; }
});

$("decisions-filter").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  decisionsSay("");
  const before = decisionsPages;
  decisionsPages = [0];
  if (!(await loadDecisions(0))) decisionsPages = before;
});
$("decisions-older").addEventListener("click", async () => {
  const rows = $("decisions").querySelectorAll("tbody tr[data-id]");
  if (!rows.length) return;
  const before = Number(rows[rows.length - 1].dataset.id);
  decisionsPages.push(before);
  if (!(await loadDecisions(before))) decisionsPages.pop();
});
$("decisions-newer").addEventListener("click", async () => {
  if (decisionsPages.length < 2) return;
  const popped = decisionsPages.pop();
  if (!(await loadDecisions(decisionsPages[decisionsPages.length - 1]))) decisionsPages.push(popped);
});

// startDecisions shows the panel, with the newest decisions, to users
// with decide:reverse.
function startDecisions() {
  resetDecisions();
  const can = me.permissions.includes("decide:reverse");
  $("decisions-panel").hidden = !can;
  if (can) loadDecisions(0);
}

// decisionsChanged shows a decision made elsewhere on the page (the desk,
// a cluster) on the newest page, if that is the page on screen; a lead
// reading older pages is not moved.
function decisionsChanged() {
  if (!$("decisions-panel").hidden && decisionsPages.length === 1) loadDecisions(0);
}

// resetDecisions hides the panel and forgets its filters, list and any
// reversal in progress: at sign-out, before the next user.
function resetDecisions() {
  decisionsEpoch++;
  decisionsPages = [0]; decisionsMore = false;
  $("decisions-panel").hidden = true;
  $("decisions-filter").reset();
  $("decisions").tBodies[0].replaceChildren();
  $("decisions-page").textContent = "";
  decisionsSay("");
  closeReverse();
}
