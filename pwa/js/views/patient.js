// The patient's screens: today, the monthly checklist, lab results, timeline, settings.
import { api, get } from "../api.js";
import { h, localToday, show, telLink, uuid } from "../dom.js";
import { LANGUAGES, formatDate, formatNumber, setLanguage, t } from "../i18n.js";
import { loadTexts, state, flushOutbox } from "../app.js";
import { subscribePush, unsubscribePush, pushStatus } from "../push.js";
import { chart } from "./chart.js";
import { labAdviceCard, resultsList, unitSelect } from "./labs.js";
import { codeWithLink, passwordCard } from "./start.js";

const pid = () => state.me.patient_id;
const addDays = (iso, days) => { const d = new Date(iso + "T00:00:00Z"); d.setUTCDate(d.getUTCDate() + days); return d.toISOString().slice(0, 10); };

function helpCard() {
  const clinic = state.patient.clinic;
  // The protocol's item with emergency signs (MS: safety.post_infusion; CLL: safety.infusion_reaction).
  const safety = Object.values(state.texts.items).find((item) => item.signs && item.lead);
  return h("section", { class: "card help", "aria-labelledby": "help-title" },
    h("h2", { id: "help-title" }, t("help_title")),
    h("p", {}, safety.lead),
    h("ul", { class: "signs" }, safety.signs.map((sign) => h("li", {}, sign))),
    h("p", {}, safety.later),
    telLink(clinic.emergency_number, t("call_emergency", { number: clinic.emergency_number })),
    telLink(clinic.phone, t("call_team", { phone: clinic.phone })));
}

function itemLine(item) {
  const when = item.due ? formatDate(item.due)
    : item.end ? `${formatDate(item.start)} – ${formatDate(item.end)}` : `${formatDate(item.start)} – ${t("open_end")}`;
  return h("li", {}, h("strong", {}, item.title), h("br"), h("span", { class: "muted" }, when), " ",
    item.status ? h("span", { class: `badge status-${item.status}` }, t(`status_${item.status}`)) : null);
}

export async function today() {
  const day = localToday();
  const { items } = await get(`/patients/${pid()}/timeline?from=${addDays(day, -31)}&to=${addDays(day, 60)}`);
  const dueNow = items.filter((i) => i.due && i.status === "due" || (i.due && i.status === "overdue"));
  const running = items.filter((i) => !i.due && i.status === "due");
  const nextBlood = items.find((i) => i.kind === "lab" && (i.status === "upcoming" || i.status === "due"));
  show(
    h("h1", {}, t("today_title")),
    h("section", { class: "card", "aria-labelledby": "due-title" }, h("h2", { id: "due-title" }, t("due_now")),
      dueNow.length ? h("ul", { class: "items" }, dueNow.map(itemLine)) : h("p", {}, t("nothing_due"))),
    running.length ? h("section", { class: "card", "aria-labelledby": "running-title" },
      h("h2", { id: "running-title" }, t("running")),
      h("ul", { class: "items" }, running.map((i) => h("li", {}, h("strong", {}, i.title), h("br"),
        h("span", {}, i.end ? t("until", { date: formatDate(i.end) }) : t("open_end")))))) : null,
    nextBlood ? h("section", { class: "card", "aria-labelledby": "blood-title" },
      h("h2", { id: "blood-title" }, t("next_blood")), h("p", {}, formatDate(nextBlood.due))) : null,
    helpCard());
}

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

/** Save in the outbox first (nothing typed is lost), then try to send. */
async function submitThroughOutbox(path, body, onAnswer, status, button) {
  const outbox = window.AlemtrackOutbox;
  await outbox.add(path, body, state.me.id);
  const answers = await outbox.flush();
  const answer = answers[body.client_id];
  if (answer && answer.status < 300) return onAnswer(answer.body);
  button.disabled = false;
  button.textContent = t("send");
  if (answer) {
    status.replaceChildren(h("p", { class: "error", role: "alert" }, t("rejected", { error: answer.body?.error?.message })));
    return;
  }
  status.replaceChildren(h("p", { role: "status" }, t("saved_offline")), helpCard());
  if ("serviceWorker" in navigator && "SyncManager" in window) {
    const registration = await navigator.serviceWorker.ready;
    try { await registration.sync.register("outbox"); } catch (e) { /* the app replays when online */ }
  }
  const whenSent = (event) => {
    const sent = event.detail[body.client_id];
    if (sent && sent.status < 300) { window.removeEventListener("outbox-flushed", whenSent); onAnswer(sent.body); }
  };
  window.addEventListener("outbox-flushed", whenSent);
}

