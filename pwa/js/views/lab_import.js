// The nurse's lab import (issue 19): paste or choose a CSV file, map its columns, preview
// every row (would store, duplicate, refused with the reason), then store.
import { ApiError, api } from "../api.js";
import { h, show } from "../dom.js";
import { apiErrorText, formatDate, formatNumber, t } from "../i18n.js";
import { state } from "../app.js";
import { showUnit } from "./labs.js";

/** The parts of a result and the header names that prefill each select (lower case, no blanks). */
const PARTS = {
  hospital_number: ["hospital_number", "hospitalnumber", "mrn", "nhc", "hn", "patient", "patientid", "kis", "fallnummer",
                    "patientennummer", "numeroclinico", "numerostoria", "historia"],
  analyte: ["analyte", "test", "code", "loinc", "testcode", "analysis", "prueba", "determinacion", "analyt", "parameter", "esame", "analita"],
  value: ["value", "result", "valor", "resultado", "wert", "ergebnis", "valore", "risultato"],
  unit: ["unit", "units", "unidad", "unidades", "einheit", "unita", "unità"],
  taken_on: ["taken_on", "takenon", "date", "fecha", "datum", "data", "collected", "sampledate", "entnahme"],
  ref_low: ["ref_low", "reflow", "low", "min", "lower", "refmin", "untergrenze", "minimo"],
  ref_high: ["ref_high", "refhigh", "high", "max", "upper", "refmax", "obergrenze", "massimo"],
};
const OPTIONAL = new Set(["ref_low", "ref_high"]);
/** The columns of the outcome table (their words' keys). */
const COLUMNS = ["import_row", "import_status", "import_part_hospital_number", "import_part_analyte",
                 "import_part_value", "import_part_taken_on", "import_reason"];

/** The header of a CSV text: its first line split on the delimiter it uses most (as the server reads it). */
export function headerOf(text) {
  const line = text.replace(/^\ufeff/, "").split(/\r?\n/)[0] || "";
  const delimiter = [",", ";", "\t"].reduce((a, b) => (line.split(b).length > line.split(a).length ? b : a));
  return line.split(delimiter).map((c) => c.trim().replace(/^"(.*)"$/, "$1"));
}

const squash = (name) => name.toLowerCase().normalize("NFD").replace(/[\u0300-\u036f]/g, "").replace(/[^a-z0-9_]/g, "");

/** The header name that best matches each part: the same name, else a known synonym. */
export function guessMapping(header) {
  const mapping = {};
  for (const [part, names] of Object.entries(PARTS)) {
    const found = header.find((c) => squash(c) === part) || header.find((c) => names.includes(squash(c)));
    mapping[part] = found || "";
  }
  return mapping;
}

/** Where a refused row is wrong, in the nurse's words: the part and her own column's name. */
export function refusalWhere(item) {
  const key = `import_part_${item.part}`;
  if (!item.part || t(key) === key) return item.field || "";
  return item.field && item.field !== item.part ? t("import_where", { part: t(key), column: item.field }) : t(key);
}

/** Why a row is refused and what to do, in the nurse's language (one sentence per
 * ``reason_code``, its ``reason_params`` shown as she reads them); the server's English
 * ``reason`` only for a code this app does not know. */
export function refusalWhy(item, analyteName = (code) => code) {
  const key = `import_why_${item.reason_code}`;
  if (!item.reason_code || t(key) === key) return item.reason || "";
  const params = item.reason_params || {};
  const number = (v) => (typeof v === "number" ? formatNumber(v) : v ?? "");
  return t(key, {
    ...params,
    analyte: analyteName(params.analyte || item.analyte),
    unit: showUnit(params.unit), canonical_unit: showUnit(params.canonical_unit),
    units: (params.units || "").split(", ").filter(Boolean).map(showUnit).join(", "),
    value: number(params.value), low: number(params.low), high: number(params.high),
    date: params.date ? formatDate(params.date) : "", text: params.text ?? "", codes: params.codes ?? "",
  });
}

