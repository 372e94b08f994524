// Open queue panel, for stats:read (leads, rule engineers, auditors,
// admins): the open items by category and status, how many are past
// their SLA deadline, the oldest flag and the next deadline
// (GET /api/v1/queue/stats), refreshed every 30 seconds while shown, so
// a lead sees where the SLA is at risk and can move people there.
// Category names come from rule files and are inserted as text. Uses
// api(), $(), me, cell(), duration(), sayIn() of app.js and utcTime() of
// decisions.js; started and reset by app.js's start().
"use strict";

const queueRefreshMs = 30 * 1000;
let queueEpoch = 0, queueLoad = 0, queueTimer = null;

function queueSay(text, error) { sayIn("queue-msg", text, error); }

async function loadQueueStats() {
  const load = ++queueLoad, epoch = queueEpoch;
  try {
    const r = await api("GET", "/api/v1/queue/stats");
    if (load !== queueLoad || epoch !== queueEpoch) return;
    const now = new Date(r.as_of).getTime();
    $("queue-summary").textContent = r.items + " open " + (r.items === 1 ? "item" : "items") + ", " +
      r.overdue + " past the SLA deadline (as of " + utcTime(r.as_of) + ").";
    $("queue-summary").className = r.overdue ? "overdue" : "";
    const body = $("queue-stats").tBodies[0];
    body.replaceChildren(...r.rows.map((q) => queueRow(q, now)));
    if (!r.rows.length) {
      const td = cell("td", "the queue is empty");
      td.colSpan = 6;
      const tr = document.createElement("tr");
      tr.append(td);
      body.append(tr);
    }
    queueSay("");
  } catch (e) {
    if (load !== queueLoad || epoch !== queueEpoch) return;
    queueSay("Loading the queue failed: " + e.message, true);
  }
}

// queueRow is one category and status; times are shown relative to the
// server's as_of (the page's clock may be off), exact in the title.
function queueRow(q, now) {
  const tr = document.createElement("tr");
  if (q.overdue) tr.className = "overdue";
  const due = new Date(q.next_deadline).getTime() - now;
  const next = due < 0 ? "overdue by " + duration(-due / 1000) : "in " + duration(due / 1000);
  tr.append(cell("td", q.category), cell("td", q.status), cell("td", q.items), cell("td", q.overdue),
    cell("td", duration((now - new Date(q.oldest_flagged_at).getTime()) / 1000) + " ago", utcTime(q.oldest_flagged_at)),
    cell("td", next, utcTime(q.next_deadline)));
  return tr;
}

$("queue-refresh").addEventListener("click", loadQueueStats);

// startQueue shows the panel to users with stats:read and refreshes it
// every 30 seconds while they stay signed in.
function startQueue() {
  resetQueue();
  const can = me.permissions.includes("stats:read");
  $("queue-panel").hidden = !can;
  if (!can) return;
  loadQueueStats();
  queueTimer = setInterval(loadQueueStats, queueRefreshMs);
}

// resetQueue hides the panel, stops its refresh and forgets its
// numbers: at sign-out, before the next user.
function resetQueue() {
  queueEpoch++;
  clearInterval(queueTimer);
  queueTimer = null;
  $("queue-panel").hidden = true;
  $("queue-summary").textContent = "";
  $("queue-stats").tBodies[0].replaceChildren();
  queueSay("");
}
