// Change password, for every signed-in user: the header's Change password
// button opens a form asking for the current password and the new one
// twice, sent to POST /api/v1/me/password. The page checks that the two
// new ones match, differ from the current one and have an allowed length
// (passwordProblem() of users.js); the server checks all of it again, and
// the current password, and its refusal is shown as it words it. Every
// submit empties the fields, and nothing keeps a password. Uses api(),
// $(), say(), sayIn() and plural() of app.js and passwordProblem() of
// users.js; started and reset by app.js's start().
"use strict";

// accountEpoch changes at every reset: an answer for an earlier user is
// dropped.
let accountEpoch = 0;

function accountSay(text, error) { sayIn("password-msg", text, error); }

function accountField(name) { return $("password-form").querySelector("[name=" + name + "]"); }

// showPassword opens or closes the form, empty either way.
function showPassword(open) {
  $("password-panel").hidden = !open;
  $("password-open").setAttribute("aria-expanded", String(open));
  $("password-form").reset();
  accountSay("");
  if (open) accountField("current_password").focus();
}

// newPasswordProblem checks the form as the server will (which still
// does), or returns "".
function newPasswordProblem(current, next, repeat) {
  if (!current || !next) return "Type your current password and the new one.";
  if (next !== repeat) return "The new password and its repetition differ: type the same one twice.";
  if (next === current) return "The new password is the current one: choose another.";
  return passwordProblem(next);
}

$("password-open").addEventListener("click", () => showPassword($("password-panel").hidden));
$("password-close").addEventListener("click", () => showPassword(false));

$("password-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const epoch = accountEpoch, button = $("password-form").querySelector("button:not([type])");
  const current = accountField("current_password").value, next = accountField("new_password").value;
  const problem = newPasswordProblem(current, next, accountField("repeat_password").value);
  $("password-form").reset();
  if (problem) { accountSay(problem, true); return; }
  accountSay("Changing your password…");
  button.disabled = true;
  try {
    const r = await api("POST", "/api/v1/me/password", { current_password: current, new_password: next });
    if (epoch !== accountEpoch) return;
    const n = r.other_sessions_ended || 0;
    accountSay("Your password is changed" + (n ? "; " + plural(n, "other session") + (n === 1 ? " was" : " were") + " signed out." : "."), false);
  } catch (e) {
    // A 401 took the page back to the sign-in form: say why there.
    if (e.status === 401) say(e.message);
    if (epoch !== accountEpoch) return;
    accountSay("Your password was not changed: " + e.message, true);
  } finally {
    if (epoch === accountEpoch) button.disabled = false;
  }
});

// startAccount offers the Change password button to the signed-in user.
function startAccount() {
  resetAccount();
  $("password-open").hidden = false;
}

// resetAccount hides the button and the form, empty: at sign-out, before
// the next user.
function resetAccount() {
  accountEpoch++;
  showPassword(false);
  $("password-open").hidden = true;
  $("password-form").querySelector("button:not([type])").disabled = false;
}
