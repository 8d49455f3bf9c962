// Family (CLINICAL.md 6): the patient invites, sees and removes family members and chooses
// what each one sees; a family member sees the shared reminders with their status, what is
// next, whom to call, and their own notification and calendar settings.
import { ApiError, api, get } from "../api.js";
import { h, localToday, show } from "../dom.js";
import { apiErrorText, formatDate, t, tn } from "../i18n.js";
import { state } from "../app.js";
import { calendarCard, notificationsCard } from "../push.js";
import { codeWithLink, passwordCard } from "./start.js";
import { byCode, helpCard } from "./patient.js";

/** Kinds shared unless the patient says otherwise: they reveal no finding (CLINICAL.md 6, v2). */
const DEFAULT_SHARES = ["checklist", "appointment", "task", "medication", "diet", "safety"];
const ICON = { upcoming: "○", due: "●", done: "✓", overdue: "!", missed: "✕" };
const addDays = (iso, days) => { const d = new Date(iso + "T00:00:00Z"); d.setUTCDate(d.getUTCDate() + days); return d.toISOString().slice(0, 10); };

/** An item's status as an icon and a word, never colour alone (the patient's screens use it too). */
export function statusBadge(status) {
  return h("span", { class: `badge status-${status}` }, h("span", { "aria-hidden": "true" }, `${ICON[status]} `), t(`status_${status}`));
}

// --- the patient's side: her family card in settings ------------------------------------

/** The settings card of the patient's family: each member with what they see, an invite. */
export function familyCard(members, redraw) {
  const pid = state.me.patient_id;
  const kinds = Object.keys(state.texts.kinds);
  const inviteOut = h("div", { "aria-live": "polite" });
  const member = (m, n) => {
    const status = h("p", { role: "status", class: "notice" });
    const box = (kind) => h("label", { class: "check" },
      h("input", { type: "checkbox", name: `share-${n}`, value: kind, checked: m.shares.includes(kind) }), state.texts.kinds[kind]);
    const group = (legend, list, hint) => list.length ? h("fieldset", {}, h("legend", {}, legend),
      hint ? h("p", { class: "hint" }, hint) : null, list.map(box)) : null;
    const form = h("form", { class: "shares", "aria-labelledby": `member-${n}` },
      group(t("shares_default"), kinds.filter((k) => DEFAULT_SHARES.includes(k))),
      group(t("shares_private"), kinds.filter((k) => !DEFAULT_SHARES.includes(k)), t("shares_private_hint")),
      h("p", { class: "row" }, h("button", { type: "submit" }, t("save_shares")),
        h("button", { type: "button", class: "secondary", onclick: () => confirmRemove() }, t("remove"))),
      status);
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const shares = [...form.querySelectorAll("input[type=checkbox]:checked")].map((i) => i.value);
      try {
        const saved = await api("PUT", `/patients/${pid}/family/${m.user_id}/shares`, { shares });
        m.shares = saved.shares;
        status.textContent = t("shares_saved", { email: m.email });
      } catch (e) {
        status.replaceChildren(h("span", { class: "error", role: "alert" }, t("rejected", { error: apiErrorText(e) })));
      }
    });
    const confirmBox = h("div", { "aria-live": "polite" });
    const confirmRemove = () => {
      const yes = h("button", { type: "button", onclick: async () => {
        await api("DELETE", `/patients/${pid}/family/${m.user_id}`);
        redraw(t("member_removed", { email: m.email }));
      } }, t("remove_yes"));
      confirmBox.replaceChildren(h("p", {}, t("remove_confirm", { email: m.email })),
        h("p", { class: "row" }, yes, h("button", { type: "button", class: "secondary", onclick: () => confirmBox.replaceChildren() }, t("cancel"))));
      yes.focus();
    };
    return h("li", { class: "member" }, h("h3", { id: `member-${n}` }, m.email),
      h("p", { class: "muted" }, t("member_since", { date: formatDate(m.created_at) })), form, confirmBox);
  };
  return h("section", { class: "card", id: "family", "aria-labelledby": "family-title" },
    h("h2", { id: "family-title" }, t("family")), h("p", {}, t("family_explain_v2")),
    members.length ? h("ul", { class: "items members" }, members.map(member)) : h("p", {}, t("no_family")),
    h("button", { type: "button", onclick: async () => {
      const invite = await api("POST", `/patients/${pid}/family-invites`);
      inviteOut.replaceChildren(codeWithLink(invite.code, invite.expires_at, "invite_code"));
    } }, t("invite")), inviteOut);
}

