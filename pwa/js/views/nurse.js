// What the care team's screens share: errors in the nurse's words, the cervical-screening
// choice, the listeria date and notices (the queue: queue.js; a record: record.js; the list
// and enrolment: patients.js).
import { ApiError } from "../api.js";
import { h } from "../dom.js";
import { t } from "../i18n.js";

/** A refused request in the nurse's words, saying what to do: the server's message is
 * English, so its field (and status) choose a translated line; ``fallbackKey`` when none fits. */
export function errorText(error, fallbackKey = "err_generic") {
  if (!(error instanceof ApiError)) return t("err_network");
  if (error.status === 403 || error.status === 404) return t("err_forbidden");
  const key = `err_${(error.field || "").replace(/\[\d+\]$/, "")}`;
  return error.field && t(key) !== key ? t(key) : t(fallbackKey);
}

/** Cervical screening as three choices: the default by sex (null), yes, no. The default
 * is CLINICAL.md 1: true when sex is female, else false; ``sexOf`` reads the sex shown. */
export function cervicalChoice(value, sexOf) {
  const current = value === null || value === undefined ? "default" : value ? "yes" : "no";
  const defaultLabel = h("span", {});
  const describe = () => defaultLabel.replaceChildren(t("cervical_default",
    { sex: t(sexOf()), answer: t(sexOf() === "female" ? "yes" : "no") }));
  describe();
  const option = (v, label) => h("label", {}, h("input", { type: "radio", name: "cervical", value: v, checked: v === current }), label);
  const fieldset = h("fieldset", { "aria-describedby": "cervical-hint" },
    h("legend", {}, t("cervical_title")),
    h("p", { id: "cervical-hint", class: "hint" }, t("cervical_hint")),
    h("div", { class: "choices" }, option("default", defaultLabel), option("yes", t("yes")), option("no", t("no"))));
  const read = () => ({ default: null, yes: true, no: false })[fieldset.querySelector("input:checked").value];
  return { fieldset, read, describe };
}

/** The later end of the listeria diet: a date, empty for none. */
export function listeriaInput(value) {
  return h("input", { id: "listeria-until", type: "date", value: value || "", min: "1900-01-01", max: "2100-12-31",
                      "aria-describedby": "listeria-hint" });
}

/** A notice that a screen reader reads and a sighted nurse finds where she acted. */
export function notice(text, kind = "notice") {
  return text ? h("p", { class: kind, role: kind === "error" ? "alert" : "status", tabindex: "-1" }, text) : null;
}
