// Appeals panel, for appeals:read (leads, auditors, admins): users'
// complaints against removals (GET /api/v1/appeals), open ones oldest
// received first, each with the post, the decision appealed against and
// the user's statement. Leads (decide:reverse) uphold or reinstate, with
// a reason code and a note, after a confirmation (POST
// /api/v1/appeals/{id}/decision); reinstating reverses the decision to
// no_violation, so the platform puts the post back. The server refuses
// the lead who made the decision (four eyes): its words are shown. Post
// text, statements, notes and usernames are hostile and inserted as text
// (plain() of app.js). Uses api(), $(), me, reasonCodes, plain(), cell()
// of app.js and utcTime() and decisionsChanged() of decisions.js;
// started and reset by app.js's start().
"use strict";

const appealsPageSize = 20;
// appealsEpoch changes at every reset: answers to an earlier user's
// requests are dropped. appealsLoad numbers the loads: only the latest
// shows.
let appealsEpoch = 0, appealsLoad = 0, appealsOffset = 0, appealsMore = false;
// appealTarget is the appeal and outcome being resolved; appealPending
// the request awaiting confirmation.
let appealTarget = null, appealPending = null;

function appealsSay(text, error) { sayIn("appeals-msg", text, error); }

function appealField(name) { return $("appeal-form").querySelector("[name=" + name + "]"); }

function canResolveAppeals() { return !!me && me.permissions.includes("decide:reverse"); }

// loadAppeals shows the page at offset; it reports whether it did.
async function loadAppeals(offset) {
  const load = ++appealsLoad, epoch = appealsEpoch;
  const q = new URLSearchParams({ status: $("appeals-status").value, limit: String(appealsPageSize + 1), offset: String(offset) });
  try {
    const r = await api("GET", "/api/v1/appeals?" + q);
    if (load !== appealsLoad || epoch !== appealsEpoch) return false;
    appealsOffset = offset;
    appealsMore = r.appeals.length > appealsPageSize;
    showAppeals(r.appeals.slice(0, appealsPageSize));
    return true;
  } catch (e) {
    if (load !== appealsLoad || epoch !== appealsEpoch) return false;
    appealsSay("Loading the appeals failed: " + e.message, true);
    return false;
  }
}

function showAppeals(list) {
  const body = $("appeals").tBodies[0];
  body.replaceChildren(...list.map(appealRow));
  if (!list.length) {
    const status = $("appeals-status").value;
    const td = cell("td", status === "open" ? "no open appeal" : status === "resolved" ? "no resolved appeal" : "no appeal");
    td.colSpan = 7;
    const tr = document.createElement("tr");
    tr.append(td);
    body.append(tr);
  }
  $("appeals-newer").disabled = appealsOffset === 0;
  $("appeals-older").disabled = !appealsMore;
  $("appeals-page").textContent = list.length ? "appeals " + (appealsOffset + 1) + " to " + (appealsOffset + list.length) : "";
}

// textBlock is hostile text in a block of its own.
function textBlock(str, className) {
  const div = document.createElement("div");
  div.className = className;
  div.append(plain(str));
  return div;
}

function appealRow(a) {
  const tr = document.createElement("tr");
  tr.dataset.id = String(a.id);
  const post = document.createElement("td");
  post.append(plain("post " + a.post_id + " (item #" + a.item_id + ") by " + (a.item.author_handle || "unknown")));
  post.append(a.item.purged_at ? textBlock("[text purged " + utcTime(a.item.purged_at) + "]", "appeal-text hint")
    : textBlock(a.item.text || "", "appeal-text appeal-post"));
  const d = a.decision;
  const decision = cell("td", plain(d.action + " (" + d.reason_code + ") by " + d.actor + ", decision #" + d.id +
    ", " + utcTime(d.created_at) + (a.item.outcome && a.item.outcome !== d.action ? "; the post is now " + a.item.outcome : "")));
  const statement = document.createElement("td");
  statement.append(textBlock(a.statement || "(no statement)", "appeal-text appeal-statement"));
  let status = "open";
  if (a.resolved_at) {
    status = a.outcome + " by " + a.resolved_by + " (" + a.reason_code + "), " + utcTime(a.resolved_at) +
      (a.reinstatement_decision_id ? ", reversal #" + a.reinstatement_decision_id : "") + (a.note ? ": " + a.note : "");
  }
  tr.append(cell("td", plain("#" + a.id + " " + a.appeal_id)), cell("td", utcTime(a.received_at), a.received_at),
    post, decision, statement, cell("td", plain(status)));
  const last = document.createElement("td");
  if (!a.resolved_at && canResolveAppeals()) {
    for (const [outcome, label] of [["uphold", "Uphold…"], ["reinstate", "Reinstate…"]]) {
      const b = document.createElement("button");
      b.type = "button"; b.className = "appeal-" + outcome; b.textContent = label;
      b.addEventListener("click", () => openAppeal(a, outcome));
      last.append(b);
    }
  }
  tr.append(last);
  return tr;
}