// --- the family member's side ------------------------------------------------------------

/** The name of the patient last seen on this screen: the screen that says sharing has ended
 * names her (the relative knew it; it says nothing of her health). */
let lastName = null;

/** The patient's sharing with this relative ended while the app was open (the server
 * answers 404: she revoked the link, or erased her account). */
class Revoked extends Error {}

async function linked() {
  const id = state.me.patient_id;
  if (!id) return null;
  try {
    const view = await get(`/patients/${id}/family/me`);
    lastName = view.display_name;
    return view;
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) throw new Revoked();
    throw e;
  }
}

/** A plain screen, nothing of her health: sharing has ended; the way out is to log out. */
function revoked() {
  show(h("h1", { tabindex: "-1", id: "revoked-title" },
    lastName ? t("revoked_title", { name: lastName }) : t("revoked_title_anon")),
    h("p", {}, t("revoked_body")),
    h("p", {}, h("a", { class: "button", href: "#/logout" }, t("logout"))));
  document.getElementById("revoked-title").focus();
}

function noLink() {
  show(h("h1", {}, t("nav_reminders")), h("p", {}, t("no_link")));
}

/** One line per item code (several courses' windows are one line), with its status in words. */
function lines(items, day, told) {
  return byCode(items).map((group) => {
    const item = group[0];
    const when = item.due ? formatDate(item.due, { weekday: "long", day: "numeric", month: "long" })
      : group.some((i) => !i.end) ? t("open_end_family")
      : t("until", { date: formatDate(group.map((i) => i.end).sort().pop()) });
    const overdue = group.filter((i) => i.status === "overdue").length;
    return h("li", {}, h("strong", {}, item.title), " ", statusBadge(overdue ? "overdue" : item.status), h("br"),
      h("span", { class: "muted" }, when, overdue > 1 ? ` · ${tn("overdue_count", overdue)}` : ""),
      item.due === day ? h("span", { class: "today-mark" }, ` · ${t("today_title")}`) : null,
      detail(item, told));
  });
}

/** What a safety item asks of a relative (the early signs of CMV), said once on the screen. */
function detail(item, told) {
  if (!item.detail || item.kind !== "safety" || told.has(item.code)) return null;
  told.add(item.code);
  return h("p", { class: "detail" }, item.detail);
}

export async function reminders() {
  let view, items;
  const day = localToday();
  try {
    view = await linked();
    if (!view) return noLink();
    ({ items } = await get(`/patients/${view.patient_id}/timeline?from=${addDays(day, -14)}&to=${addDays(day, 60)}`));
  } catch (e) {
    if (e instanceof Revoked || (e instanceof ApiError && e.status === 404)) return revoked();
    throw e;
  }
  const weekEnd = addDays(day, 7);
  // Today: what is due now or overdue, and the windows running today; this week; later.
  const now = items.filter((i) => (i.due ? i.due <= day && (i.status === "due" || i.status === "overdue")
    : i.start <= day && (!i.end || i.end >= day)));
  const week = items.filter((i) => (i.due || i.start) > day && (i.due || i.start) <= weekEnd);
  const later = items.filter((i) => (i.due || i.start) > weekEnd);
  const told = new Set();
  const section = (id, title, list, empty) => h("section", { class: "card", "aria-labelledby": id },
    h("h2", { id }, title), list.length ? h("ul", { class: "items" }, lines(list, day, told)) : h("p", {}, empty));
  const next = items.find((i) => (i.due || i.start) > day);
  show(h("h1", {}, t("family_title", { name: view.display_name })),
    h("p", { class: "muted" }, t("family_sees", { kinds: view.shares.map((k) => state.texts.kinds[k] || k).join(", ") })),
    next ? h("p", { class: "next" }, h("strong", {}, t("whats_next")), " ", next.title, " · ",
      formatDate(next.due || next.start, { weekday: "long", day: "numeric", month: "long" })) : null,
    section("today-title", t("family_today"), now, t("nothing_due")),
    section("week-title", t("family_week"), week, t("nothing_week")),
    section("later-title", t("family_later"), later, t("nothing_later")),
    helpCard(view.clinic, "family_call_team"));
}

/** The family member's own settings: notifications on this device, a calendar link, the password. */
export async function settings() {
  // Their own account stays theirs when the sharing has ended: only the calendar link goes.
  const view = await linked().catch((e) => { if (e instanceof Revoked) return null; throw e; });
  show(h("h1", {}, t("settings_title")), h("p", {}, state.me.email),
    await notificationsCard(), view ? calendarCard(view.patient_id) : null, passwordCard());
}
