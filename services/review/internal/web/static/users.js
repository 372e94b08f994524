// Users panel, for users:manage (admins): the users with their roles and
// state (GET /api/v1/users), adding one (POST /api/v1/users) with a typed
// password or one generated here, and, after a confirmation naming the
// change, changing a user's roles (PUT /api/v1/users/{id}/roles),
// disabling or enabling them (POST /api/v1/users/{id}/disable, /enable),
// resetting their password (POST /api/v1/users/{id}/password), and
// listing and revoking their API tokens (GET
// /api/v1/users/{id}/tokens, DELETE /api/v1/users/{id}/tokens/{token_id}).
// A generated password is shown once, to copy, and never kept.
//
// The page refuses to change the signed-in admin's own roles, state or
// password: the server refuses it too (409), so that no admin locks
// themself out by accident; another admin does it. Usernames and token
// names are inserted as text. Uses api(), $(), me, plain(), cell() of
// app.js and utcTime() of decisions.js; started and reset by app.js's
// start().
"use strict";

// moderation.AllRoles, in its order, for the role checkboxes.
const userRoleNames = ["moderator", "lead", "rule_engineer", "auditor", "admin"];
// moderation.MinPasswordLen and MaxPasswordLen, in bytes (UTF-8).
const userMinPassword = 12, userMaxPassword = 256;
// A generated password: 20 characters of userPasswordChars (55, without
// look-alikes such as 0/O and 1/l/I), about 115 bits.
const userPasswordChars = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
const userPasswordLen = 20;

// usersEpoch changes at every reset: answers to an earlier user's
// requests are dropped. usersLoad and userTokensLoad number the loads:
// only the latest shows.
let usersEpoch = 0, usersLoad = 0, userTokensLoad = 0;
// userManaged is the user whose roles, password and tokens are open;
// userPending the change awaiting confirmation ({ run, say }).
let userManaged = null, userPending = null;

function usersSay(text, error) { sayIn("users-msg", text, error); }

function manageSay(text, error) { sayIn("user-manage-msg", text, error); }

// generatePassword returns a random password from crypto.getRandomValues,
// each character uniform over userPasswordChars (rejection sampling).
function generatePassword() {
  const n = userPasswordChars.length, limit = 256 - (256 % n);
  let out = "";
  while (out.length < userPasswordLen) {
    for (const b of crypto.getRandomValues(new Uint8Array(32))) {
      if (b < limit && out.length < userPasswordLen) out += userPasswordChars[b % n];
    }
  }
  return out;
}

// passwordProblem checks a typed password as the server will (which
// still does): its length in bytes.
function passwordProblem(pw) {
  const n = new TextEncoder().encode(pw).length;
  if (n < userMinPassword || n > userMaxPassword) {
    return "The password must be " + userMinPassword + " to " + userMaxPassword + " bytes long; it is " + n + ".";
  }
  return "";
}

// passwordOf reads a password form (a generate/type choice and a field):
// { password, generated } or { problem }.
function passwordOf(form) {
  if (form.querySelector("[name=pwmode]:checked").value === "generate") return { password: generatePassword(), generated: true };
  const pw = form.querySelector("[name=password]").value;
  const problem = passwordProblem(pw);
  return problem ? { problem } : { password: pw, generated: false };
}

// passwordMode shows the typed-password field only when typing is chosen.
function passwordMode(form) {
  const typed = form.querySelector("[name=pwmode]:checked").value === "type";
  const field = form.querySelector("[name=password]");
  field.parentElement.hidden = !typed;
  if (!typed) field.value = "";
}

// showSecret shows a generated password once, to copy; Done hides it and
// nothing keeps it.
function showSecret(username, password) {
  $("user-secret").querySelector("p").replaceChildren(plain("The password of " + username +
    ", shown once: copy it now and hand it over securely. Nobody can read it again."));
  $("user-secret-value").textContent = password;
  $("user-secret-copied").textContent = "";
  $("user-secret").hidden = false;
}

function hideSecret() {
  $("user-secret-value").textContent = "";
  $("user-secret-copied").textContent = "";
  $("user-secret").hidden = true;
}

