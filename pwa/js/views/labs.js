// Lab results shared by the patient's and the nurse's screens: the unit a lab prints
// for each analyte, the list of results with their units, and correcting or
// withdrawing a result entered in error (CLINICAL.md 4.1 and 6).
import { api } from "../api.js";
import { h, telLink } from "../dom.js";
import { apiErrorText, formatDate, formatNumber, t } from "../i18n.js";
import { state } from "../app.js";

/** A select of the units ``code`` accepts, ``chosen`` selected (the clinic's usual unit). */
export function unitSelect(code, id, chosen, label) {
  // Spellings of one unit (10^9/L, 10*9/L) read alike: offer each once.
  const seen = new Map();
  for (const u of state.texts.analytes[code].units || []) if (!seen.has(showUnit(u))) seen.set(showUnit(u), u);
  const wanted = showUnit(chosen);
  return h("select", { id, name: `${code}-unit`, class: "unit", "aria-label": label },
    [...seen].map(([shown, u]) => h("option", { value: u, selected: shown === wanted }, shown)));
}

/** A unit as people read it: 10^9/L as 10⁹/L, u as µ. */
export function showUnit(unit) {
  if (!unit) return "";
  const sup = { 0: "⁰", 1: "¹", 2: "²", 3: "³", 4: "⁴", 5: "⁵", 6: "⁶", 7: "⁷", 8: "⁸", 9: "⁹" };
  return unit.replace(/10[\^*](\d+)/, (_, n) => `10${[...n].map((d) => sup[d]).join("")}`)
    .replace(/^u(?=[A-Za-z])|(?<=\/)u(?=[A-Za-z])/g, "µ").replace(/mm3$/, "mm³");
}

/** The lab items a result counts for and the analytes each measures (content/protocol.toml,
 * protocol ms): "I had this test" records each of them as a sample taken. */
export const LAB_TESTS = {
  "lab.cbc": ["platelets", "neutrophils", "lymphocytes"], "lab.creatinine": ["creatinine"],
  "lab.urinalysis": ["urine_blood", "urine_protein"], "lab.lft": ["alt", "ast", "bilirubin"], "lab.tsh": ["tsh"],
};

/** A number as people type it in any of the app's languages ("4,5" or "4.5"); NaN when it is none. */
export function parseDecimal(text) {
  const plain = String(text).trim().replace(/\s/g, "");
  return /^\d+([.,]\d+)?$/.test(plain) ? Number(plain.replace(",", ".")) : NaN;
}

/** The server's refusal of a sample's ``results`` in her words: which test, and what to check. */
export function refusalText(error, results) {
  const match = /^results\[(\d+)\]\.(value|unit|analyte)$/.exec(error?.field || "");
  const r = match && results[Number(match[1])];
  if (r) {
    const name = state.texts.analytes[r.analyte].name;
    const shown = typeof r.value === "number" ? withUnit(r.value, r.unit) : r.value;
    return { analyte: r.analyte, text: t(match[2] === "unit" ? "unit_refused" : "implausible", { name, value: shown }) };
  }
  if (/^(taken_on|value|unit)$/.test(error?.field || "")) return { text: t(`refused_${error.field}`) };
  return { text: t("rejected", { error: error?.message || "" }) };
}

/** A result's value as it was entered, and the converted value when the unit differs. */
export function valueText(r) {
  if (r.value === null || r.value === undefined) return t("sample_taken");
  if (typeof r.value === "string") return t(r.value);
  const recorded = r.value_as_recorded ?? r.value;
  const unit = r.unit_as_recorded || r.unit;
  const main = withUnit(recorded, unit);
  return unit && r.unit && unit !== r.unit ? `${main} (= ${withUnit(r.value, r.unit)})` : main;
}

/** 25 × 10⁹/L, 80 µmol/L: a count unit that starts with a power of ten reads with "×". */
export function withUnit(value, unit) {
  return `${formatNumber(value)}${/^\d/.test(unit || "") ? " × " : " "}${showUnit(unit)}`;
}

/** The advice a patient sees at once after a result that raises an urgent or emergency rule. */
export function labAdviceCard(advice, flags = []) {
  const serious = new Set(advice.rules.map((r) => r.rule));
  // What she entered, so that a typo or a wrong unit is seen at once.
  const entered = flags.filter((f) => serious.has(f.rule)).map((f) =>
    h("li", {}, h("strong", {}, state.texts.analytes[f.analyte].name), " ", valueText(f)));
  return h("section", { class: `card advice level-${advice.level}`, role: "alert", "aria-labelledby": "lab-advice-title" },
    h("h2", { id: "lab-advice-title" }, state.texts.levels[advice.level].name, ": ", advice.rules.map((r) => r.title).join(", ")),
    h("p", { class: "advice-text" }, advice.text),
    advice.level === "emergency" ? telLink(advice.emergency_number, t("call_emergency", { number: advice.emergency_number })) : null,
    telLink(advice.phone, t("call_team", { phone: advice.phone })),
    advice.rules.map((r) => h("p", {}, r.detail)),
    entered.length ? [h("p", {}, t("you_entered")), h("ul", {}, entered), h("p", { class: "muted" }, t("typo_hint"))] : null);
}

