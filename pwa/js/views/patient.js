// The patient's screens: today, lab results, timeline, settings (the checklist is views/checklist.js).
import { api, get } from "../api.js";
import { h, localToday, show, telLink, uuid } from "../dom.js";
import { LANGUAGES, formatDate, setLanguage, t, tn } from "../i18n.js";
import { loadTexts, state, flushOutbox } from "../app.js";
import { calendarCard, notificationsCard } from "../push.js";
import { chart } from "./chart.js";
import { LAB_TESTS, labAdviceCard, parseDecimal, refusalText, resultsList, unitSelect, withUnit } from "./labs.js";
import { passwordCard } from "./start.js";
import { familyCard, statusBadge } from "./family.js";

const pid = () => state.me.patient_id;
const addDays = (iso, days) => { const d = new Date(iso + "T00:00:00Z"); d.setUTCDate(d.getUTCDate() + days); return d.toISOString().slice(0, 10); };

/** Whom to call and the emergency signs of her protocol; ``clinic`` and the team's words
 * are a relative's when the family's screen shows it. */
export function helpCard(clinic = state.patient.clinic, teamKey = "call_team") {
  // The protocol's item with emergency signs (MS: safety.post_infusion; CLL: safety.infusion_reaction).
  const safety = Object.values(state.texts.items).find((item) => item.signs && item.lead);
  return h("section", { class: "card help", "aria-labelledby": "help-title" },
    h("h2", { id: "help-title" }, t("help_title")),
    h("p", {}, safety.lead),
    h("ul", { class: "signs" }, safety.signs.map((sign) => h("li", {}, sign))),
    h("p", {}, safety.later),
    telLink(clinic.emergency_number, t("call_emergency", { number: clinic.emergency_number })),
    telLink(clinic.phone, t(teamKey, { phone: clinic.phone })));
}

function when(item) {
  return item.due ? formatDate(item.due)
    : item.end ? `${formatDate(item.start)} – ${formatDate(item.end)}` : `${formatDate(item.start)} – ${t("open_end")}`;
}

function itemLine(item) {
  return h("li", {}, h("strong", {}, item.title), h("br"), h("span", { class: "muted" }, when(item)), " ",
    item.status ? statusBadge(item.status) : null);
}

/** What she can do about an item that is due or overdue: a link each (none for the clinic's own tasks). */
function actions(item, overdue) {
  if (item.kind === "checklist") return [h("a", { class: "button", href: "#/checklist" }, t("answer_checklist"))];
  if (item.kind === "lab" && LAB_TESTS[item.code]) {
    // An overdue test is done by a sample taken in its window: the form opens on its due day.
    const day = overdue.length ? `/${overdue[0].due}` : "";
    return [h("a", { class: "button", href: "#/labs" }, t("record_result")),
            h("a", { class: "button secondary", href: `#/labs/sample/${item.code}${day}` }, t("had_this_test"))];
  }
  return [];
}

/** One entry per item code: several courses' windows, or several overdue weekly counts, are one line
 * (the family member's reminders group the same way). */
export function byCode(items) {
  const groups = new Map();
  for (const item of items) {
    if (!groups.has(item.code)) groups.set(item.code, []);
    groups.get(item.code).push(item);
  }
  return [...groups.values()];
}

function todoLine(group) {
  const first = group[0];
  const overdue = group.filter((i) => i.status === "overdue");
  const detail = overdue.length > 1 ? tn("overdue_since", overdue.length, { date: formatDate(overdue[0].due) })
    : first.due ? t(first.status === "overdue" ? "was_due" : "due_on", { date: formatDate(first.due) }) : when(first);
  const todo = actions(first, overdue);
  return h("li", {}, h("strong", {}, first.title), " ", statusBadge(overdue.length ? "overdue" : first.status),
    h("br"), h("span", { class: "muted" }, detail),
    todo.length ? h("p", { class: "row actions" }, todo)
      : first.due < localToday() ? h("p", { class: "hint" }, t("clinic_does_this")) : null,
    overdue.length && first.kind === "lab" ? h("p", { class: "hint" }, t("overdue_hint")) : null);
}