// roleBoxes fills box with one checkbox per role, those of roles checked.
function roleBoxes(box, roles) {
  box.replaceChildren(...userRoleNames.map((r) => {
    const label = document.createElement("label"), input = document.createElement("input");
    input.type = "checkbox"; input.name = "role"; input.value = r; input.checked = roles.includes(r);
    label.append(input, " " + r);
    return label;
  }));
}

function checkedRoles(box) { return [...box.querySelectorAll("input[name=role]:checked")].map((i) => i.value); }

function roleList(roles) { return roles.length ? roles.join(", ") : "no role"; }

function isLocked(u) { return !!u.locked_until && new Date(u.locked_until) > new Date(); }

function isSelf(u) { return !!me && u.id === me.user.id; }

async function loadUsers() {
  const load = ++usersLoad, epoch = usersEpoch;
  try {
    const r = await api("GET", "/api/v1/users");
    if (load !== usersLoad || epoch !== usersEpoch) return;
    $("users").tBodies[0].replaceChildren(...r.users.map(userRow));
    if (userManaged) {
      const u = r.users.find((x) => x.id === userManaged.id);
      if (u) userManaged = u;
    }
  } catch (e) {
    if (load !== usersLoad || epoch !== usersEpoch) return;
    usersSay("Loading the users failed: " + e.message, true);
  }
}

function userRow(u) {
  const tr = document.createElement("tr");
  tr.dataset.user = String(u.id);
  const state = [];
  if (u.disabled_at) state.push("disabled since " + utcTime(u.disabled_at));
  if (isLocked(u)) state.push("locked out until " + utcTime(u.locked_until));
  const name = cell("td", plain(u.username));
  if (isSelf(u)) name.append(" (you)");
  tr.append(name, cell("td", roleList(u.roles)), cell("td", utcTime(u.created_at), u.created_at),
    cell("td", state.length ? state.join("; ") : "active"));
  if (u.disabled_at || isLocked(u)) tr.className = "user-off";
  const last = document.createElement("td");
  last.className = "user-actions";
  const button = (cls, text, click) => {
    const b = document.createElement("button");
    b.type = "button"; b.className = cls; b.textContent = text;
    b.addEventListener("click", click);
    last.append(b);
  };
  button("user-manage", "Manage…", () => openManage(u));
  if (u.disabled_at) button("user-enable", "Enable…", () => askState(u, "enable"));
  else {
    if (isLocked(u)) button("user-enable", "Unlock…", () => askState(u, "enable"));
    button("user-disable", "Disable…", () => askState(u, "disable"));
  }
  tr.append(last);
  return tr;
}

// ask shows a confirmation; run is called on Confirm, say tells of a
// refusal (usersSay or manageSay).
function ask(text, yes, say, run) {
  userPending = { run, say };
  $("user-confirm").querySelector("p").replaceChildren(plain(text));
  $("user-yes").textContent = yes;
  $("user-confirm").hidden = false;
  $("user-yes").focus();
}

function closeConfirm() {
  userPending = null;
  $("user-confirm").hidden = true;
}

// selfRefusal is the page's refusal of a change to the signed-in admin's
// own account, or "".
function selfRefusal(u, what) {
  if (!isSelf(u)) return "";
  return "You cannot " + what + " your own account: another admin must do it (the server refuses it too), " +
    "so that nobody locks themself out by accident.";
}

function askState(u, op) {
  closeConfirm();
  const refusal = selfRefusal(u, op === "disable" ? "disable" : "enable");
  if (refusal) { usersSay(refusal, true); return; }
  usersSay("");
  const text = op === "disable"
    ? "Disable " + u.username + "? They are signed out at once and can no longer sign in, nor use their API tokens, until enabled."
    : "Enable " + u.username + "? They can sign in again" + (isLocked(u) ? " (the lockout after failed sign-ins is lifted)." : ".");
  ask(text, op === "disable" ? "Disable " + u.username : "Enable " + u.username, usersSay, async (epoch) => {
    await api("POST", "/api/v1/users/" + u.id + "/" + op);
    if (epoch !== usersEpoch) return;
    usersSay((op === "disable" ? "Disabled " : "Enabled ") + u.username + ".");
  });
}