const CHARTS = ["platelets", "creatinine", "tsh", "alt", "ast", "bilirubin"];
const ENTRY = ["platelets", "neutrophils", "lymphocytes", "creatinine", "urine_blood", "urine_protein",
               "tsh", "alt", "ast", "bilirubin"];

export async function labs(message) {
  const { items, usual_units: usual } = await get(`/patients/${pid()}/labs`);
  const analytes = state.texts.analytes;
  const date = h("input", { id: "taken_on", type: "date", required: true, value: localToday(), max: localToday() });
  const units = {};
  const inputs = ENTRY.map((code) => {
    const a = analytes[code];
    const id = `v-${code}`;
    if (a.kind === "qualitative") {
      return h("div", { class: "entry" }, h("label", { for: id }, a.name),
        h("select", { id, name: code }, h("option", { value: "" }, "—"),
          h("option", { value: "negative" }, t("negative")), h("option", { value: "positive" }, t("positive"))));
    }
    // The unit the lab printed (CLINICAL.md 4.1), the clinic's usual one first.
    units[code] = unitSelect(code, `u-${code}`, usual?.[code] || a.unit, t("unit_of", { name: a.name }));
    return h("div", { class: "entry" }, h("label", { for: id }, a.name),
      h("div", { class: "value-unit" },
        h("input", { id, name: code, type: "number", inputmode: "decimal", min: 0, step: "any" }), units[code]));
  });
  const status = h("div", { "aria-live": "polite" });
  const button = h("button", { type: "submit" }, t("send"));
  const form = h("form", {}, h("label", { for: "taken_on" }, t("taken_on")), date,
    h("p", { class: "muted" }, t("unit_hint")), inputs, h("p", {}, button), status);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const results = ENTRY.map((code) => [code, form.elements[code].value]).filter(([, v]) => v !== "")
      .map(([code, v]) => analytes[code].kind === "qualitative" ? { analyte: code, value: v }
        : { analyte: code, value: Number(v), unit: units[code].value });
    if (!results.length) return;
    button.disabled = true;
    await submitThroughOutbox(`/patients/${pid()}/labs`, { client_id: uuid(), taken_on: date.value, results },
      (answer) => {
        // An urgent or emergency result: the advice at once, before anything else.
        if (answer.advice) return show(h("h1", {}, t("labs_title")), labAdviceCard(answer.advice, answer.flags),
          h("p", {}, h("a", { class: "button secondary", href: "#/labs", onclick: (e) => { e.preventDefault(); labs(); } }, t("back_to_results"))));
        labs(t("result_saved"));
      }, status, button);
  });
  const trends = CHARTS.map((code) => chart(code, analytes[code], items.filter((r) => r.analyte === code),
    state.patient.baseline?.[code])).filter(Boolean);
  show(h("h1", {}, t("labs_title")),
    typeof message === "string" ? h("p", { role: "status", class: "notice" }, message) : null,
    h("h2", {}, t("record_result")), form,
    h("h2", {}, t("your_results")),
    resultsList(pid(), items, (r) => r.patient_reported, (done) => labs(done), t("entered_by_you")),
    h("h2", {}, t("trends")), trends.length ? trends : h("p", {}, t("no_results")));
}

