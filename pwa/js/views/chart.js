// A lab trend as a hand-written SVG (docs/decisions.md, "Patient and family app"): a real
// time axis (points placed by the date the sample was taken), the reference band and the
// baseline drawn with edges and words, out-of-range points as triangles, and beside the
// chart a table of the values with their units and "low"/"high" in words.
import { h } from "../dom.js";
import { formatDate, formatNumber, language, t, tn } from "../i18n.js";
import { withUnit } from "./labs.js";

const SVG = "http://www.w3.org/2000/svg";
function s(tag, attrs = {}, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
}

const DAY = 86400000;
const time = (iso) => Date.parse(`${iso.slice(0, 10)}T00:00:00Z`);

/** The range as words: "150–400", "up to 110", "from 1.5" (never "–110"). */
export function rangeText(low, high) {
  if (low != null && high != null) return `${formatNumber(low)}–${formatNumber(high)}`;
  if (high != null) return t("up_to", { value: formatNumber(high) });
  if (low != null) return t("from_value", { value: formatNumber(low) });
  return "";
}

/** "low", "high" or null against the result's own range (its lab's), else the default one. */
export function outOfRange(r, analyte) {
  const low = r.ref_low ?? analyte.low, high = r.ref_high ?? analyte.high;
  if (low != null && r.value < low) return "low";
  if (high != null && r.value > high) return "high";
  return null;
}