// openManage opens a user's roles, password reset and API tokens.
function openManage(u) {
  closeConfirm();
  userManaged = u;
  userTokensLoad++;
  $("user-manage-title").replaceChildren(plain("Manage " + u.username + (isSelf(u) ? " (you)" : "")));
  roleBoxes($("user-roles-form").querySelector(".user-roles"), u.roles);
  $("user-password-form").reset();
  passwordMode($("user-password-form"));
  $("user-tokens").tBodies[0].replaceChildren();
  manageSay("");
  $("user-manage").hidden = false;
  loadTokens(u);
}

function closeManage() {
  userManaged = null;
  userTokensLoad++;
  $("user-manage").hidden = true;
  $("user-tokens").tBodies[0].replaceChildren();
  manageSay("");
}

async function loadTokens(u) {
  const load = ++userTokensLoad, epoch = usersEpoch;
  try {
    const r = await api("GET", "/api/v1/users/" + u.id + "/tokens");
    if (load !== userTokensLoad || epoch !== usersEpoch) return;
    const body = $("user-tokens").tBodies[0];
    body.replaceChildren(...r.tokens.map((tok) => tokenRow(u, tok)));
    if (!r.tokens.length) {
      const td = cell("td", u.username + " has no API token");
      td.colSpan = 7;
      const tr = document.createElement("tr");
      tr.append(td);
      body.append(tr);
    }
  } catch (e) {
    if (load !== userTokensLoad || epoch !== usersEpoch) return;
    manageSay("Loading the API tokens failed: " + e.message, true);
  }
}

function tokenRow(u, tok) {
  const tr = document.createElement("tr");
  tr.dataset.token = String(tok.id);
  const expired = tok.expires_at && new Date(tok.expires_at) <= new Date();
  const state = tok.revoked_at ? "revoked " + utcTime(tok.revoked_at) : expired ? "expired" : "active";
  tr.append(cell("td", plain(tok.name)), cell("td", (tok.scopes || []).join(", ")), cell("td", utcTime(tok.created_at), tok.created_at),
    cell("td", tok.last_used_at ? utcTime(tok.last_used_at) : "never"), cell("td", tok.expires_at ? utcTime(tok.expires_at) : "never"),
    cell("td", state));
  const last = document.createElement("td");
  if (!tok.revoked_at) {
    const b = document.createElement("button");
    b.type = "button"; b.className = "token-revoke"; b.textContent = "Revoke…";
    b.addEventListener("click", () => {
      ask("Revoke the API token " + tok.name + " (#" + tok.id + ") of " + u.username + "? Programs using it are refused from then on; this cannot be undone.",
        "Revoke the token", manageSay, async (epoch) => {
          await api("DELETE", "/api/v1/users/" + u.id + "/tokens/" + tok.id);
          if (epoch !== usersEpoch) return;
          manageSay("Revoked the API token " + tok.name + " (#" + tok.id + ") of " + u.username + ".");
        });
    });
    last.append(b);
  }
  tr.append(last);
  return tr;
}

$("user-yes").addEventListener("click", async () => {
  const p = userPending, epoch = usersEpoch;
  if (!p) return;
  closeConfirm();
  $("user-yes").disabled = true;
  try {
    await p.run(epoch);
  } catch (e) {
    if (epoch === usersEpoch) p.say("The server refused: " + e.message, true);
  } finally { $("user-yes").disabled = false; }
  if (epoch !== usersEpoch) return;
  loadUsers();
  if (userManaged) loadTokens(userManaged);
});
$("user-no").addEventListener("click", () => { closeConfirm(); usersSay("Cancelled: nothing was changed."); });

$("user-form").addEventListener("change", (ev) => { if (ev.target.name === "pwmode") passwordMode($("user-form")); });
$("user-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  closeConfirm();
  const form = $("user-form"), username = form.querySelector("[name=username]").value.trim();
  if (!username) { usersSay("A user needs a username.", true); return; }
  const pw = passwordOf(form);
  if (pw.problem) { usersSay(pw.problem, true); return; }
  const roles = checkedRoles(form.querySelector(".user-roles")), epoch = usersEpoch;
  const button = form.querySelector("button:not([type])");
  button.disabled = true;
  try {
    const r = await api("POST", "/api/v1/users", { username, password: pw.password, roles });
    if (epoch !== usersEpoch) return;
    form.reset();
    roleBoxes(form.querySelector(".user-roles"), []);
    passwordMode(form);
    usersSay("Added " + r.user.username + " (" + roleList(r.user.roles) + ").");
    if (pw.generated) showSecret(r.user.username, pw.password);
    loadUsers();
  } catch (e) {
    if (epoch !== usersEpoch) return;
    usersSay("The server refused the new user: " + (e.status === 409 ? "a user named " + username + " already exists" : e.message), true);
  } finally { button.disabled = false; }
});