/** A window running now, once whatever the number of courses that opened it: until its latest end. */
function runningLine(group) {
  const open = group.some((i) => !i.end);
  const end = open ? null : group.map((i) => i.end).sort().pop();
  return h("li", {}, h("strong", {}, group[0].title), h("br"),
    h("span", {}, end ? t("until", { date: formatDate(end) }) : t("open_end")));
}

export async function today() {
  const day = localToday();
  const { items } = await get(`/patients/${pid()}/timeline?from=${addDays(day, -60)}&to=${addDays(day, 60)}`);
  // Due today or overdue first, each with what to do about it; a missed checklist can no longer be answered.
  const dueNow = items.filter((i) => i.due && (i.status === "due" || i.status === "overdue") && i.due <= addDays(day, 7));
  dueNow.sort((a, b) => (a.status === "overdue" ? 0 : 1) - (b.status === "overdue" ? 0 : 1) || a.due.localeCompare(b.due));
  const running = items.filter((i) => !i.due && i.status === "due");
  const soon = items.filter((i) => i.due && i.status === "upcoming" && i.due <= addDays(day, 14));
  const nextBlood = items.find((i) => i.kind === "lab" && LAB_TESTS[i.code] && i.status === "upcoming" && i.due > day);
  show(
    h("h1", {}, t("today_title")),
    h("p", { class: "muted" }, formatDate(day, { weekday: "long", day: "numeric", month: "long", year: "numeric" })),
    h("section", { class: "card", "aria-labelledby": "due-title" }, h("h2", { id: "due-title" }, t("due_now")),
      dueNow.length ? h("ul", { class: "items todo" }, byCode(dueNow).map(todoLine)) : h("p", {}, t("nothing_due"))),
    running.length ? h("section", { class: "card", "aria-labelledby": "running-title" },
      h("h2", { id: "running-title" }, t("running")),
      h("ul", { class: "items" }, byCode(running).map(runningLine))) : null,
    soon.length ? h("section", { class: "card", "aria-labelledby": "soon-title" },
      h("h2", { id: "soon-title" }, t("coming_up")),
      h("ul", { class: "items" }, byCode(soon).map((g) => h("li", {}, h("strong", {}, g[0].title), h("br"),
        h("span", { class: "muted" }, formatDate(g[0].due, { weekday: "long", day: "numeric", month: "long" })))))) : null,
    nextBlood ? h("section", { class: "card", "aria-labelledby": "blood-title" },
      h("h2", { id: "blood-title" }, t("next_blood")), h("p", {}, formatDate(nextBlood.due))) : null,
    helpCard(),
    h("p", {}, h("a", { href: "#/timeline" }, t("whole_timeline"))));
}

