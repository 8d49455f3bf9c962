// The protocol sheet for the care team: every rule the app computes with, in
// words, with its source (GET /protocol); the printable version is what a
// clinical lead signs.
import { get } from "../api.js";
import { h, show } from "../dom.js";
import { LANGUAGES, language, t } from "../i18n.js";
import { go } from "../app.js";

/** A cell's words: one block per line (a sentence, a source), a dash when there are none. */
function cell(value) {
  const lines = (Array.isArray(value) ? value : [value]).filter((line) => line !== null && line !== undefined && line !== "");
  if (!lines.length) return "—";
  return lines.map((line) => h("span", { class: "line" }, line));
}

function section(s) {
  const id = `sheet-${s.key}`;
  return h("section", { class: "sheet-section", "aria-labelledby": id },
    h("h2", { id }, s.title),
    s.intro.map((text) => h("p", {}, text)),
    h("div", { class: "table-scroll" },
      h("table", { class: "sheet-table" },
        h("thead", {}, h("tr", {}, s.columns.map((c) => h("th", { scope: "col" }, c.label)))),
        h("tbody", {}, s.rows.map((row) => h("tr", {}, s.columns.map((c) =>
          h("td", { "data-label": c.label, class: `col-${c.key}` }, cell(row.cells[c.key])))))))),
    s.notes.map((note) => h("p", { class: "muted" }, note.text, ` (${note.source.join("; ")})`)));
}

export async function sheet(requested) {
  const lang = LANGUAGES[requested] ? requested : language();
  const data = await get(`/protocol?language=${lang}&format=json`);
  const select = h("select", { id: "sheet-language", onchange: (e) => go(`protocol/${e.target.value}`) },
    Object.entries(LANGUAGES).map(([code, name]) => h("option", { value: code, selected: code === lang }, name)));
  show(h("div", { class: "sheet", lang },
    h("h1", {}, data.labels.title),
    h("p", { class: "lead" }, data.protocol_name),
    h("div", { class: "card sheet-tools" },
      h("div", {}, h("label", { for: "sheet-language" }, t("sheet_language")), select),
      h("p", {}, h("a", { class: "button", href: `/api/v1/protocol?language=${lang}&format=html`, target: "_blank",
        rel: "noopener" }, t("sheet_printable"))),
      h("p", { class: "muted" }, t("sheet_explain")),
      h("p", {}, `${data.labels.version}: `, h("code", { class: "version" }, data.content_version))),
    h("nav", { "aria-label": data.labels.contents }, h("h2", {}, data.labels.contents),
      h("ol", {}, data.sections.map((s) => h("li", {}, h("a", { href: `#sheet-${s.key}`, onclick: (e) => {
        e.preventDefault();
        document.getElementById(`sheet-${s.key}`).scrollIntoView();
      } }, s.title))))),
    data.sections.map(section)));
}
