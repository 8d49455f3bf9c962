// Starting and keeping an account (issue 16, point 1): sign-up with a code from the
// clinic or a family invite, a forgotten password (a code from the care team or by
// email), the change of password in settings, and the care team's codes on a
// patient's page. Every refusal is a sentence of i18n-start.js keyed by the API's
// error code and field.
import { ApiError, api, post, refreshCsrf } from "../api.js";
import { h, show } from "../dom.js";
import { language, t } from "../i18n.js";
import { go, state } from "../app.js";

/** The plain sentence for an error of these screens: "err_<code>_<field>", then
 * "err_<code>", then a general one. ``prefix`` picks a screen's own wording first. */
export function startError(error, prefix = "") {
  if (!(error instanceof ApiError)) return t("err_start_network");
  const code = error.status === 429 ? "rate_limited" : error.code;
  const field = (error.field || "").split(".")[0];
  for (const key of [`err_${prefix}${code}`, `err_${code}_${field}`, `err_${code}`]) {
    if (t(key) !== key) return t(key);
  }
  return t("err_start_generic");
}

/** A labelled input; ``hint`` is read out with it (aria-describedby). */
function field(id, label, attrs, hint) {
  const input = h("input", { id, name: id, ...attrs, "aria-describedby": hint ? `${id}-hint` : false });
  return { input, nodes: [h("label", { for: id }, label), hint ? h("p", { id: `${id}-hint`, class: "hint" }, hint) : null, input] };
}

/** The new-password pair with the rules shown first and one "show" switch for both. */
function newPasswordFields(id = "new-password", label = t("new_password")) {
  const rules = h("p", { id: `${id}-rules`, class: "hint" }, t("password_rules"));
  const password = h("input", { id, name: id, type: "password", autocomplete: "new-password", minlength: 10,
                                required: true, "aria-describedby": `${id}-rules` });
  const confirm = h("input", { id: `${id}-again`, name: `${id}-again`, type: "password", autocomplete: "new-password",
                               required: true });
  const extra = [];
  const toggle = h("input", { id: `${id}-show`, type: "checkbox", onchange: () => {
    for (const input of [password, confirm, ...extra]) input.type = toggle.checked ? "text" : "password";
  } });
  return {
    password, confirm, also: (input) => extra.push(input),
    nodes: [h("label", { for: id }, label), rules, password,
            h("label", { for: `${id}-again` }, t("confirm_password")), confirm,
            h("label", { for: `${id}-show`, class: "row" }, toggle, t("show_password"))],
  };
}

function errorLine() { return h("p", { class: "error", role: "alert", tabindex: "-1" }); }

function refuse(out, text, input) {
  out.textContent = text;
  if (input) { input.setAttribute("aria-invalid", "true"); input.focus(); } else out.focus();
}

function clearMarks(form) { for (const input of form.querySelectorAll("[aria-invalid]")) input.removeAttribute("aria-invalid"); }

function inputFor(form, error) {
  const name = error instanceof ApiError && error.field ? error.field.split(".")[0].replace(/_/g, "-") : null;
  return name ? form.querySelector(`#${name}`) || form.querySelector(`#signup-${name}`) : null;
}

/** After a sign-up or a reset: whoever is now logged in starts from their first screen. */
function startAgain() {
  state.me = null;
  state.patient = null;
  go("");
}

export function signupView(params) {
  const code = field("signup-code", t("signup_code"), { autocomplete: "one-time-code", autocapitalize: "characters",
    spellcheck: "false", required: true, value: params.get("code") || "" }, t("signup_code_hint"));
  const email = field("signup-email", t("email"), { type: "email", autocomplete: "email", required: true });
  const pw = newPasswordFields("signup-password", t("password"));
  const out = errorLine();
  const form = h("form", { novalidate: true }, code.nodes, email.nodes, pw.nodes,
    h("p", {}, h("button", { type: "submit" }, t("signup_submit"))), out);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearMarks(form);
    out.textContent = "";
    if (!code.input.value.trim()) return refuse(out, t("err_required_code"), code.input);
    if (!email.input.value.trim()) return refuse(out, t("err_required_email"), email.input);
    if (!pw.password.value) return refuse(out, t("err_required_password"), pw.password);
    if (pw.password.value !== pw.confirm.value) return refuse(out, t("err_confirm"), pw.confirm);
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    try {
      await refreshCsrf();
      const body = { code: code.input.value.trim(), email: email.input.value.trim(), password: pw.password.value };
      await post("/auth/register", body);
      await post("/auth/login", { email: body.email, password: body.password });
      startAgain();
    } catch (e) {
      const map = { code: code.input, email: email.input, password: pw.password };
      refuse(out, startError(e), e instanceof ApiError ? map[(e.field || "").split(".")[0]] : null);
    } finally { button.disabled = false; }
  });
  show(h("h1", {}, t("signup_title")), h("p", {}, t("signup_intro")), form,
    h("ul", { class: "start-links" }, h("li", {}, h("a", { href: "#/" }, t("have_account"))),
      h("li", {}, h("a", { href: "#/forgot" }, t("start_forgot_link")))));
  if (code.input.value) email.input.focus({ preventScroll: true });
}