/** Save in the outbox first (nothing typed is lost), then try to send. */
export async function submitThroughOutbox(path, body, onAnswer, status, button) {
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

const CHARTS = ["platelets", "neutrophils", "lymphocytes", "creatinine", "tsh", "alt", "ast", "bilirubin"];
const ENTRY = ["platelets", "neutrophils", "lymphocytes", "creatinine", "urine_blood", "urine_protein",
               "tsh", "alt", "ast", "bilirubin"];

/** Send one sample through the outbox (nothing typed is lost); ``onSaved`` with the answer,
 * ``onRefused`` with the error of a definitive refusal (then nothing is stored anywhere). */
async function sendSample(body, status, onSaved, onRefused) {
  const outbox = window.AlemtrackOutbox;
  await outbox.add(`/patients/${pid()}/labs`, body, state.me.id);
  const answer = (await outbox.flush())[body.client_id];
  if (answer && answer.status < 300) return onSaved(answer.body);
  if (answer) {
    await outbox.remove(body.client_id);  // she corrects it on this screen and sends it again
    return onRefused(answer.body?.error || {});
  }
  status.replaceChildren(h("p", { role: "status" }, t("saved_offline")));
  const whenSent = (event) => {
    const sent = event.detail[body.client_id];
    if (sent && sent.status < 300) { window.removeEventListener("outbox-flushed", whenSent); onSaved(sent.body); }
  };
  window.addEventListener("outbox-flushed", whenSent);
}

/** What was saved, in words, so that she sees at once the values and units the app stored. */
function savedCard(saved) {
  const analytes = state.texts.analytes;
  const lines = saved.results.map((r) => h("li", {}, h("strong", {}, analytes[r.analyte].name), " ",
    r.value === null ? t("sample_taken") : typeof r.value === "string" ? t(r.value) : withUnit(r.value, r.unit)));
  return h("section", { class: "card saved", role: "status", "aria-labelledby": "saved-title" },
    h("h2", { id: "saved-title" }, `✓ ${t(saved.kind === "sample" ? "sample_saved" : "result_saved")}`),
    h("p", {}, t("sample_of", { date: formatDate(saved.taken_on) })), h("ul", {}, lines),
    h("p", { class: "row" }, h("a", { class: "button secondary", href: "#/" }, t("back_to_today")),
      h("a", { class: "button secondary", href: "#/labs" }, t("record_another"))));
}

/** The lab screen. From the router: ``labs("sample", "lab.cbc")`` opens "I had this test" for that test. */
export async function labs(mode, test, on) {
  const valid = /^\d{4}-\d{2}-\d{2}$/.test(on || "") && on <= localToday();
  return labScreen({ sampleFor: mode === "sample" ? test : null, sampleOn: valid ? on : null });
}

async function labScreen({ saved = null, notice = null, sampleFor = null, sampleOn = null } = {}) {
  const { items, usual_units: usual } = await get(`/patients/${pid()}/labs`);
  const analytes = state.texts.analytes;
  const day = localToday();
  const date = h("input", { id: "taken_on", type: "date", required: true, value: day, max: day });
  const units = {}, fields = {};
  const inputs = ENTRY.map((code) => {
    const a = analytes[code];
    const id = `v-${code}`;
    if (a.kind === "qualitative") {
      fields[code] = h("select", { id, name: code }, h("option", { value: "" }, t("not_tested")),
        h("option", { value: "negative" }, t("negative")), h("option", { value: "positive" }, t("positive")));
      return h("div", { class: "entry" }, h("label", { for: id }, a.name), fields[code]);
    }
    // The unit the lab printed (CLINICAL.md 4.1), the clinic's usual one first.
    units[code] = unitSelect(code, `u-${code}`, usual?.[code] || a.unit, t("unit_of", { name: a.name }));
    fields[code] = h("input", { id, name: code, type: "text", inputmode: "decimal", autocomplete: "off",
                                "aria-describedby": `e-${code}` });
    return h("div", { class: "entry" }, h("label", { for: id }, a.name),
      h("div", { class: "value-unit" }, fields[code], units[code]), h("p", { id: `e-${code}`, class: "error field-error" }));
  });
  const status = h("div", { "aria-live": "polite" });
  const button = h("button", { type: "submit" }, t("save_results"));
  const form = h("form", { id: "lab-form", novalidate: true }, h("label", { for: "taken_on" }, t("taken_on")), date,
    h("p", { class: "hint" }, t("unit_hint")), inputs, h("p", {}, button), status);
  const clearErrors = () => {
    for (const code of ENTRY) {
      fields[code].removeAttribute("aria-invalid");
      document.getElementById(`e-${code}`)?.replaceChildren();
    }
    status.replaceChildren();
  };
  const refuse = (text, code) => {
    if (code && fields[code]) {
      fields[code].setAttribute("aria-invalid", "true");
      document.getElementById(`e-${code}`).textContent = text;
      fields[code].focus();
    }
    status.replaceChildren(h("p", { class: "error", role: "alert" }, text));
  };
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors();
    if (!date.value || date.value > localToday()) {
      refuse(t("refused_taken_on"));
      return date.focus();
    }
    const results = [];
    for (const code of ENTRY) {
      const raw = fields[code].value;
      if (raw === "") continue;
      if (analytes[code].kind === "qualitative") { results.push({ analyte: code, value: raw }); continue; }
      const value = parseDecimal(raw);
      if (Number.isNaN(value)) return refuse(t("not_a_number", { name: analytes[code].name, value: raw }), code);
      results.push({ analyte: code, value, unit: units[code].value });
    }
    if (!results.length) return refuse(t("nothing_typed"), ENTRY[0]);
    button.disabled = true;
    button.textContent = t("sending");
    const body = { client_id: uuid(), taken_on: date.value, results };
    await sendSample(body, status, (answer) => {
      const shown = { kind: "result", taken_on: body.taken_on, results };
      // An urgent or emergency result: the advice at once, before anything else.
      if (answer.advice) return show(h("h1", {}, t("labs_title")), labAdviceCard(answer.advice, answer.flags),
        h("p", {}, h("a", { class: "button secondary", href: "#/labs", onclick: (e) => { e.preventDefault(); labScreen({ saved: shown }); } }, t("back_to_results"))));
      labScreen({ saved: shown });
    }, (error) => {
      button.disabled = false;
      button.textContent = t("save_results");
      const refusal = refusalText(error, results);
      refuse(refusal.text, refusal.analyte);
    });
  });

  // "I had this test": the sample is taken, its result is still to come (the item counts as done).
  const sampleDate = h("input", { id: "sample_on", type: "date", required: true, value: sampleOn || day, max: day,
                                   "aria-describedby": sampleOn ? "sample-on-hint" : null });
  const checks = Object.keys(LAB_TESTS).map((code) => h("label", { class: "check" },
    h("input", { type: "checkbox", name: "tests", value: code, checked: code === sampleFor }),
    state.texts.items[code]?.title || code));
  const sampleStatus = h("div", { "aria-live": "polite" });
  const sampleButton = h("button", { type: "submit", class: "secondary" }, t("save_sample"));
  const sampleForm = h("form", { id: "sample-form", novalidate: true },
    h("label", { for: "sample_on" }, t("taken_on")),
    sampleOn ? h("p", { class: "hint", id: "sample-on-hint" }, t("sample_on_hint", { date: formatDate(sampleOn) })) : null, sampleDate,
    h("fieldset", {}, h("legend", {}, t("which_tests")), checks), h("p", {}, sampleButton), sampleStatus);
  sampleForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    sampleStatus.replaceChildren();
    const chosen = checks.map((c) => c.querySelector("input")).filter((i) => i.checked).map((i) => i.value);
    if (!sampleDate.value || sampleDate.value > localToday()) {
      sampleStatus.replaceChildren(h("p", { class: "error", role: "alert" }, t("refused_taken_on")));
      return sampleDate.focus();
    }
    if (!chosen.length) {
      sampleStatus.replaceChildren(h("p", { class: "error", role: "alert" }, t("choose_test")));
      return checks[0].querySelector("input").focus();
    }
    const results = chosen.flatMap((code) => LAB_TESTS[code]).map((analyte) => ({ analyte, value: null }));
    sampleButton.disabled = true;
    const body = { client_id: uuid(), taken_on: sampleDate.value, results };
    await sendSample(body, sampleStatus, () => labScreen({ saved: { kind: "sample", taken_on: body.taken_on, results } }),
      (error) => {
        sampleButton.disabled = false;
        sampleStatus.replaceChildren(h("p", { class: "error", role: "alert" }, refusalText(error, results).text));
      });
  });

  const trends = CHARTS.map((code) => chart(code, analytes[code], items.filter((r) => r.analyte === code),
    state.patient.baseline?.[code])).filter(Boolean);
  show(h("h1", {}, t("labs_title")),
    saved ? savedCard(saved) : null,
    notice ? h("p", { role: "status", class: "notice" }, `✓ ${notice}`) : null,
    h("section", { class: "card", "aria-labelledby": "record-title" }, h("h2", { id: "record-title" }, t("record_result")), form),
    h("section", { class: "card", id: "sample", "aria-labelledby": "sample-title" },
      h("h2", { id: "sample-title" }, t("had_test_title")), h("p", { class: "hint" }, t("had_test_explain")), sampleForm),
    h("h2", {}, t("your_results")),
    resultsList(pid(), items, (r) => r.patient_reported, (done) => labScreen({ notice: done }), t("entered_by_you")),
    h("h2", {}, t("trends")), trends.length ? trends : h("p", {}, t("no_results")));
  if (sampleFor) {
    document.getElementById("sample").scrollIntoView();
    sampleButton.focus();
  }
}