export async function screen() {
  const text = h("textarea", { id: "csv-text", rows: 8, spellcheck: "false", "aria-describedby": "csv-hint" });
  const file = h("input", { id: "csv-file", type: "file", accept: ".csv,text/csv,text/plain" });
  const mapBox = h("div", {});
  const out = h("div", { "aria-live": "polite" });
  let selects = {};

  const drawMapping = () => {
    const header = headerOf(text.value);
    const guess = guessMapping(header);
    selects = Object.fromEntries(Object.keys(PARTS).map((part) => [part, h("select", { id: `map-${part}` },
      OPTIONAL.has(part) ? h("option", { value: "" }, t("import_none")) : h("option", { value: "" }, "—"),
      header.map((c) => h("option", { value: c, selected: c === guess[part] }, c)))]));
    mapBox.replaceChildren(h("h2", { id: "map-title" }, t("import_map_title")),
      h("p", { class: "hint" }, t("import_map_hint")),
      h("div", { class: "map-grid" }, Object.keys(PARTS).map((part) => h("div", {},
        h("label", { for: `map-${part}` }, t(`import_part_${part}`)), selects[part]))),
      h("p", { class: "row" }, h("button", { type: "button", id: "preview", onclick: () => send(true) }, t("import_preview"))));
  };

  const mapping = () => Object.fromEntries(Object.entries(selects).map(([part, s]) => [part, s.value || null])
    .filter(([part, v]) => v !== null || !OPTIONAL.has(part)));

  const problem = (e) => {
    if (!(e instanceof ApiError)) return t("err_network");
    if (e.code === "malformed_csv") return t("import_malformed", { row: e.error.row, column: e.error.column });
    if (e.status === 413) return t("import_too_large");
    if ((e.field || "").startsWith("mapping")) return t("import_map_missing", { part: t(`import_part_${e.field.split(".")[1]}`) });
    return apiErrorText(e);
  };

  const send = async (preview, confirmValid = false) => {
    const missing = Object.entries(selects).find(([part, s]) => !OPTIONAL.has(part) && !s.value);
    if (missing) {
      out.replaceChildren(h("p", { class: "error", role: "alert" }, t("import_map_missing", { part: t(`import_part_${missing[0]}`) })));
      return selects[missing[0]].focus();
    }
    try {
      const answer = await api("POST", `/lab-import/csv?preview=${preview}`, { csv: text.value, mapping: mapping(), confirm_valid: confirmValid });
      drawOutcome(answer, preview);
    } catch (e) {
      if (e instanceof ApiError && e.code === "import_refused") {
        return drawOutcome({ items: e.error.refused, refused: e.error.refused.length, new: 0, stored: 0, duplicate: 0 }, false);
      }
      out.replaceChildren(h("p", { class: "error", role: "alert" }, problem(e)));
    }
  };

  const valueOf = (item) => {
    if (item.value === undefined || item.value === null) return "—";
    if (typeof item.value === "string") return t(item.value);
    const canonical = `${formatNumber(item.value)} ${showUnit(item.unit)}`;
    return item.unit_as_recorded && item.unit_as_recorded !== item.unit
      ? `${formatNumber(item.value_as_recorded)} ${showUnit(item.unit_as_recorded)} → ${canonical}` : canonical;
  };
  const analyteName = (code) => (code && state.texts.analytes[code] ? state.texts.analytes[code].name : code || "—");
  const refusal = (item) => h("div", { class: "refusal" },
    h("span", { class: "refusal-where" }, refusalWhere(item)), " ",
    h("span", { class: "refusal-why" }, refusalWhy(item, analyteName)));

  const drawOutcome = (answer, preview) => {
    const counts = h("p", { class: preview ? "" : "notice", role: "status", tabindex: "-1" },
      preview ? t("import_counts_preview", { new: answer.new, duplicate: answer.duplicate, refused: answer.refused })
        : t("import_counts_stored", { stored: answer.stored, duplicate: answer.duplicate, refused: answer.refused }));
    const confirm = h("input", { id: "confirm-valid", type: "checkbox" });
    const store = preview && answer.new > 0 ? h("div", {},
      answer.refused ? h("label", { for: "confirm-valid", class: "row" }, confirm, t("import_confirm_valid", { n: answer.new })) : null,
      h("p", {}, h("button", { type: "button", id: "store", onclick: () => {
        if (answer.refused && !confirm.checked) {
          out.querySelector(".store-error")?.remove();
          return store.append(h("p", { class: "error store-error", role: "alert" }, t("import_confirm_needed")));
        }
        send(false, answer.refused > 0);
      } }, t("import_store", { n: answer.new })))) : null;
    const rows = [...answer.items].sort((a, b) => (a.status === "refused" ? 0 : 1) - (b.status === "refused" ? 0 : 1) || a.index - b.index);
    out.replaceChildren(counts, store || "",
      // On a phone each row stacks into a card with its labels, so the reason is read, not scrolled to.
      h("div", { class: "table-scroll" }, h("table", { class: "import-table stacked" },
        h("thead", {}, h("tr", {}, COLUMNS.map((k) => h("th", { scope: "col" }, t(k))))),
        h("tbody", {}, rows.map((item) => h("tr", { class: `status-${item.status}` },
          [String(item.index),
           h("span", { class: `badge import-${item.status}` }, t(`import_status_${item.status}`)),
           item.hospital_number || "—", analyteName(item.analyte), valueOf(item),
           item.taken_on ? formatDate(item.taken_on) : "—",
           item.status === "refused" ? refusal(item) : null]
            .map((cell, i) => h("td", { "data-label": t(COLUMNS[i]) }, cell))))))));
    counts.focus({ preventScroll: true });
  };

  file.addEventListener("change", async () => {
    if (!file.files.length) return;
    text.value = await file.files[0].text();
    drawMapping();
  });
  show(h("h1", { class: "import-screen" }, t("import_title")),
    h("section", { class: "card", "aria-labelledby": "source-title" }, h("h2", { id: "source-title" }, t("import_source")),
      h("p", { id: "csv-hint", class: "hint" }, t("import_hint")),
      h("label", { for: "csv-file" }, t("import_file")), file,
      h("label", { for: "csv-text" }, t("import_paste")), text,
      h("p", {}, h("button", { type: "button", id: "read-columns", class: "secondary", onclick: () => {
        if (!text.value.trim()) return out.replaceChildren(h("p", { class: "error", role: "alert" }, t("import_empty")));
        out.replaceChildren();
        drawMapping();
      } }, t("import_read_columns")))),
    h("section", { class: "card" }, mapBox, out));
}