export function forgotView() {
  const email = field("reset-email", t("email"), { type: "email", autocomplete: "username", required: true });
  const code = field("reset-code", t("reset_code"), { autocomplete: "one-time-code", autocapitalize: "characters",
    spellcheck: "false", required: true }, t("signup_code_hint"));
  const pw = newPasswordFields("reset-password");
  const out = errorLine();
  const form = h("form", { novalidate: true }, email.nodes, code.nodes, pw.nodes,
    h("p", {}, h("button", { type: "submit" }, t("reset_submit"))), out);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearMarks(form);
    out.textContent = "";
    if (!email.input.value.trim()) return refuse(out, t("err_required_email"), email.input);
    if (!code.input.value.trim()) return refuse(out, t("err_required_code"), code.input);
    if (!pw.password.value) return refuse(out, t("err_required_password"), pw.password);
    if (pw.password.value !== pw.confirm.value) return refuse(out, t("err_confirm"), pw.confirm);
    try {
      await refreshCsrf();
      await post("/auth/reset", { email: email.input.value.trim(), code: code.input.value.trim(),
                                  password: pw.password.value });
      startAgain();
    } catch (e) {
      const map = { code: code.input, email: email.input, password: pw.password };
      refuse(out, startError(e, e.code === "invalid_code" ? "reset_" : ""),
             e instanceof ApiError ? map[(e.field || "").split(".")[0]] : null);
    }
  });
  // One email field for both ways: the mail goes to the address typed above.
  const mailOut = h("div", { "aria-live": "polite" });
  const mailButton = h("button", { type: "button", class: "secondary", id: "send-code", onclick: async () => {
    clearMarks(form);
    out.textContent = "";
    if (!email.input.value.trim()) {
      mailOut.replaceChildren();
      return refuse(out, t("err_required_email"), email.input);
    }
    try {
      await refreshCsrf();
      await post("/auth/forgot", { email: email.input.value.trim() });
      mailOut.replaceChildren(h("p", { class: "notice", role: "status" }, t("forgot_sent")));
    } catch (e) {
      mailOut.replaceChildren(h("p", { class: "error", role: "alert" }, startError(e)));
    }
  } }, t("forgot_send"));
  show(h("h1", {}, t("forgot_title")), h("p", {}, t("forgot_intro")), form,
    h("section", { class: "card", "aria-labelledby": "mail-title" }, h("h2", { id: "mail-title" }, t("forgot_mail_title")),
      h("p", {}, t("forgot_mail_intro")), h("p", {}, mailButton), mailOut),
    h("ul", { class: "start-links" }, h("li", {}, h("a", { href: "#/" }, t("back_to_login")))));
}

