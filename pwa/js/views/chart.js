// A small SVG trend chart: the values, the reference band and the baseline.
import { h } from "../dom.js";
import { formatDate, formatNumber, t } from "../i18n.js";
import { showUnit } from "./labs.js";

const SVG = "http://www.w3.org/2000/svg";
function s(tag, attrs = {}, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
}

export function chart(code, analyte, results, baseline) {
  const points = results.filter((r) => typeof r.value === "number");
  if (!points.length) return null;
  const W = 320, H = 160, P = 30;
  const values = points.map((p) => p.value).concat([analyte.low, analyte.high, baseline].filter((v) => v != null));
  const max = Math.max(...values) * 1.1, min = Math.min(0, ...values);
  const y = (v) => H - P - ((v - min) / (max - min || 1)) * (H - 2 * P);
  const x = (i) => P + (points.length === 1 ? (W - 2 * P) / 2 : (i * (W - 2 * P)) / (points.length - 1));
  const svg = s("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-labelledby": `chart-${code}` });
  if (analyte.low != null || analyte.high != null) {
    const top = y(analyte.high ?? max), bottom = y(analyte.low ?? min);
    svg.append(s("rect", { class: "band", x: P, y: top, width: W - 2 * P, height: Math.max(1, bottom - top) }));
  }
  if (baseline != null) svg.append(s("line", { class: "base", x1: P, x2: W - P, y1: y(baseline), y2: y(baseline) }));
  svg.append(s("polyline", { class: "line", points: points.map((p, i) => `${x(i)},${y(p.value)}`).join(" ") }));
  points.forEach((p, i) => svg.append(s("circle", { cx: x(i), cy: y(p.value), r: 4 })));
  svg.append(s("text", { x: 2, y: 12 }, `${formatNumber(max)}`));
  const last = points[points.length - 1];
  const summary = `${analyte.name}: ${formatNumber(last.value)} ${showUnit(analyte.unit)} (${formatDate(last.taken_on)}). ` +
    `${t("normal_range")}: ${analyte.low ?? "–"}–${analyte.high ?? "–"}` +
    (baseline != null ? `; ${t("your_baseline")}: ${formatNumber(baseline)}` : "");
  return h("figure", { class: "card chart" }, h("figcaption", { id: `chart-${code}` }, summary), svg,
    h("details", {}, h("summary", {}, analyte.name),
      h("table", {}, h("tbody", {}, points.map((p) => h("tr", {}, h("td", {}, formatDate(p.taken_on)), h("td", {}, formatNumber(p.value))))))));
}
