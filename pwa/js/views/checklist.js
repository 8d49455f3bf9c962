// The monthly symptom checklist (CLINICAL.md section 3): every question with no
// answer chosen for her, "why we ask" beside it, a review step, then the advice at
// once; and her past checklists with what the care team did.
import { get } from "../api.js";
import { h, localToday, show, telLink, uuid } from "../dom.js";
import { apiErrorText, formatDate, formatInstant, formatNumber, t, tn } from "../i18n.js";
import { state } from "../app.js";

const pid = () => state.me.patient_id;
const PATH = () => `/patients/${pid()}/checklists`;
/** Levels at which the care team gets a flag (CLINICAL.md 3: soon and above). */
const FLAGGED = ["emergency", "urgent", "soon"];

function levelBadge(level) {
  return h("span", { class: `badge level-${level}` }, state.texts.levels[level].name);
}

function phones(level) {
  const clinic = state.patient.clinic;
  return [
    level === "emergency" ? telLink(clinic.emergency_number, t("call_emergency", { number: clinic.emergency_number })) : null,
    telLink(clinic.phone, t("call_team", { phone: clinic.phone })),
  ];
}

/** The result of a sent checklist: level, advice, the numbers to call, and whether the team was told. */
function resultCard(result, later = false) {
  const advice = result.advice;
  return h("section", { class: "card result", role: "alert", "aria-labelledby": "result-title" },
    later ? h("p", {}, t("cl_sent_later")) : null,
    h("h2", { id: "result-title" }, t("result"), " ", levelBadge(advice.level)),
    h("p", {}, advice.text),
    advice.level === "emergency" ? telLink(advice.emergency_number, t("call_emergency", { number: advice.emergency_number })) : null,
    telLink(advice.phone, t("call_team", { phone: advice.phone })),
    FLAGGED.includes(advice.level) && result.flag_id ? h("p", { class: "told" }, t("cl_team_told")) : null);
}

/** What the care team did, in her words. */
function teamLine(item) {
  const team = item.team;
  if (!team) return t(item.level === "none" ? "cl_team_none" : "cl_team_routine");
  if (team.status === "read") return t("cl_team_read", { when: formatInstant(team.read_at) });
  if (team.status === "resolved") {
    const key = `cl_out_${team.outcome}`;
    return t("cl_team_resolved", { when: formatInstant(team.resolved_at), outcome: t(key) === key ? t("cl_out_other") : t(key) });
  }
  if (team.status === "acknowledged") return t("cl_team_ack", { when: formatInstant(team.acknowledged_at) });
  return t("cl_team_open");
}

/** The questions she answered yes to, each with the signs it lists. */
function yesList(questions) {
  return h("ul", { class: "yes" }, questions.map((q) => h("li", {}, q.text,
    q.signs && q.signs.length ? h("ul", {}, q.signs.map((sign) => h("li", {}, sign))) : null)));
}

function historySection(items) {
  return h("section", { "aria-labelledby": "history-title", class: "history" },
    h("h2", { id: "history-title" }, t("cl_history")),
    items.length ? h("ul", { class: "items" }, items.map((item) => h("li", {},
      h("h3", {}, t("cl_answered_on", { date: formatDate(item.answered_on) })),
      h("p", {}, levelBadge(item.level)),
      item.yes.length ? [h("p", {}, t("cl_yes_to")), yesList(item.yes)]
        : h("p", {}, t("cl_all_no")),
      item.note ? h("p", {}, t("cl_your_note"), " ", h("q", {}, item.note)) : null,
      h("p", { class: "team" }, teamLine(item)))))
      : h("p", {}, t("cl_history_none")));
}

/** Her checklists still on this phone (not sent yet, or refused by the server). */
async function unsent() {
  const outbox = window.AlemtrackOutbox;
  if (!outbox) return [];
  return (await outbox.of(state.me.id)).filter((entry) => entry.path === PATH());
}