/** The change of password, for every role's settings. */
export function passwordCard() {
  const current = field("current-password", t("current_password"),
                        { type: "password", autocomplete: "current-password", required: true });
  const pw = newPasswordFields("new-password");
  pw.also(current.input);
  const out = h("div", { "aria-live": "polite" });
  const form = h("form", { novalidate: true }, current.nodes, pw.nodes,
    h("p", {}, h("button", { type: "submit" }, t("password_change"))), out);
  const say = (text, input) => {
    const line = errorLine();
    out.replaceChildren(line);
    refuse(line, text, input);
  };
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearMarks(form);
    out.replaceChildren();
    if (!current.input.value) return say(t("err_required_current_password"), current.input);
    if (!pw.password.value) return say(t("err_required_password"), pw.password);
    if (pw.password.value !== pw.confirm.value) return say(t("err_confirm"), pw.confirm);
    try {
      await post("/auth/password", { current_password: current.input.value, new_password: pw.password.value });
      form.reset();
      for (const input of [current.input, pw.password, pw.confirm]) input.type = "password";
      const done = h("p", { class: "notice", role: "status", tabindex: "-1" }, t("password_changed"));
      out.replaceChildren(done);
      done.focus();
    } catch (e) {
      const map = { current_password: current.input, new_password: pw.password };
      say(startError(e), e instanceof ApiError ? map[e.field] : null);
    }
  });
  return h("section", { class: "card", "aria-labelledby": "password-title" },
    h("h2", { id: "password-title" }, t("password_title")), form);
}

/** Settings of a family member or a member of the care team: their account. */
export function accountView() {
  show(h("h1", {}, t("account_title")), h("p", {}, state.me.email), passwordCard());
}

/** The link that opens the sign-up screen with ``code`` filled in. */
export function signupLink(code) {
  return `${location.origin}/#/signup?code=${encodeURIComponent(code)}`;
}

function expiry(iso) {
  return new Intl.DateTimeFormat(language(), { dateStyle: "medium", timeStyle: "short" }).format(new Date(iso));
}

/** The QR code of ``link`` drawn into ``holder`` (lean-qr, loaded only now); without it the link is there. */
async function drawQr(holder, link) {
  try {
    const [{ generate }, { toSvg }] = await Promise.all([
      import("/vendor/lean-qr-2.7.4/lean-qr.js"), import("/vendor/lean-qr-2.7.4/lean-qr-svg.js")]);
    const svg = toSvg(generate(link), document, { on: "black", off: "white", pad: 4 });
    svg.setAttribute("role", "img");
    svg.setAttribute("aria-label", t("signup_qr"));
    holder.replaceChildren(svg);
  } catch (e) { holder.remove(); }
}

/** A code and its sign-up link (and QR code), with a copy button. */
export function codeWithLink(code, expiresAt, labelKey = "enrolment_code") {
  const link = signupLink(code);
  const copied = h("span", { role: "status" });
  const qr = h("div", { class: "qr" });
  drawQr(qr, link);
  return h("div", { class: "code-block" },
    h("p", {}, t(labelKey, { date: expiry(expiresAt) })), h("p", {}, h("strong", { class: "code" }, code)),
    h("p", {}, t("signup_link"), " ", h("a", { href: link, class: "signup-link" }, link)),
    navigator.clipboard ? h("p", {}, h("button", { type: "button", class: "secondary", onclick: async () => {
      try { await navigator.clipboard.writeText(link); copied.textContent = t("copied"); } catch (e) { /* shown above */ }
    } }, t("copy_link")), " ", copied) : null, qr);
}

/** On the care team's page of a patient: a new enrolment code while she has no account,
 * a password reset code once she has one. */
export function accessCard(record) {
  const out = h("div", { "aria-live": "polite" });
  const issue = async (path, render) => {
    try { out.replaceChildren(render(await api("POST", path))); } catch (e) {
      out.replaceChildren(h("p", { class: "error", role: "alert" }, startError(e)));
    }
  };
  if (!record.has_account) {
    return h("section", { class: "card", "aria-labelledby": "signup-title" },
      h("h2", { id: "signup-title" }, t("signup_card_title")), h("p", {}, t("signup_card_explain")),
      h("p", {}, h("button", { type: "button", class: "secondary", onclick: () => issue(
        `/patients/${record.id}/enrollment-code`, (c) => codeWithLink(c.code, c.expires_at)) }, t("enrol_code_new"))), out);
  }
  return h("section", { class: "card", "aria-labelledby": "reset-title" },
    h("h2", { id: "reset-title" }, t("reset_card_title")), h("p", {}, t("reset_card_explain")),
    h("p", {}, h("button", { type: "button", class: "secondary", id: "issue-reset", onclick: () => issue(
      `/patients/${record.id}/password-reset`, (c) => h("div", { class: "code-block" },
        h("p", {}, t("reset_code_shown", { date: expiry(c.expires_at) })),
        h("p", {}, h("strong", { class: "code", id: "reset-code-value" }, c.code)))) }, t("reset_issue"))), out);
}
