// The monthly symptom checklist (CLINICAL.md section 3): the questions, the answer's advice at once.
import { get } from "../api.js";
import { h, localToday, show, telLink, uuid } from "../dom.js";
import { t } from "../i18n.js";
import { state } from "../app.js";
import { helpCard, submitThroughOutbox } from "./patient.js";

const pid = () => state.me.patient_id;

function adviceCard(result) {
  const advice = result.advice;
  return h("section", { class: "card", role: "alert", "aria-labelledby": "result-title" },
    h("h2", { id: "result-title" }, t("result"), " ",
      h("span", { class: `badge level-${advice.level}` }, state.texts.levels[advice.level].name)),
    h("p", {}, advice.text),
    ["emergency"].includes(advice.level) ? telLink(advice.emergency_number, t("call_emergency", { number: advice.emergency_number })) : null,
    telLink(advice.phone, t("call_team", { phone: advice.phone })));
}

export async function checklist() {
  const current = await get(`/patients/${pid()}/checklist`);
  if (current.submitted) return show(h("h1", {}, t("checklist_title")), h("p", {}, t("already_sent")), helpCard());
  // A question about emergency signs is a short lead question and a list of
  // short signs; a list cannot go inside a legend, so the group is described by it.
  const signs = (q, n) => q.signs && q.signs.length
    ? h("ul", { class: "signs", id: `q-${n}-signs` }, q.signs.map((sign) => h("li", {}, sign))) : null;
  const fields = current.questions.map((q, n) => h("fieldset",
    q.signs && q.signs.length ? { "aria-describedby": `q-${n}-signs`, class: "has-signs" } : {},
    h("legend", { id: `q-${n}` }, q.text),
    signs(q, n),
    h("div", { class: "choices" },
      h("label", {}, h("input", { type: "radio", name: q.code, value: "yes" }), t("yes")),
      h("label", {}, h("input", { type: "radio", name: q.code, value: "no", checked: true }), t("no"))),
    h("details", {}, h("summary", {}, t("why")), h("p", {}, q.why))));
  const note = h("textarea", { id: "note", name: "note", rows: 3, maxlength: 2000, "aria-describedby": "note-hint" });
  const status = h("div", { "aria-live": "polite" });
  const button = h("button", { type: "submit" }, t("send"));
  const form = h("form", {}, fields, h("label", { for: "note" }, t("note")),
    h("p", { id: "note-hint", class: "hint" }, t("note_hint")), note, h("p", {}, button), status);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    button.disabled = true;
    button.textContent = t("sending");
    const answers = Object.fromEntries(current.questions.map((q) => [q.code, form.elements[q.code].value === "yes"]));
    const body = { client_id: uuid(), answered_on: localToday(), answers, note: note.value.trim() || null };
    await submitThroughOutbox(`/patients/${pid()}/checklists`, body, (result) => {
      show(h("h1", {}, t("checklist_title")), adviceCard(result));
    }, status, button);
  });
  show(h("h1", {}, t("checklist_title")), h("p", {}, t("checklist_intro")), form);
}