$("user-roles-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  const u = userManaged;
  if (!u) return;
  const roles = checkedRoles($("user-roles-form").querySelector(".user-roles"));
  const refusal = selfRefusal(u, "change the roles of");
  if (refusal) { manageSay(refusal, true); return; }
  const added = roles.filter((r) => !u.roles.includes(r)), removed = u.roles.filter((r) => !roles.includes(r));
  if (!added.length && !removed.length) { manageSay(u.username + " already has exactly these roles.", true); return; }
  manageSay("");
  const change = [added.length ? "adds " + added.join(", ") : "", removed.length ? "removes " + removed.join(", ") : ""].filter(Boolean).join(" and ");
  ask("Change the roles of " + u.username + " from " + roleList(u.roles) + " to " + roleList(roles) + " (" + change +
    ")? Their permissions change at their next request.", "Change the roles", manageSay, async (epoch) => {
    const r = await api("PUT", "/api/v1/users/" + u.id + "/roles", { roles });
    if (epoch !== usersEpoch) return;
    if (userManaged && userManaged.id === u.id) userManaged = r.user;
    manageSay("The roles of " + u.username + " are now " + roleList(r.user.roles) + ".");
  });
});

// Editing a form withdraws its change awaiting confirmation: the
// question would no longer name what is sent.
$("user-roles-form").addEventListener("change", closeConfirm);
$("user-password-form").addEventListener("input", closeConfirm);
$("user-password-form").addEventListener("change", (ev) => {
  closeConfirm();
  if (ev.target.name === "pwmode") passwordMode($("user-password-form"));
});
$("user-password-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  const u = userManaged, form = $("user-password-form");
  if (!u) return;
  const refusal = selfRefusal(u, "reset the password of");
  if (refusal) { manageSay(refusal + " To change your own, use Change password at the top of the page.", true); return; }
  const pw = passwordOf(form);
  if (pw.problem) { manageSay(pw.problem, true); return; }
  manageSay("");
  ask("Reset the password of " + u.username + (pw.generated ? " to a generated one (shown once)" : " to the one typed") +
    "? They are signed out at once and any lockout is lifted.", "Reset the password", manageSay, async (epoch) => {
    await api("POST", "/api/v1/users/" + u.id + "/password", { password: pw.password });
    if (epoch !== usersEpoch) return;
    form.reset();
    passwordMode(form);
    manageSay("Reset the password of " + u.username + ".");
    if (pw.generated) showSecret(u.username, pw.password);
  });
});

$("user-manage-close").addEventListener("click", () => { closeConfirm(); closeManage(); });
$("user-secret-done").addEventListener("click", hideSecret);
$("user-secret-copy").addEventListener("click", async () => {
  const value = $("user-secret-value").textContent;
  try {
    await navigator.clipboard.writeText(value);
    $("user-secret-copied").textContent = "Copied.";
  } catch (e) {
    // No clipboard (an insecure origin, a refusal): select it to copy by hand.
    getSelection().selectAllChildren($("user-secret-value"));
    $("user-secret-copied").textContent = "Selected: copy it with your keyboard.";
  }
});

// startUsers shows the panel, with the users, to users with users:manage.
function startUsers() {
  resetUsers();
  const can = me.permissions.includes("users:manage");
  $("users-panel").hidden = !can;
  if (can) loadUsers();
}

// resetUsers hides the panel and forgets its list, forms, any generated
// password on screen and any change awaiting confirmation: at sign-out,
// before the next user.
function resetUsers() {
  usersEpoch++;
  $("users-panel").hidden = true;
  $("users").tBodies[0].replaceChildren();
  const form = $("user-form");
  form.reset();
  roleBoxes(form.querySelector(".user-roles"), []);
  passwordMode(form);
  usersSay("");
  hideSecret();
  closeConfirm();
  closeManage();
}