/** Round tick values from at or below ``min`` to at or above ``max``: 1, 2 or 5 times a power of ten apart. */
export function ticks(min, max, count = 4) {
  const raw = (max - min) / count || 1;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((v) => v >= raw);
  const out = [];
  const last = Math.ceil(max / step) * step;
  for (let v = Math.floor(min / step) * step; v <= last + step / 1000; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

/** First days of months between two instants, thinned to at most ``most`` labels. */
function monthTicks(from, to, most) {
  const start = new Date(from);
  let y = start.getUTCFullYear(), m = start.getUTCMonth() + 1;
  const all = [];
  for (;;) {
    if (m > 11) { y += 1; m = 0; }
    const at = Date.UTC(y, m, 1);
    if (at > to) break;
    all.push(at);
    m += 1;
  }
  const every = Math.max(1, Math.ceil(all.length / most));
  return all.filter((_, i) => i % every === 0);
}

/** The figure of one analyte's results (null when there is no number to draw). */
export function chart(code, analyte, results, baseline) {
  const points = results.filter((r) => typeof r.value === "number")
    .sort((a, b) => a.taken_on.localeCompare(b.taken_on));
  if (!points.length) return null;
  const W = 340, H = 200, left = 44, right = 10, top = 12, bottom = 30;
  const first = time(points[0].taken_on), last = time(points[points.length - 1].taken_on);
  // A single result, or results a few days apart, still get a readable span around them.
  const pad = Math.max(7 * DAY, (last - first) * 0.05);
  const x0 = first - pad, x1 = last + pad;
  const values = points.map((p) => p.value).concat([analyte.low, analyte.high, baseline].filter((v) => v != null));
  const yTicks = ticks(Math.min(0, ...values), Math.max(...values) * 1.05);
  const yMin = yTicks[0], yMax = yTicks[yTicks.length - 1];
  const x = (at) => left + ((at - x0) / (x1 - x0)) * (W - left - right);
  const y = (v) => H - bottom - ((v - yMin) / (yMax - yMin || 1)) * (H - top - bottom);
  const svg = s("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-labelledby": `chart-${code}`,
                         class: "trend" });
  const plotRight = W - right;
  if (analyte.low != null || analyte.high != null) {
    const bandTop = y(analyte.high ?? yMax), bandBottom = y(analyte.low ?? yMin);
    svg.append(s("rect", { class: "band", x: left, y: bandTop, width: plotRight - left,
                           height: Math.max(1, bandBottom - bandTop) }));
    for (const limit of [analyte.low, analyte.high]) {
      if (limit != null) svg.append(s("line", { class: "band-edge", x1: left, x2: plotRight, y1: y(limit), y2: y(limit) }));
    }
  }
  for (const v of yTicks) {
    svg.append(s("line", { class: "grid", x1: left - 4, x2: left, y1: y(v), y2: y(v) }));
    svg.append(s("text", { x: left - 6, y: y(v) + 4, "text-anchor": "end" }, formatNumber(v)));
  }
  svg.append(s("line", { class: "axis", x1: left, x2: left, y1: top, y2: H - bottom }));
  svg.append(s("line", { class: "axis", x1: left, x2: plotRight, y1: H - bottom, y2: H - bottom }));
  const monthName = new Intl.DateTimeFormat(language(), { month: "short", timeZone: "UTC" });
  let shownYear = null;
  for (const at of monthTicks(x0, x1, 4)) {
    const year = new Date(at).getUTCFullYear();
    svg.append(s("line", { class: "grid", x1: x(at), x2: x(at), y1: H - bottom, y2: H - bottom + 4 }));
    svg.append(s("text", { x: x(at), y: H - bottom + 16, "text-anchor": "middle" },
      year !== shownYear ? `${monthName.format(at)} ${year}` : monthName.format(at)));
    shownYear = year;
  }
  if (baseline != null) {
    svg.append(s("line", { class: "base", x1: left, x2: plotRight, y1: y(baseline), y2: y(baseline) }));
    svg.append(s("text", { class: "base-label", x: plotRight - 2, y: y(baseline) - 4, "text-anchor": "end" },
      t("baseline_short")));
  }
  if (points.length > 1) {
    svg.append(s("polyline", { class: "line",
      points: points.map((p) => `${x(time(p.taken_on))},${y(p.value)}`).join(" ") }));
  }
  for (const p of points) {
    const cx = x(time(p.taken_on)), cy = y(p.value), side = outOfRange(p, analyte);
    // Out of range: a triangle pointing the way it is out, not only another colour.
    svg.append(side ? s("path", { class: `point out ${side}`,
      d: side === "high" ? `M${cx},${cy - 7}L${cx + 7},${cy + 5}L${cx - 7},${cy + 5}Z`
                         : `M${cx},${cy + 7}L${cx + 7},${cy - 5}L${cx - 7},${cy - 5}Z` })
      : s("circle", { class: "point", cx, cy, r: 4.5 }));
  }
  const latest = points[points.length - 1];
  const range = rangeText(analyte.low, analyte.high);
  const caption = [
    t("latest_value", { value: withUnit(latest.value, analyte.unit), date: formatDate(latest.taken_on) }),
    range ? t("range_line", { range }) : null,
    baseline != null ? t("baseline_line", { value: withUnit(baseline, analyte.unit) }) : null].filter(Boolean);
  const shown = [...points].reverse();
  const row = (p) => {
    const side = outOfRange(p, analyte);
    return h("tr", { class: side ? "out" : null }, h("td", {}, formatDate(p.taken_on, { day: "numeric", month: "short", year: "numeric" })),
      h("td", {}, withUnit(p.value, analyte.unit)),
      h("td", {}, side ? h("strong", {}, side === "high" ? `▲ ${t("high")}` : `▼ ${t("low")}`) : t("in_range")));
  };
  const table = (rows) => h("table", { class: "values" },
    h("thead", {}, h("tr", {}, h("th", { scope: "col" }, t("date")), h("th", { scope: "col" }, t("value")),
      h("th", { scope: "col" }, t("range_column")))),
    h("tbody", {}, rows.map(row)));
  return h("figure", { class: "card chart" },
    h("figcaption", { id: `chart-${code}` }, h("strong", {}, analyte.name), caption.map((line) => [h("br"), line])),
    h("div", { class: "chart-body" }, svg,
      h("div", { class: "chart-table" }, table(shown.slice(0, 6)),
        shown.length > 6 ? h("details", {}, h("summary", {}, tn("older_results", shown.length - 6)), table(shown.slice(6))) : null)),
    h("p", { class: "legend muted" }, h("span", { class: "key band-key", "aria-hidden": "true" }), t("normal_range"),
      baseline != null ? [" ", h("span", { class: "key base-key", "aria-hidden": "true" }), t("your_baseline")] : null,
      " ", h("span", { "aria-hidden": "true" }, "▲▼"), " ", t("outside_range")));
}
