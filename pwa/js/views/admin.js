// The clinic's administrator (issue 17): the clinic's details and clinical settings,
// staff accounts, the audit log and who the reminders reach. Admins only: the server
// refuses every one of these routes to a nurse.
import { ApiError, api, get } from "../api.js";
import { h, show } from "../dom.js";
import { formatDate, formatNumber, language, t, tn } from "../i18n.js";
import { state } from "../app.js";
import { showUnit } from "./labs.js";

const TABS = [["clinic", "tab_settings"], ["staff", "tab_staff"], ["audit", "tab_audit"], ["delivery", "tab_delivery"]];

function tabs(here) {
  return h("nav", { class: "tabs", "aria-label": t("admin_sections") }, h("ul", {}, TABS.map(([path, key]) =>
    h("li", {}, h("a", { href: `#/${path}`, "aria-current": path === here ? "page" : false }, t(key))))));
}

function say(holder, text, kind = "notice") {
  holder.replaceChildren(h("p", { class: kind, role: kind === "error" ? "alert" : "status" }, text));
}

const instant = (iso) => new Intl.DateTimeFormat(language(), { dateStyle: "medium", timeStyle: "short" }).format(new Date(iso));

// --- the clinic and its settings ------------------------------------------------------

function clinicCard(clinic) {
  const input = (id, value, max) => h("input", { id, value, maxlength: max, autocomplete: "off" });
  const name = input("clinic-name", clinic.name, 200);
  const phone = input("clinic-phone", clinic.phone, 40);
  const emergency = input("clinic-emergency", clinic.emergency_number, 20);
  phone.type = "tel"; emergency.type = "tel";
  const out = h("div", { "aria-live": "polite" });
  const save = async (event) => {
    event.preventDefault();
    try {
      await api("PATCH", "/clinic", { name: name.value, phone: phone.value, emergency_number: emergency.value });
      say(out, t("clinic_saved"));
    } catch (e) { say(out, e instanceof ApiError && e.status === 400 ? t("err_clinic") : t("err_generic"), "error"); }
  };
  return h("section", { class: "card", "aria-labelledby": "clinic-title" }, h("h2", { id: "clinic-title" }, t("clinic_details")),
    h("form", { onsubmit: save, novalidate: true },
      h("label", { for: "clinic-name" }, t("clinic_name")), name,
      h("div", { class: "pair" }, h("div", {}, h("label", { for: "clinic-phone" }, t("clinic_phone")), phone),
        h("div", {}, h("label", { for: "clinic-emergency" }, t("clinic_emergency")), emergency)),
      h("p", {}, h("button", { type: "submit" }, t("save_clinic"))), out));
}

/** The input of one setting by its type (content/settings.toml), holding ``value``;
 * ``read()`` gives the value as the API takes it. */
function settingInput(id, data, value) {
  if (data.type === "bool") {
    const select = h("select", { id }, h("option", { value: "true", selected: value === true }, t("setting_on")),
      h("option", { value: "false", selected: value === false }, t("setting_off")));
    return { node: select, read: () => select.value === "true", focus: select };
  }
  if (data.type === "choice") {
    // Units as the lab pages write them (10⁹/L, µmol/L); other choices as content/ names them.
    const shown = (c) => (id.startsWith("setting-lab-unit-") ? showUnit(c) : c);
    const select = h("select", { id }, data.choices.map((c) => h("option", { value: c, selected: c === value }, shown(c))));
    return { node: select, read: () => select.value, focus: select };
  }
  if (data.type === "int" || data.type === "number") {
    const input = h("input", { id, type: "number", value: value ?? "", min: data.min ?? false, max: data.max ?? false,
                               step: data.type === "int" ? "1" : "any", inputmode: data.type === "int" ? "numeric" : "decimal" });
    return { node: input, read: () => (input.value === "" ? null : Number(input.value)), focus: input };
  }
  if (data.type === "time_range") {
    const [start, end] = String(value || "-").split("-");
    const from = h("input", { id, type: "time", value: start || "" });
    const to = h("input", { id: `${id}-to`, type: "time", value: end || "", "aria-label": `${t("setting_to")}` });
    return { node: h("div", { class: "row" }, from, h("span", { "aria-hidden": "true" }, "–"), to),
             read: () => `${from.value}-${to.value}`, focus: from };
  }
  const input = h("input", { id, type: data.type === "time" ? "time" : data.type === "date" ? "date" : "text", value: value ?? "" });
  return { node: input, read: () => input.value || null, focus: input };
}