function unsentCard(entry, redraw) {
  const date = formatDate(entry.body.answered_on);
  if (entry.status === "rejected") {
    const error = apiErrorText(entry.answer || { status: 400 });
    return h("section", { class: "card", "aria-labelledby": "unsent-title" },
      h("h2", { id: "unsent-title", class: "error" }, t("cl_rejected", { date, error })),
      h("button", { type: "button", class: "secondary", onclick: async () => {
        await window.AlemtrackOutbox.remove(entry.client_id); redraw(); } }, t("cl_discard")));
  }
  return h("section", { class: "card", "aria-labelledby": "unsent-title" },
    h("h2", { id: "unsent-title" }, t("cl_unsent_title")), h("p", {}, t("cl_pending", { date })),
    h("p", {}, t("cl_pending_call")), phones("urgent"));
}

export async function checklist(view) {
  const [current, { items: past }, waiting] = await Promise.all([get(`/patients/${pid()}/checklist`), get(PATH()), unsent()]);
  const title = h("h1", {}, t("checklist_title"));
  const pending = waiting.find((entry) => entry.status === "pending");
  const rejected = waiting.filter((entry) => entry.status === "rejected");
  if (current.submitted || pending) {
    show(title, pending ? unsentCard(pending, checklist) : h("p", {}, t("already_sent")),
      rejected.map((entry) => unsentCard(entry, checklist)), historySection(past));
    if (view === "history") document.getElementById("history-title").scrollIntoView();
    return;
  }
  const questions = current.questions;
  const signs = (q, n) => q.signs && q.signs.length
    ? h("ul", { class: "signs", id: `q-${n}-signs` }, q.signs.map((sign) => h("li", {}, sign))) : null;
  const alerts = {};
  // A question about emergency signs is a short lead question and a list of short
  // signs; a list cannot go inside a legend, so the group is described by it.
  const fields = questions.map((q, n) => {
    alerts[q.code] = h("div", { "aria-live": "assertive" });
    return h("fieldset", { class: q.signs && q.signs.length ? "has-signs" : null, "aria-describedby": q.signs && q.signs.length ? `q-${n}-signs` : null, id: `f-${n}` },
      h("legend", { id: `q-${n}` }, q.text),
      signs(q, n),
      h("div", { class: "choices" },
        h("label", {}, h("input", { type: "radio", name: q.code, value: "yes" }), t("yes")),
        h("label", {}, h("input", { type: "radio", name: q.code, value: "no" }), t("no"))),
      alerts[q.code],
      h("details", {}, h("summary", {}, t("why")), h("p", {}, q.why)));
  });
  const note = h("textarea", { id: "note", name: "note", rows: 3, maxlength: 2000, "aria-describedby": "note-hint" });
  const progressBar = h("progress", { max: questions.length, value: 0, "aria-labelledby": "progress-text" });
  const progressText = h("span", { id: "progress-text" });
  // The sticky progress line also says what is missing: she sees it at the question she is sent to.
  const problem = h("div", { "aria-live": "polite", class: "problem" });
  const progress = h("div", { class: "progress" }, progressText, progressBar, problem);
  const form = h("form", { novalidate: true }, fields, h("label", { for: "note" }, t("note")),
    h("p", { id: "note-hint", class: "hint" }, t("note_hint")), note,
    h("p", {}, h("button", { type: "submit" }, t("cl_review"))));
  const answerOf = (code) => form.elements[code].value;  // "yes", "no" or "" (not answered)
  const update = () => {
    const done = questions.filter((q) => answerOf(q.code)).length;
    progressBar.value = done;
    progressText.textContent = tn("cl_progress", questions.length, { done: formatNumber(done) });
  };
  form.addEventListener("change", (event) => {
    const q = questions.find((x) => x.code === event.target.name);
    update();
    if (!q) return;
    problem.replaceChildren();
    event.target.closest("fieldset").classList.remove("missing");
    // A "yes" to an emergency sign needs the call now, not after the remaining questions.
    const emergency = q.level === "emergency";
    alerts[q.code].replaceChildren(...(emergency && answerOf(q.code) === "yes" ? [h("p", { class: "error urgent-now" },
      t("cl_emergency_now", { number: state.patient.clinic.emergency_number })), phones("emergency")[0]] : []));
  });
  const screen = h("div", {});
  const toForm = (focus) => {
    screen.replaceChildren(title, h("p", {}, t("cl_intro")), progress, form);
    document.title = `${title.textContent} · Alemtrack`;
    if (focus) focus.focus();
  };
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const missing = questions.map((q, n) => [q, n]).filter(([q]) => !answerOf(q.code));
    if (missing.length) {
      for (const [, n] of missing) document.getElementById(`f-${n}`).classList.add("missing");
      problem.replaceChildren(h("p", { class: "error", role: "alert" }, tn("cl_missing", missing.length)));
      form.elements[missing[0][0].code][0].focus();
      return;
    }
    review();
  });
  const review = () => {
    const yes = questions.filter((q) => answerOf(q.code) === "yes");
    const status = h("div", { "aria-live": "polite" });
    const send = h("button", { type: "button" }, t("cl_send"));
    const change = h("button", { type: "button", class: "secondary" }, t("cl_change"));
    const heading = h("h2", { id: "review-title", tabindex: "-1" }, t("cl_review_title"));
    change.addEventListener("click", () => toForm(form.elements[questions[0].code][0]));
    send.addEventListener("click", async () => {
      send.disabled = true;
      change.disabled = true;
      send.textContent = t("sending");
      const answers = Object.fromEntries(questions.map((q) => [q.code, answerOf(q.code) === "yes"]));
      const body = { client_id: uuid(), answered_on: localToday(), answers, note: note.value.trim() || null };
      await sendThroughOutbox(body, status, send, change);
    });
    screen.replaceChildren(title, h("section", { class: "card review", "aria-labelledby": "review-title" }, heading,
      yes.length ? [h("p", {}, t("cl_yes_to")), yesList(yes)]
        : h("p", {}, t("cl_all_no")),
      note.value.trim() ? h("p", {}, t("cl_your_note"), " ", h("q", {}, note.value.trim())) : h("p", {}, t("cl_no_note")),
      h("p", { class: "row" }, send, change), status));
    heading.focus();
  };
  update();
  toForm(null);
  show(screen, historySection(past));
}

