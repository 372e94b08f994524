// Audit log panel, for audit:read (auditors, admins): the latest events
// of the hash-chained audit log, filtered as GET /api/v1/audit allows
// (action, actor, subject), newest first and paged; and a Verify chain
// button (GET /api/v1/audit/verify) saying whether the chain holds or the
// first event where it breaks. Actors, subjects and details come from
// outside and are inserted as text. Uses api(), $(), me, plain(), cell()
// of app.js and utcTime() of decisions.js; started and reset by app.js's
// start().
"use strict";

const auditPageSize = 50;
// moderation.AuditActions, for the action filter.
const auditActionNames = ["login", "login_failed", "claim", "view_media", "decision", "reversal", "rule_publish",
  "rule_rollback", "bank_import", "bank_confirm", "bank_quarantine", "permission_change", "legal_hold",
  "legal_hold_lift", "retention_purge", "evidence_exported", "password_change",
  "appeal_received", "appeal_resolved"];
let auditEpoch = 0, auditLoad = 0, auditVerifyRun = 0;
// auditPages is the before_seq of every page from the newest to the one
// on screen (0: the newest); auditMore says an older page exists.
let auditPages = [0], auditMore = false, auditBrokenSeq = 0;

function auditSay(text, error) { sayIn("audit-msg", text, error); }

function auditField(name) { return $("audit-filter").querySelector("[name=" + name + "]"); }

function auditQuery(before) {
  const q = new URLSearchParams({ order: "desc", limit: String(auditPageSize + 1) });
  for (const name of ["action", "actor", "subject"]) {
    const v = auditField(name).value.trim();
    if (v) q.set(name, v);
  }
  if (before) q.set("before_seq", String(before));
  return q.toString();
}

async function loadAudit(before) {
  const load = ++auditLoad, epoch = auditEpoch;
  try {
    const r = await api("GET", "/api/v1/audit?" + auditQuery(before));
    if (load !== auditLoad || epoch !== auditEpoch) return false;
    auditMore = r.events.length > auditPageSize;
    showAudit(r.events.slice(0, auditPageSize));
    return true;
  } catch (e) {
    if (load !== auditLoad || epoch !== auditEpoch) return false;
    auditSay("The server refused the listing: " + e.message, true);
    return false;
  }
}

function showAudit(events) {
  const body = $("audit").tBodies[0];
  body.replaceChildren(...events.map((ev) => {
    const tr = document.createElement("tr");
    tr.dataset.seq = String(ev.seq);
    if (ev.seq === auditBrokenSeq) tr.className = "broken";
    const details = ev.details === undefined ? "" : JSON.stringify(ev.details);
    const d = cell("td", plain(details));
    d.className = "audit-details";
    tr.append(cell("td", String(ev.seq)), cell("td", utcTime(ev.at), ev.at), cell("td", plain(ev.actor)),
      cell("td", plain(ev.action)), cell("td", plain(ev.subject || "")), d);
    return tr;
  }));
  if (!events.length) {
    const td = cell("td", "no event matches");
    td.colSpan = 6;
    const tr = document.createElement("tr");
    tr.append(td);
    body.append(tr);
  }
  $("audit-newer").disabled = auditPages.length === 1;
  $("audit-older").disabled = !auditMore;
  $("audit-page").textContent = "newest first, page " + auditPages.length;
}

function markBroken() {
  for (const tr of $("audit").querySelectorAll("tbody tr[data-seq]")) {
    tr.classList.toggle("broken", Number(tr.dataset.seq) === auditBrokenSeq);
  }
}

$("audit-verify").addEventListener("click", async () => {
  const run = ++auditVerifyRun, epoch = auditEpoch, out = $("audit-verify-result");
  out.textContent = "Verifying the chain…";
  out.className = "";
  $("audit-verify").disabled = true;
  try {
    const v = await api("GET", "/api/v1/audit/verify");
    if (run !== auditVerifyRun || epoch !== auditEpoch) return;
    if (v.ok) {
      auditBrokenSeq = 0;
      out.textContent = "Chain OK: " + v.events + " event" + (v.events === 1 ? "" : "s") + " verified.";
      out.className = "chain-ok";
    } else {
      auditBrokenSeq = v.broken_at_seq;
      out.replaceChildren(plain("Chain BROKEN at event " + v.broken_at_seq + ": " + v.reason +
        ". The events before it verify; from it on the log cannot be trusted."));
      out.className = "error";
    }
    markBroken();
  } catch (e) {
    if (run !== auditVerifyRun || epoch !== auditEpoch) return;
    out.textContent = "Verifying failed: " + e.message;
    out.className = "error";
  } finally {
    if (epoch === auditEpoch) $("audit-verify").disabled = false;
  }
});

$("audit-filter").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  auditSay("");
  const before = auditPages;
  auditPages = [0];
  if (!(await loadAudit(0))) auditPages = before;
});
$("audit-older").addEventListener("click", async () => {
  const rows = $("audit").querySelectorAll("tbody tr[data-seq]");
  if (!rows.length) return;
  const before = Number(rows[rows.length - 1].dataset.seq);
  auditPages.push(before);
  if (!(await loadAudit(before))) auditPages.pop();
});
$("audit-newer").addEventListener("click", async () => {
  if (auditPages.length < 2) return;
  const popped = auditPages.pop();
  if (!(await loadAudit(auditPages[auditPages.length - 1]))) auditPages.push(popped);
});

auditField("action").append(...auditActionNames.map((a) => new Option(a, a)));

// startAudit shows the panel, with the latest events, to users with
// audit:read.
function startAudit() {
  resetAudit();
  const can = me.permissions.includes("audit:read");
  $("audit-panel").hidden = !can;
  if (can) loadAudit(0);
}

// resetAudit hides the panel and forgets its filters, events and the
// last verification: at sign-out, before the next user.
function resetAudit() {
  auditEpoch++;
  auditPages = [0]; auditMore = false; auditBrokenSeq = 0;
  $("audit-panel").hidden = true;
  $("audit-filter").reset();
  $("audit").tBodies[0].replaceChildren();
  $("audit-page").textContent = "";
  $("audit-verify-result").textContent = "";
  $("audit-verify-result").className = "";
  $("audit-verify").disabled = false;
  auditSay("");
}