/** The results of ``pid``, newest first, each with its unit; a result ``mayChange`` allows has
 * "Correct" and "Withdraw", which ask for the reason and call ``after`` when done. */
export function resultsList(pid, items, mayChange, after, reportedLabel) {
  if (!items.length) return h("p", {}, t("no_results"));
  const analytes = state.texts.analytes;
  const rows = [...items].reverse().map((r) => {
    const actions = mayChange(r) ? h("div", { class: "row" },
      h("button", { type: "button", class: "secondary small", "aria-label": `${t("correct")}: ${analytes[r.analyte].name}, ${formatDate(r.taken_on)}`,
        onclick: (e) => openForm(e.target.closest("li"), pid, r, "correct", after) }, t("correct")),
      h("button", { type: "button", class: "secondary small", "aria-label": `${t("withdraw")}: ${analytes[r.analyte].name}, ${formatDate(r.taken_on)}`,
        onclick: (e) => openForm(e.target.closest("li"), pid, r, "withdraw", after) }, t("withdraw"))) : null;
    return h("li", { "data-result": r.id },
      h("strong", {}, analytes[r.analyte].name), " ", h("span", { class: "value" }, valueText(r)), h("br"),
      h("span", { class: "muted" }, formatDate(r.taken_on),
        r.patient_reported ? ` · ${reportedLabel}` : "", r.corrects_id ? ` · ${t("corrected")}` : ""),
      actions);
  });
  return h("ul", { class: "items results" }, rows);
}

function openForm(li, pid, r, kind, after) {
  li.querySelector("form")?.remove();
  const n = r.id;
  // Checked here rather than by the browser, whose bubbles speak the browser's language, not hers.
  const reason = h("textarea", { id: `reason-${n}`, rows: 2, maxlength: 500, "aria-required": "true" });
  const status = h("p", { role: "status" });
  const fields = [];
  let value, unit;
  if (kind === "correct") {
    const qualitative = typeof r.value === "string";
    value = qualitative
      ? h("select", { id: `value-${n}` }, ["negative", "positive"].map((v) => h("option", { value: v, selected: v === r.value }, t(v))))
      : h("input", { id: `value-${n}`, type: "text", inputmode: "decimal", autocomplete: "off", "aria-required": "true",
                     value: r.value_as_recorded ?? r.value ?? "" });
    fields.push(h("label", { for: `value-${n}` }, t("value")));
    if (!qualitative && (state.texts.analytes[r.analyte].units || []).length) {
      unit = unitSelect(r.analyte, `unit-${n}`, r.unit_as_recorded || r.unit, t("unit"));
      fields.push(h("div", { class: "value-unit" }, value, unit));
    } else fields.push(value);
  }
  const submit = h("button", { type: "submit" }, kind === "correct" ? t("save_correction") : t("withdraw_result"));
  const form = h("form", { class: "correction", novalidate: true },
    h("p", {}, kind === "correct" ? t("correct_explain") : t("withdraw_explain")),
    fields, h("label", { for: `reason-${n}` }, t("reason")), reason,
    h("p", { class: "row" }, submit,
      h("button", { type: "button", class: "secondary", onclick: () => form.remove() }, t("cancel"))), status);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (value && value.value === "") { status.textContent = t("value_needed"); value.focus(); return; }
    const number = value && typeof r.value !== "string" ? parseDecimal(value.value) : null;
    if (Number.isNaN(number)) { status.textContent = t("number_needed"); value.focus(); return; }
    if (!reason.value.trim()) { status.textContent = t("reason_needed"); reason.focus(); return; }
    submit.disabled = true;
    try {
      if (kind === "correct") {
        const body = { reason: reason.value.trim() };
        body.value = typeof r.value === "string" ? value.value : number;
        if (unit) body.unit = unit.value;
        await api("PATCH", `/patients/${pid}/labs/${r.id}`, body);
      } else {
        await api("DELETE", `/patients/${pid}/labs/${r.id}`, { reason: reason.value.trim() });
      }
      after(kind === "correct" ? t("correction_saved") : t("result_withdrawn"));
    } catch (e) {
      submit.disabled = false;
      const words = ["value", "unit"].includes(e.field) ? t(`refused_${e.field}`) : apiErrorText(e);
      status.replaceChildren(h("span", { class: "error", role: "alert" }, words));
      if (value && e.field === "value") value.setAttribute("aria-invalid", "true");
    }
  });
  li.append(form);
  (value || reason).focus();
}