export async function timeline(view = "list", month) {
  const { items } = await get(`/patients/${pid()}/timeline`);
  const switcher = h("p", { class: "row" },
    h("a", { class: "button secondary", href: "#/timeline/list", "aria-current": view === "list" ? "page" : false }, t("as_list")),
    h("a", { class: "button secondary", href: "#/timeline/month", "aria-current": view === "month" ? "page" : false }, t("as_calendar")));
  if (view !== "month") {
    const upcoming = items.filter((i) => (i.due || i.end || "9999") >= addDays(localToday(), -31));
    return show(h("h1", {}, t("timeline_title")), switcher, h("ul", { class: "items" }, upcoming.slice(0, 150).map(itemLine)));
  }
  const first = (month || localToday().slice(0, 7)) + "-01";
  const [y, m] = first.split("-").map(Number);
  const days = new Date(Date.UTC(y, m, 0)).getUTCDate();
  const offset = (new Date(Date.UTC(y, m - 1, 1)).getUTCDay() + 6) % 7;
  const cells = [];
  for (let i = 0; i < offset; i++) cells.push(h("div", { "aria-hidden": "true" }));
  for (let d = 1; d <= days; d++) {
    const iso = `${first.slice(0, 8)}${String(d).padStart(2, "0")}`;
    const here = items.filter((i) => i.due === iso || i.start === iso);
    cells.push(h("div", {}, h("strong", {}, d), here.map((i) => h("div", {}, i.title))));
  }
  const shift = (delta) => { const d = new Date(Date.UTC(y, m - 1 + delta, 1)); return d.toISOString().slice(0, 7); };
  show(h("h1", {}, t("timeline_title")), switcher,
    h("p", { class: "row" },
      h("a", { class: "button secondary", href: `#/timeline/month/${shift(-1)}` }, t("previous")),
      h("strong", {}, formatDate(first, { month: "long", year: "numeric" })),
      h("a", { class: "button secondary", href: `#/timeline/month/${shift(1)}` }, t("next"))),
    h("div", { class: "calendar", role: "list" }, cells.map((c) => { c.setAttribute("role", "listitem"); return c; })));
}

export async function settings() {
  const p = state.patient;
  const pushLine = h("p", { role: "status" }, await pushStatus());
  const pushButtons = h("p", { class: "row" },
    h("button", { type: "button", onclick: async () => { pushLine.textContent = await subscribePush(); } }, t("notifications_on")),
    h("button", { type: "button", class: "secondary", onclick: async () => { pushLine.textContent = await unsubscribePush(); } }, t("notifications_off")));
  const feed = h("div", { "aria-live": "polite" });
  const detailed = h("input", { id: "detailed", type: "checkbox", checked: p.detailed_notifications });
  const language = h("select", { id: "language" }, Object.entries(LANGUAGES).map(([code, name]) =>
    h("option", { value: code, selected: code === p.language }, name)));
  const saved = h("p", { role: "status" });
  const save = async () => {
    const here = location.hash;
    state.patient = await api("PATCH", `/patients/${pid()}`, { detailed_notifications: detailed.checked, language: language.value });
    setLanguage(state.patient.language);
    await loadTexts(state.patient.language);
    if (location.hash !== here) return;  // she has moved on: a late redraw must not pull her back
    await settings();
    document.querySelector("#settings-saved").textContent = t("saved");
  };
  const { items: members } = await get(`/patients/${pid()}/family`);
  const inviteOut = h("div", { "aria-live": "polite" });
  show(
    h("h1", {}, t("settings_title")),
    h("section", { class: "card" }, h("h2", {}, t("notifications")), h("p", {}, t("notifications_explain")), pushButtons, pushLine,
      h("h3", {}, t("iphone_title")), h("p", {}, t("iphone_steps"))),
    h("section", { class: "card" }, h("h2", {}, t("calendar")), h("p", {}, t("calendar_explain")),
      h("button", { type: "button", class: "secondary", onclick: async () => {
        const created = await api("POST", `/patients/${pid()}/calendar-feed`);
        feed.replaceChildren(h("p", {}, t("calendar_copy")), h("input", { readonly: true, value: created.url, "aria-label": t("calendar_copy") }));
      } }, t("calendar_create")), feed),
    h("section", { class: "card" }, h("h2", {}, t("settings_title")),
      h("label", { for: "detailed", class: "row" }, detailed, t("detailed")),
      h("label", { for: "language" }, t("language")), language,
      h("p", {}, h("button", { type: "button", onclick: save }, t("save"))), h("p", { id: "settings-saved", role: "status" }), saved),
    h("section", { class: "card" }, h("h2", {}, t("family")), h("p", {}, t("family_explain")),
      members.length ? h("ul", { class: "items" }, members.map((m) => h("li", { class: "row" }, m.email, " ",
        h("button", { type: "button", class: "secondary", onclick: async () => {
          await api("DELETE", `/patients/${pid()}/family/${m.user_id}`); settings(); } }, t("remove"))))) : h("p", {}, t("no_family")),
      h("button", { type: "button", onclick: async () => {
        const invite = await api("POST", `/patients/${pid()}/family-invites`);
        inviteOut.replaceChildren(codeWithLink(invite.code, invite.expires_at, "invite_code"));
      } }, t("invite")), inviteOut),
    passwordCard(),
    h("p", {}, h("a", { class: "button secondary", href: `/api/v1/patients/${pid()}/export`, download: "alemtrack.json" }, t("export"))));
}
