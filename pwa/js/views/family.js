// A family member sees the patient's shared reminders and timeline items: nothing else.
import { get } from "../api.js";
import { h, show } from "../dom.js";
import { formatDate, t } from "../i18n.js";
import { state } from "../app.js";

export async function reminders() {
  const id = state.me.patient_id;
  if (!id) return show(h("h1", {}, t("nav_reminders")), h("p", {}, t("no_family")));
  const patient = await get(`/patients/${id}`);
  const today = new Date().toISOString().slice(0, 10);
  const { items } = await get(`/patients/${id}/timeline?from=${today}`);
  // What a safety item asks of a relative (the early signs of CMV), said once, at its first date.
  const told = new Set();
  const detail = (i) => {
    if (!i.detail || i.kind !== "safety" || told.has(i.code)) return null;
    told.add(i.code);
    return h("p", { class: "detail" }, i.detail);
  };
  show(h("h1", {}, t("family_title", { name: patient.display_name })),
    h("ul", { class: "items" }, items.slice(0, 60).map((i) => h("li", {}, h("strong", {}, i.title), h("br"),
      h("span", { class: "muted" }, i.due ? formatDate(i.due) : `${formatDate(i.start)} – ${i.end ? formatDate(i.end) : t("open_end")}`),
      detail(i)))));
}