/** The month an item belongs to: its due date, or the start of its window. */
const monthOf = (item) => (item.due || item.start).slice(0, 7);

/** The timeline: every item to the end of monitoring, by kind and by month; or a month as an agenda. */
export async function timeline(view = "list", arg) {
  const { items, monitoring_ends: ends } = await get(`/patients/${pid()}/timeline`);
  const switcher = h("p", { class: "row" },
    h("a", { class: "button secondary", href: "#/timeline/list", "aria-current": view === "list" ? "page" : false }, t("as_list")),
    h("a", { class: "button secondary", href: "#/timeline/month", "aria-current": view === "month" ? "page" : false }, t("as_calendar")));
  const endLine = ends ? h("p", { class: "muted" }, t("monitoring_runs_until", { date: formatDate(ends) })) : null;
  if (view === "month") return monthAgenda(items, arg, switcher, endLine);
  const params = new URLSearchParams(arg || "");
  const kind = params.get("kind") || "";
  const period = params.get("period") || "ahead";
  const day = localToday();
  const kinds = [...new Set(items.map((i) => i.kind))];
  const inPeriod = (i) => {
    const last = i.due || i.end || "9999-12-31";
    return period === "all" ? true : period === "past" ? (i.due || i.start) < day : last >= day;
  };
  const chosen = items.filter((i) => (!kind || i.kind === kind) && inPeriod(i));
  if (period === "past") chosen.reverse();
  const kindSelect = h("select", { id: "kind" }, h("option", { value: "" }, t("all_kinds")),
    kinds.map((k) => h("option", { value: k, selected: k === kind }, state.texts.kinds[k] || k)));
  const periodSelect = h("select", { id: "period" }, ["ahead", "past", "all"].map((p) =>
    h("option", { value: p, selected: p === period }, t(`period_${p}`))));
  const apply = () => { location.hash = `#/timeline/list/${new URLSearchParams({ kind: kindSelect.value, period: periodSelect.value })}`; };
  kindSelect.addEventListener("change", apply);
  periodSelect.addEventListener("change", apply);
  const months = new Map();
  for (const item of chosen) {
    if (!months.has(monthOf(item))) months.set(monthOf(item), []);
    months.get(monthOf(item)).push(item);
  }
  // A year of months at a time, and always saying how many are left: never a silent cut.
  const list = h("div", { class: "months" });
  const keys = [...months.keys()];
  let drawn = 0;
  const more = h("button", { type: "button", class: "secondary" });
  const left = h("p", { class: "muted", role: "status" });
  const drawMore = () => {
    for (const key of keys.slice(drawn, drawn + 12)) {
      list.append(h("section", { class: "month", "aria-labelledby": `m-${key}` },
        h("h2", { id: `m-${key}`, tabindex: "-1" }, formatDate(`${key}-01`, { month: "long", year: "numeric" })),
        h("ul", { class: "items" }, months.get(key).map(itemLine))));
    }
    drawn = Math.min(keys.length, drawn + 12);
    const rest = keys.slice(drawn).reduce((n, key) => n + months.get(key).length, 0);
    left.textContent = rest ? tn("items_left", rest, { date: formatDate(`${keys[keys.length - 1]}-01`, { month: "long", year: "numeric" }) })
      : tn("list_complete", chosen.length);
    if (!rest) more.remove();  // (the hidden attribute loses to the buttons' display rule)
    more.textContent = t("show_next_year");
  };
  more.addEventListener("click", () => { const from = drawn; drawMore(); document.getElementById(`m-${keys[from]}`)?.focus(); });
  drawMore();
  show(h("h1", {}, t("timeline_title")), switcher, endLine,
    h("div", { class: "filters" },
      h("div", {}, h("label", { for: "kind" }, t("kind")), kindSelect),
      h("div", {}, h("label", { for: "period" }, t("period")), periodSelect)),
    chosen.length ? list : h("p", {}, t("nothing_here")), left, h("p", {}, more));
}