/** Keep the checklist in the outbox first (nothing answered is lost), then try to
 * send it: the result at once when online; offline, say it will go, and show the
 * result when it has gone (the app or the service worker sends it). */
async function sendThroughOutbox(body, status, send, change) {
  const outbox = window.AlemtrackOutbox;
  await outbox.add(PATH(), body, state.me.id);
  const answers = await outbox.flush();
  const answer = answers[body.client_id];
  const done = (result, later) => {
    show(h("h1", {}, t("checklist_title")), resultCard(result, later),
      h("p", { class: "row" }, h("a", { href: "#/checklist/history" }, t("cl_history")), h("a", { href: "#/" }, t("nav_today"))));
    // Drawn from the server's answer: the screen is current again.
    window.dispatchEvent(new CustomEvent("alemtrack-freshness", { detail: { storedAt: null } }));
  };
  if (answer && answer.status < 300) return done(answer.body, false);
  if (answer) {
    send.disabled = false;
    change.disabled = false;
    send.textContent = t("cl_send");
    await outbox.remove(body.client_id);  // refused: she can change and send again from here
    status.replaceChildren(h("p", { class: "error", role: "alert" },
      apiErrorText({ status: answer.status, code: answer.body?.error?.code, field: answer.body?.error?.field })));
    return;
  }
  send.remove();
  change.remove();
  status.replaceChildren(h("p", { role: "status" }, t("cl_offline_saved")), ...phones("urgent"));
  if ("serviceWorker" in navigator && "SyncManager" in window) {
    const registration = await navigator.serviceWorker.ready;
    try { await registration.sync.register("outbox"); } catch (e) { /* the app replays when online */ }
  }
  const whenSent = (event) => {
    const sent = event.detail[body.client_id];
    if (!sent) return;
    window.removeEventListener("outbox-flushed", whenSent);
    // Only if she is still on the checklist: another screen is not taken from her.
    if (!location.hash.startsWith("#/checklist")) return;
    if (sent.status < 300) done(sent.body, true);
    else status.replaceChildren(h("p", { class: "error", role: "alert" }, apiErrorText({ status: sent.status,
      code: sent.body?.error?.code, field: sent.body?.error?.field })));
  };
  window.addEventListener("outbox-flushed", whenSent);
}