// openAppeal shows the resolution form: the reason codes that may justify
// the outcome (no_violation for a reinstatement, a removal or report to
// uphold).
function openAppeal(a, outcome) {
  appealTarget = { appeal: a, outcome };
  closeAppealConfirm();
  const what = outcome === "reinstate" ? "Reinstate post " + a.post_id : "Uphold the " + a.decision.action + " of post " + a.post_id;
  $("appeal-title").replaceChildren(plain(what + " (appeal #" + a.id + " against decision #" + a.decision.id + " by " + a.decision.actor + ")"));
  const fits = (r) => !r.actions || !r.actions.length ||
    (outcome === "reinstate" ? r.actions.includes("no_violation") : r.actions.includes("remove") || r.actions.includes("report"));
  appealField("reason_code").replaceChildren(...reasonCodes.filter(fits).map((r) => new Option(r.code + " " + r.title, r.code)));
  appealField("note").value = "";
  $("appeal-resolve").hidden = false;
  appealsSay("");
  appealField("reason_code").focus();
}

function closeAppeal() {
  appealTarget = null;
  closeAppealConfirm();
  $("appeal-resolve").hidden = true;
}

function closeAppealConfirm() {
  appealPending = null;
  $("appeal-confirm").hidden = true;
  $("appeal-form").querySelector("button:not([type])").disabled = false;
}

$("appeal-form").addEventListener("input", () => closeAppealConfirm());
$("appeal-form").addEventListener("change", () => closeAppealConfirm());
$("appeal-cancel").addEventListener("click", closeAppeal);
$("appeal-no").addEventListener("click", () => { closeAppealConfirm(); appealField("reason_code").focus(); });
$("appeal-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  const t = appealTarget;
  if (!t) return;
  const input = { outcome: t.outcome, reason_code: appealField("reason_code").value, note: appealField("note").value };
  if (!input.reason_code) { appealsSay("Choose a reason code.", true); return; }
  const a = t.appeal;
  appealPending = { id: a.id, input };
  const text = t.outcome === "reinstate"
    ? "Reinstate post " + a.post_id + "? This reverses decision #" + a.decision.id + " (" + a.decision.action + " by " +
      a.decision.actor + ") to no violation (" + input.reason_code + ") and tells the platform to put the post back."
    : "Uphold the " + a.decision.action + " of post " + a.post_id + " (" + input.reason_code + ")? The decision stays; the user's appeal is closed.";
  $("appeal-confirm").querySelector("p").replaceChildren(plain(text + (input.note ? " Note: " + input.note : "")));
  $("appeal-confirm").hidden = false;
  $("appeal-form").querySelector("button:not([type])").disabled = true;
  $("appeal-yes").focus();
});
$("appeal-yes").addEventListener("click", async () => {
  if (!appealPending) return;
  const { id, input } = appealPending, epoch = appealsEpoch;
  appealPending = null;
  $("appeal-yes").disabled = true;
  try {
    const r = await api("POST", "/api/v1/appeals/" + id + "/decision", input);
    if (epoch !== appealsEpoch) return;
    closeAppeal();
    const a = r.appeal;
    appealsSay("Appeal #" + id + " " + a.outcome + (a.reinstatement_decision_id ? ": reversal #" + a.reinstatement_decision_id +
      " puts post " + a.post_id + " back." : "."));
    loadAppeals(appealsOffset);
    if (a.reinstatement_decision_id) decisionsChanged();
  } catch (e) {
    if (epoch !== appealsEpoch) return;
    closeAppealConfirm();
    appealsSay("The server refused to resolve appeal #" + id + ": " + e.message, true);
  } finally { $("appeal-yes").disabled = false; }
});

$("appeals-status").addEventListener("change", () => { closeAppeal(); appealsSay(""); loadAppeals(0); });
$("appeals-reload").addEventListener("click", () => { appealsSay(""); loadAppeals(appealsOffset); });
$("appeals-older").addEventListener("click", () => { if (appealsMore) loadAppeals(appealsOffset + appealsPageSize); });
$("appeals-newer").addEventListener("click", () => { if (appealsOffset > 0) loadAppeals(Math.max(0, appealsOffset - appealsPageSize)); });

// startAppeals shows the panel, with the open appeals, to users with
// appeals:read.
function startAppeals() {
  resetAppeals();
  const can = me.permissions.includes("appeals:read");
  $("appeals-panel").hidden = !can;
  if (can) loadAppeals(0);
}

// resetAppeals hides the panel and forgets its list and any resolution
// in progress: at sign-out, before the next user.
function resetAppeals() {
  appealsEpoch++;
  appealsOffset = 0; appealsMore = false;
  $("appeals-panel").hidden = true;
  $("appeals-status").value = "open";
  $("appeals").tBodies[0].replaceChildren();
  $("appeals-page").textContent = "";
  appealsSay("");
  closeAppeal();
}