/** A month as an agenda: each day that has something, with its weekday; today marked in words. */
function monthAgenda(items, month, switcher, endLine) {
  const day = localToday();
  const first = `${month || day.slice(0, 7)}-01`;
  const [y, m] = first.split("-").map(Number);
  const days = new Date(Date.UTC(y, m, 0)).getUTCDate();
  const entries = [];
  for (let d = 1; d <= days; d++) {
    const iso = `${first.slice(0, 8)}${String(d).padStart(2, "0")}`;
    const here = items.filter((i) => i.due === iso || i.start === iso || (i.end === iso && i.start !== iso));
    if (!here.length && iso !== day) continue;
    const isToday = iso === day;
    entries.push(h("li", { class: isToday ? "day today" : "day", "aria-current": isToday ? "date" : false },
      h("h3", {}, formatDate(iso, { weekday: "long", day: "numeric", month: "long" }),
        isToday ? h("span", { class: "today-mark" }, ` · ${t("today_title")}`) : null),
      here.length ? h("ul", {}, here.map((i) => h("li", {},
        h("span", {}, i.title, !i.due ? h("span", { class: "muted" }, ` (${t(i.start === iso ? "window_starts" : "window_ends")})`) : null),
        " ", statusBadge(i.status)))) : h("p", { class: "muted" }, t("nothing_this_day"))));
  }
  const shift = (delta) => { const d = new Date(Date.UTC(y, m - 1 + delta, 1)); return d.toISOString().slice(0, 7); };
  const name = (delta) => formatDate(`${shift(delta)}-01`, { month: "long", year: "numeric" });
  show(h("h1", {}, t("timeline_title")), switcher, endLine,
    h("h2", { id: "month-title" }, formatDate(first, { month: "long", year: "numeric" })),
    h("nav", { class: "row month-nav", "aria-label": t("months") },
      h("a", { class: "button secondary", href: `#/timeline/month/${shift(-1)}`, "aria-label": `${t("previous")}: ${name(-1)}` }, `← ${t("previous")}`),
      h("a", { class: "button secondary", href: `#/timeline/month/${shift(1)}`, "aria-label": `${t("next")}: ${name(1)}` }, `${t("next")} →`)),
    entries.length ? h("ul", { class: "agenda", "aria-labelledby": "month-title" }, entries) : h("p", {}, t("nothing_this_month")));
}

export async function settings() {
  const p = state.patient;
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
  show(
    h("h1", {}, t("settings_title")),
    await notificationsCard(), calendarCard(pid()),
    h("section", { class: "card" }, h("h2", {}, t("settings_title")),
      h("label", { for: "detailed", class: "row" }, detailed, t("detailed")),
      h("label", { for: "language" }, t("language")), language,
      h("p", {}, h("button", { type: "button", onclick: save }, t("save"))), h("p", { id: "settings-saved", role: "status" }), saved),
    familyCard(members, async (done) => {
      await settings();
      const card = document.getElementById("family");
      card.querySelector("h2").after(h("p", { role: "status", class: "notice" }, `✓ ${done}`));
      card.querySelector("button")?.focus();
    }),
    passwordCard(),
    h("p", {}, h("a", { class: "button secondary", href: `/api/v1/patients/${pid()}/export`, download: "alemtrack.json" }, t("export"))));
}
