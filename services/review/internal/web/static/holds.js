// Legal holds panel, for holds:manage (leads, admins): the active holds
// (or all, lifted ones too), a form placing a hold on an item id with a
// reason (POST /api/v1/items/{id}/hold), and lifting one after a
// confirmation (DELETE /api/v1/items/{id}/hold). A held item's evidence
// survives the retention purge. Reasons and usernames are inserted as
// text. Uses api(), $(), me, plain(), cell() of app.js and utcTime() of
// decisions.js; started and reset by app.js's start().
"use strict";

let holdsEpoch = 0, holdsLoad = 0, holdLifting = null;

function holdsSay(text, error) { sayIn("holds-msg", text, error); }

function holdField(name) { return $("hold-form").querySelector("[name=" + name + "]"); }

async function loadHolds() {
  const load = ++holdsLoad, epoch = holdsEpoch;
  try {
    const r = await api("GET", "/api/v1/holds" + ($("holds-all").checked ? "?all=true" : ""));
    if (load !== holdsLoad || epoch !== holdsEpoch) return;
    const body = $("holds").tBodies[0];
    body.replaceChildren(...r.holds.map(holdRow));
    if (!r.holds.length) {
      const td = cell("td", $("holds-all").checked ? "no legal hold was ever placed" : "no item is under legal hold");
      td.colSpan = 6;
      const tr = document.createElement("tr");
      tr.append(td);
      body.append(tr);
    }
  } catch (e) {
    if (load !== holdsLoad || epoch !== holdsEpoch) return;
    holdsSay("Loading the legal holds failed: " + e.message, true);
  }
}

function holdRow(h) {
  const tr = document.createElement("tr");
  tr.dataset.item = String(h.item_id);
  const lifted = h.lifted_at ? plain("by " + h.lifted_by + ", " + utcTime(h.lifted_at)) : "active";
  const item = cell("td", "#" + h.item_id);
  // A held item is often one a legal request asked for: its evidence
  // package, for users with evidence:export (audited by the server).
  if (me.permissions.includes("evidence:export")) {
    const a = document.createElement("a");
    a.className = "hold-evidence"; a.download = ""; a.textContent = "evidence package";
    a.href = "/api/v1/items/" + Number(h.item_id) + "/evidence";
    item.append(" ", a);
  }
  tr.append(item, cell("td", plain(h.reason)), cell("td", plain(h.placed_by)),
    cell("td", utcTime(h.placed_at), h.placed_at), cell("td", lifted));
  const last = document.createElement("td");
  if (!h.lifted_at) {
    const b = document.createElement("button");
    b.type = "button"; b.className = "hold-lift"; b.textContent = "Lift…";
    b.addEventListener("click", () => askLift(h));
    last.append(b);
  }
  tr.append(last);
  return tr;
}

function askLift(h) {
  holdLifting = h;
  $("hold-confirm").querySelector("p").replaceChildren(plain("Lift the legal hold on item #" + h.item_id +
    " (placed by " + h.placed_by + ": " + h.reason + ")? Its evidence is then purged with the rest once its retention has passed."));
  $("hold-confirm").hidden = false;
  holdsSay("");
  $("hold-yes").focus();
}

function closeLift() {
  holdLifting = null;
  $("hold-confirm").hidden = true;
}

$("hold-no").addEventListener("click", closeLift);
$("hold-yes").addEventListener("click", async () => {
  const h = holdLifting, epoch = holdsEpoch;
  if (!h) return;
  closeLift();
  try {
    await api("DELETE", "/api/v1/items/" + h.item_id + "/hold");
    if (epoch !== holdsEpoch) return;
    holdsSay("Lifted the legal hold on item #" + h.item_id + ".");
  } catch (e) {
    if (epoch !== holdsEpoch) return;
    holdsSay("The server refused to lift the hold on item #" + h.item_id + ": " +
      (e.status === 404 ? "it has no active hold (lifted meanwhile?)" : e.message), true);
  }
  loadHolds();
});

$("hold-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const id = holdField("item_id").value.trim(), reason = holdField("reason").value.trim();
  if (!/^[1-9][0-9]{0,17}$/.test(id)) { holdsSay("Item must be an item id, a positive whole number.", true); return; }
  if (!reason) { holdsSay("A legal hold needs a reason (the case, the order, who asked).", true); return; }
  const epoch = holdsEpoch;
  try {
    await api("POST", "/api/v1/items/" + id + "/hold", { reason });
    if (epoch !== holdsEpoch) return;
    $("hold-form").reset();
    holdsSay("Placed a legal hold on item #" + id + ".");
    loadHolds();
  } catch (e) {
    if (epoch !== holdsEpoch) return;
    holdsSay("The server refused the hold: " + (e.status === 404 ? "there is no item #" + id : e.message), true);
  }
});
$("holds-all").addEventListener("change", () => { closeLift(); loadHolds(); });

// startHolds shows the panel, with the active holds, to users with
// holds:manage.
function startHolds() {
  resetHolds();
  const can = me.permissions.includes("holds:manage");
  $("holds-panel").hidden = !can;
  if (can) loadHolds();
}

// resetHolds hides the panel and forgets its list, form and any lift
// awaiting confirmation: at sign-out, before the next user.
function resetHolds() {
  holdsEpoch++;
  $("holds-panel").hidden = true;
  $("hold-form").reset();
  $("holds-all").checked = false;
  $("holds").tBodies[0].replaceChildren();
  holdsSay("");
  closeLift();
}
