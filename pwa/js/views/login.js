import { post, refreshCsrf } from "../api.js";
import { h, show } from "../dom.js";
import { t } from "../i18n.js";
import { go, logoutWaiting, state } from "../app.js";
import { startError } from "./start.js";

export function loginView() {
  const error = h("p", { class: "error", role: "alert" });
  const email = h("input", { id: "email", name: "email", type: "email", autocomplete: "username", required: true });
  const password = h("input", { id: "password", name: "password", type: "password",
                                autocomplete: "current-password", required: true });
  const form = h("form", { novalidate: true },
    h("label", { for: "email" }, t("email")), email,
    h("label", { for: "password" }, t("password")), password,
    h("p", {}, h("button", { type: "submit" }, t("login"))), error);
  // A newcomer with a code from the clinic or a family invitation starts here: the way in comes first.
  const more = h("ul", { class: "start-links" },
    h("li", {}, h("a", { href: "#/forgot" }, t("start_forgot_link"))),
    h("li", {}, h("a", { class: "button secondary", href: "#/signup" }, t("start_signup_link"))));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.textContent = "";
    try {
      // A logout made offline ends its session first: a login must not be ended by it.
      if (await logoutWaiting()) { error.textContent = t("offline_login"); return; }
      await refreshCsrf();
      await post("/auth/login", { email: email.value, password: password.value });
      state.me = null;
      go("");
    } catch (e) {
      error.textContent = e.status === 401 ? t("login_failed") : startError(e);
    }
  });
  show(h("h1", {}, t("login_title")), form, more);
}