/** A lab unit setting's words with its units as people read them. */
const unitsShown = (name, text) => (name.startsWith("lab_unit.") ? String(text).replace(/[^\s,“”"]+/g, showUnit) : text);

function settingCard(row, current, sources, save) {
  const { cells, data } = row;
  const name = cells.setting;
  const changed = Object.prototype.hasOwnProperty.call(current.settings, name);
  const id = `setting-${name.replace(/[^a-z0-9]+/gi, "-")}`;
  const input = settingInput(id, data, current.effective[name]);
  const out = h("div", { "aria-live": "polite" });
  const [what, ...more] = Array.isArray(cells.changes) ? cells.changes : [cells.changes];
  const citation = (c) => {
    const key = Object.keys(sources).filter((k) => c.startsWith(k)).sort((a, b) => b.length - a.length)[0];
    return h("li", {}, c, key && sources[key] !== c ? h("span", { class: "muted" }, ` — ${sources[key]}`) : null);
  };
  return h("section", { class: "card setting", "aria-labelledby": `${id}-title`, "data-setting": name },
    h("h3", { id: `${id}-title` }, what),
    h("p", { class: "setting-meta" }, h("code", {}, name), " ",
      h("span", { class: changed ? "badge status-due" : "badge" }, t(changed ? "setting_changed" : "setting_is_default"))),
    more.map((line) => h("p", { class: "muted" }, line)),
    h("label", { for: id }, t("setting_current")), input.node,
    h("p", { class: "hint" }, t("setting_default", { value: unitsShown(name, cells.default) }),
      cells.values && cells.values !== "—" ? ` · ${t("setting_allowed", { values: unitsShown(name, cells.values) })}` : ""),
    h("details", {}, h("summary", {}, t("setting_source")), h("ul", {}, data.source.map(citation))),
    h("p", { class: "row" },
      h("button", { type: "button", class: "small", onclick: () => save(name, input.read(), out, input.focus, cells.values) },
        t("setting_save")),
      changed ? h("button", { type: "button", class: "small secondary", onclick: () => save(name, null, out, input.focus, cells.values) },
        t("setting_reset")) : null),
    out);
}

/** The clinic's details and every site setting of the clinical rules: what it changes,
 * its default, what it may be and its source (the protocol sheet), and this clinic's value. */
export async function settings(notice) {
  const [clinic, current, sheet] = await Promise.all([get("/clinic"), get("/clinic/settings"),
    get(`/protocol?language=${language()}`)]);
  const section = sheet.sections.find((s) => s.key === "settings");
  const sources = Object.fromEntries((sheet.sections.find((s) => s.key === "sources")?.rows || [])
    .map((r) => [r.cells.code, r.cells.title]));
  const save = async (name, value, out, focus, allowed) => {
    const overrides = { ...current.settings };
    if (value === null) delete overrides[name]; else overrides[name] = value;
    try {
      await api("PUT", "/clinic/settings", { settings: overrides });
      await settings({ name, text: t("setting_saved") });
    } catch (e) {
      say(out, e instanceof ApiError && e.status === 400 ? t("err_setting", { allowed: allowed && allowed !== "—"
        ? t("setting_allowed", { values: allowed }) : "" }) : t("err_generic"), "error");
      focus.setAttribute("aria-invalid", "true");
      focus.focus();
    }
  };
  show(h("h1", {}, t("clinic_settings_title")), tabs("clinic"), clinicCard(clinic),
    h("h2", {}, t("clinic_settings_title")), h("p", {}, t("settings_intro")),
    h("div", { class: "settings-grid" }, section.rows.map((row) => settingCard(row, current, sources, save))));
  if (notice) {
    const card = document.querySelector(`[data-setting="${CSS.escape(notice.name)}"]`);
    if (card) {
      const out = card.querySelector("[aria-live]");
      say(out, notice.text);
      card.scrollIntoView({ block: "center" });
      card.querySelector("button").focus({ preventScroll: true });
    }
  }
}

// --- staff accounts ---------------------------------------------------------------------

function staffError(e) {
  if (!(e instanceof ApiError)) return t("err_network");
  if (e.code === "email_taken") return t("err_staff_email_taken");
  if (e.code === "own_account") return t("err_own_account");
  if (e.field === "email") return t("err_staff_email");
  return t("err_generic");
}

function codeShown(text, code, how) {
  return h("div", { class: "code-block" }, h("p", {}, text), h("p", {}, h("strong", { class: "code", "data-code": code }, code)),
    how ? h("p", {}, how) : null);
}

/** The clinic's nurses and admins: invite one, change a role, disable or enable, a new code. */
export async function staff(message) {
  const { items } = await get("/staff");
  const out = h("div", { "aria-live": "polite" });
  const email = h("input", { id: "staff-email", type: "email", autocomplete: "off", maxlength: 254 });
  const role = h("select", { id: "staff-role" }, ["nurse", "admin"].map((r) => h("option", { value: r }, t(`role_${r}`))));
  const change = async (member, body) => {
    if (body.active === false && !window.confirm(t("staff_confirm_disable", { email: member.email }))) return;
    try {
      await api("PATCH", `/staff/${member.id}`, body);
      await staff(h("p", { class: "notice", role: "status" }, t("staff_changed", { email: member.email })));
    } catch (e) { say(out, staffError(e), "error"); }
  };
  const newCode = async (member) => {
    try {
      const c = await api("POST", `/staff/${member.id}/code`);
      out.replaceChildren(codeShown(t("staff_code_for", { email: member.email, date: instant(c.expires_at) }), c.code,
        t("staff_invited_how")));
    } catch (e) { say(out, staffError(e), "error"); }
  };
  const invite = async (event) => {
    event.preventDefault();
    if (!email.value.trim() || !email.validity.valid) { say(out, t("err_staff_email"), "error"); email.focus(); return; }
    try {
      const made = await api("POST", "/staff", { email: email.value.trim(), role: role.value });
      await staff(codeShown(t("staff_invited", { email: made.member.email, date: instant(made.expires_at) }), made.code,
        t("staff_invited_how")));
    } catch (e) { say(out, staffError(e), "error"); email.focus(); }
  };
  const status = (m) => (!m.active ? t("staff_disabled") : m.pending ? t("staff_pending") : t("staff_active"));
  const rows = items.map((m) => {
    const me = m.id === state.me.id;
    return h("tr", { "data-email": m.email },
      h("th", { scope: "row", "data-label": t("staff_col_email") }, m.email, me ? ` ${t("staff_you")}` : ""),
      h("td", { "data-label": t("staff_col_role") }, t(`role_${m.role}`)),
      h("td", { "data-label": t("staff_col_status") }, h("span", { class: m.active ? "badge" : "badge status-missed" }, status(m))),
      h("td", { "data-label": t("staff_col_actions") }, me ? "—" : h("div", { class: "row actions" },
        m.active ? h("button", { type: "button", class: "small secondary", "aria-label": `${t(m.role === "admin" ? "staff_make_nurse" : "staff_make_admin")}: ${m.email}`,
          onclick: () => change(m, { role: m.role === "admin" ? "nurse" : "admin" }) },
        t(m.role === "admin" ? "staff_make_nurse" : "staff_make_admin")) : null,
        h("button", { type: "button", class: "small secondary", "aria-label": `${t(m.active ? "staff_disable" : "staff_enable")}: ${m.email}`,
          onclick: () => change(m, { active: !m.active }) }, t(m.active ? "staff_disable" : "staff_enable")),
        m.active ? h("button", { type: "button", class: "small secondary", "aria-label": `${t("staff_new_code")}: ${m.email}`,
          onclick: () => newCode(m) }, t("staff_new_code")) : null)));
  });
  show(h("h1", {}, t("staff_title")), tabs("staff"), h("p", {}, t("staff_intro")),
    message ? h("div", { class: "card", id: "staff-message" }, message) : null,
    h("section", { class: "card", "aria-labelledby": "invite-title" }, h("h2", { id: "invite-title" }, t("staff_invite_title")),
      h("form", { onsubmit: invite, novalidate: true },
        h("div", { class: "pair" }, h("div", {}, h("label", { for: "staff-email" }, t("staff_email")), email),
          h("div", {}, h("label", { for: "staff-role" }, t("staff_role")), role)),
        h("p", {}, h("button", { type: "submit", id: "staff-invite" }, t("staff_invite"))))),
    out,
    h("table", { class: "staff-table stacked" }, h("thead", {}, h("tr", {},
      ["staff_col_email", "staff_col_role", "staff_col_status", "staff_col_actions"].map((k) => h("th", { scope: "col" }, t(k))))),
    h("tbody", {}, rows)));
}

// --- the audit log -------------------------------------------------------------------------

//: the action groups the filter offers (the part of an action before its dot)
const GROUPS = ["patient", "patients", "labs", "checklist", "checklists", "course", "pregnancy", "flag", "flags",
  "timeline", "family", "calendar", "snooze", "delivery", "staff", "user", "api_key", "denied", "account"];

function actionWords(action) {
  const group = action.split(".")[0];
  const key = `audit_group_${group}`;
  return [t(key) !== key ? t(key) : group, " ", h("code", {}, action)];
}

/** The audit log with its filters (who, what, which patient, from, to), newest first. */
export async function audit() {
  const params = new URLSearchParams(location.hash.split("?")[1] || "");
  const query = new URLSearchParams({ limit: "50" });
  for (const key of ["actor_id", "action", "patient_id", "from", "to"]) if (params.get(key)) query.set(key, params.get(key));
  const out = h("div", { "aria-live": "polite" });
  let page;
  let staffList;
  try {
    [page, staffList] = await Promise.all([get(`/audit?${query}`), get("/staff")]);
  } catch (e) {
    if (!(e instanceof ApiError) || e.status !== 400) throw e;
    [page, staffList] = [{ items: [] }, await get("/staff")];
    say(out, e.field === "to" ? t("err_audit_dates") : t("err_generic"), "error");
  }
  const who = h("select", { id: "audit-who" }, h("option", { value: "" }, t("audit_anyone")),
    staffList.items.map((m) => h("option", { value: String(m.id), selected: params.get("actor_id") === String(m.id) }, m.email)));
  const what = h("select", { id: "audit-action" }, h("option", { value: "" }, t("audit_any_action")),
    GROUPS.map((g) => h("option", { value: g, selected: params.get("action") === g }, t(`audit_group_${g}`))));
  const patient = h("input", { id: "audit-patient", type: "number", min: 1, step: 1, inputmode: "numeric",
                               value: params.get("patient_id") || "", "aria-describedby": "audit-patient-hint" });
  const from = h("input", { id: "audit-from", type: "date", value: params.get("from") || "" });
  const to = h("input", { id: "audit-to", type: "date", value: params.get("to") || "" });
  const filter = (event) => {
    event.preventDefault();
    if (from.value && to.value && to.value < from.value) { say(out, t("err_audit_dates"), "error"); to.focus(); return; }
    const next = new URLSearchParams();
    if (who.value) next.set("actor_id", who.value);
    if (what.value) next.set("action", what.value);
    if (patient.value) next.set("patient_id", patient.value);
    if (from.value) next.set("from", from.value);
    if (to.value) next.set("to", to.value);
    location.hash = `#/audit${next.toString() ? `?${next}` : ""}`;
  };
  const emails = Object.fromEntries(staffList.items.map((m) => [m.id, m.email]));
  const row = (e) => h("tr", {},
    h("td", { "data-label": t("audit_when") }, instant(e.at)),
    // The log names ids only: staff by their email from the staff list, a lab's key, or another account by its id.
    h("td", { "data-label": t("audit_who") }, e.action === "labs.import_fhir" ? t("audit_key", { name: `#${e.actor_id}` })
      : emails[e.actor_id] || t("audit_unknown", { id: e.actor_id })),
    h("td", { "data-label": t("audit_action") }, actionWords(e.action)),
    h("td", { "data-label": t("audit_about") }, e.patient_id === null ? "—"
      : h("a", { href: `#/patient/${e.patient_id}` }, `#${e.patient_id}`)));
  const body = h("tbody", {}, page.items.map(row));
  let last = page.items.length ? page.items[page.items.length - 1].id : null;
  const more = h("button", { type: "button", class: "secondary audit-more", hidden: page.items.length < 50, onclick: async () => {
    query.set("before_id", String(last));
    const next = await get(`/audit?${query}`);
    body.append(...next.items.map(row));
    if (next.items.length) last = next.items[next.items.length - 1].id;
    more.hidden = next.items.length < 50;
  } }, t("audit_more"));
  show(h("h1", {}, t("audit_title")), tabs("audit"), h("p", {}, t("audit_intro")),
    h("form", { class: "card audit-filters", onsubmit: filter, novalidate: true },
      h("div", { class: "filter-grid" },
        h("div", {}, h("label", { for: "audit-who" }, t("audit_who")), who),
        h("div", {}, h("label", { for: "audit-action" }, t("audit_action")), what),
        h("div", {}, h("label", { for: "audit-patient" }, t("audit_patient")), patient,
          h("p", { id: "audit-patient-hint", class: "hint" }, t("audit_patient_hint"))),
        h("div", {}, h("label", { for: "audit-from" }, t("audit_from")), from),
        h("div", {}, h("label", { for: "audit-to" }, t("audit_to")), to)),
      h("p", {}, h("button", { type: "submit", id: "audit-filter" }, t("audit_filter")))),
    out,
    page.items.length ? h("table", { class: "audit-table stacked" }, h("thead", {}, h("tr", {},
      ["audit_when", "audit_who", "audit_action", "audit_about"].map((k) => h("th", { scope: "col" }, t(k))))), body)
      : h("p", { class: "empty" }, t("audit_none")),
    h("p", {}, more));
}

// --- reminder delivery ---------------------------------------------------------------------

/** Per patient: whether a phone or a calendar feed can reach her, and her last delivered reminder. */
export async function delivery() {
  const params = new URLSearchParams(location.hash.split("?")[1] || "");
  const pageNo = Math.max(1, Number.parseInt(params.get("page"), 10) || 1);
  const body = await get(`/delivery?per_page=50&page=${pageNo}`);
  const pages = Math.max(1, Math.ceil(body.total / 50));
  const go = (n) => { location.hash = `#/delivery?page=${n}`; };
  show(h("h1", {}, t("admin_delivery_title")), tabs("delivery"), h("p", {}, t("delivery_intro")),
    h("p", { role: "status" }, tn("list_total", body.total)),
    h("table", { class: "delivery-table stacked" }, h("thead", {}, h("tr", {},
      ["name", "delivery_reachable", "delivery_devices", "delivery_feeds", "delivery_last"].map((k) => h("th", { scope: "col" }, t(k))))),
    h("tbody", {}, body.items.map((d) => h("tr", {},
      h("th", { scope: "row", "data-label": t("name") }, h("a", { href: `#/patient/${d.patient_id}` }, d.display_name)),
      h("td", { "data-label": t("delivery_reachable") }, d.reachable ? t("yes")
        : h("span", { class: "badge status-missed" }, t("no"))),
      h("td", { "data-label": t("delivery_devices") }, formatNumber(d.push_devices)),
      h("td", { "data-label": t("delivery_feeds") }, formatNumber(d.calendar_feeds)),
      h("td", { "data-label": t("delivery_last") }, d.last_delivered_at ? formatDate(d.last_delivered_at) : t("delivery_never")))))),
    pages > 1 ? h("nav", { class: "pager", "aria-label": t("list_pages") },
      h("button", { type: "button", class: "secondary", disabled: pageNo <= 1, onclick: () => go(pageNo - 1) }, t("list_previous")),
      h("span", {}, t("list_page_of", { page: formatNumber(pageNo), pages: formatNumber(pages) })),
      h("button", { type: "button", class: "secondary", disabled: pageNo >= pages, onclick: () => go(pageNo + 1) }, t("list_next"))) : null);
}
