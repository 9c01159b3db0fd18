// The health summary at the top of the list: newest backup and its age, each
// backup's last full check, counts, and a chart of backup sizes over time
// (inline SVG, no library) with a text alternative.

import { getJson } from "./api.js";
import { byId, h, icon, replaceChildren } from "./dom.js";
import { onEvent } from "./events.js";
import { formatBytes, formatDate } from "./format.js";

const SVG_NS = "http://www.w3.org/2000/svg";
const CHART_WIDTH = 640;
const CHART_HEIGHT = 160;
const CHART_PAD = { top: 12, right: 8, bottom: 24, left: 8 };
const SUDDEN_CHANGE = 0.3; // a size 30 % above or below the backup before it stands out

const VERDICTS = {
  ok: { text: "Verified: good", badge: "ok", icon: "checkCircle" },
  failing: { text: "Problems found", badge: "error", icon: "alertCircle" },
  unverified: { text: "Not fully verified", badge: "partial", icon: "info" },
  unchecked: { text: "Not checked yet", badge: "neutral", icon: null },
};

function svg(tag, attributes = {}, ...children) {
  const element = document.createElementNS(SVG_NS, tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, String(value));
  for (const child of children) {
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

function verdictBadge(verdict) {
  const look = VERDICTS[verdict] || VERDICTS.unchecked;
  return h(
    "span",
    { class: `badge ${look.badge}`, "data-testid": "health-verdict", "data-verdict": verdict },
    look.icon ? icon(look.icon) : null,
    look.text,
  );
}

function fact(label, value, testId) {
  return h("div", { class: "fact" }, h("dt", {}, label), h("dd", { "data-testid": testId }, value));
}

function headline(health) {
  const { counts } = health;
  if (!health.newest) return "No backups yet: they appear here once Home Assistant writes one.";
  if (counts.failing) {
    return `${counts.failing} backup${counts.failing === 1 ? " has" : "s have"} problems: ${counts.failing === 1 ? "it" : "they"} will not fully restore.`;
  }
  const open = counts.unverified + counts.unchecked;
  if (open === health.backups.length) {
    return open === 1 ? "The backup is not fully verified yet." : `None of the ${open} backups is fully verified yet.`;
  }
  if (open) return `No problem found so far; ${open} backup${open === 1 ? " is" : "s are"} not fully verified yet.`;
  return "Every backup was read to its last byte and verified.";
}

function watchText(watch) {
  if (!watch.enabled) return "Off: run a full check to verify a backup";
  if (watch.checking) return `Checking a backup now${watch.queued ? `, ${watch.queued} waiting` : ""}`;
  return watch.queued ? `${watch.queued} backup${watch.queued === 1 ? "" : "s"} waiting` : "Idle: every backup checked";
}

function suddenChanges(points) {
  const marked = new Set();
  for (let i = 1; i < points.length; i += 1) {
    const before = points[i - 1].size;
    if (before > 0 && Math.abs(points[i].size - before) / before >= SUDDEN_CHANGE) marked.add(i);
  }
  return marked;
}

function chartSummary(points, marked) {
  if (!points.length) return "No backup sizes to show yet.";
  const sizes = points.map((point) => point.size);
  const first = formatDate(points[0].date);
  const last = formatDate(points[points.length - 1].date);
  let text = `Sizes of ${points.length} backup${points.length === 1 ? "" : "s"} from ${first} to ${last}: `
    + `between ${formatBytes(Math.min(...sizes))} and ${formatBytes(Math.max(...sizes))}.`;
  if (marked.size) {
    const changes = [...marked].map((i) => `${points[i].label} (${formatBytes(points[i - 1].size)} → ${formatBytes(points[i].size)})`);
    text += ` Sudden changes: ${changes.join("; ")}.`;
  }
  return text;
}

function sizeChart(points, marked, summary) {
  const innerWidth = CHART_WIDTH - CHART_PAD.left - CHART_PAD.right;
  const innerHeight = CHART_HEIGHT - CHART_PAD.top - CHART_PAD.bottom;
  const largest = Math.max(1, ...points.map((point) => point.size));
  const slot = innerWidth / Math.max(points.length, 1);
  const barWidth = Math.max(2, Math.min(40, slot * 0.7));
  const bars = points.map((point, index) => {
    const height = Math.max(1, (point.size / largest) * innerHeight);
    const x = CHART_PAD.left + index * slot + (slot - barWidth) / 2;
    const kind = marked.has(index) ? "sudden" : point.present ? "present" : "gone";
    return svg(
      "rect",
      {
        x: x.toFixed(1),
        y: (CHART_PAD.top + innerHeight - height).toFixed(1),
        width: barWidth.toFixed(1),
        height: height.toFixed(1),
        rx: 2,
        class: `bar ${kind}`,
        "data-testid": "size-bar",
      },
      svg("title", {}, `${point.label}: ${formatBytes(point.size)}, ${formatDate(point.date)}`),
    );
  });
  const baseline = CHART_PAD.top + innerHeight;
  return svg(
    "svg",
    {
      viewBox: `0 0 ${CHART_WIDTH} ${CHART_HEIGHT}`,
      role: "img",
      "aria-labelledby": "size-chart-title size-chart-desc",
      "data-testid": "size-chart-svg",
      preserveAspectRatio: "none",
    },
    svg("title", { id: "size-chart-title" }, "Backup sizes over time, oldest on the left"),
    svg("desc", { id: "size-chart-desc" }, summary),
    svg("line", { x1: CHART_PAD.left, x2: CHART_WIDTH - CHART_PAD.right, y1: baseline, y2: baseline, class: "axis" }),
    ...bars,
  );
}

function renderChart(points) {
  const marked = suddenChanges(points);
  const summary = chartSummary(points, marked);
  replaceChildren(byId("size-chart-graphic"), points.length ? sizeChart(points, marked, summary) : null);
  byId("size-chart-caption").textContent = summary;
}

function verificationRow(backup) {
  return h(
    "tr",
    { "data-testid": "verification-row", "data-backup-id": backup.id },
    h("th", { scope: "row" }, h("a", { href: `#/backup/${backup.id}` }, backup.name)),
    h("td", { "data-label": "Made" }, formatDate(backup.date)),
    h("td", { "data-label": "Size" }, formatBytes(backup.size)),
    h("td", { "data-label": "Last verified" }, backup.verified_at ? formatDate(backup.verified_at) : "Never"),
    h("td", { "data-label": "Verdict" }, verdictBadge(backup.verdict), backup.codes.length ? ` ${backup.codes.join(", ")}` : ""),
  );
}

function render(health) {
  const { counts, newest } = health;
  const open = counts.unverified + counts.unchecked;
  // Green only when every backup was verified: unchecked ones are not good news yet.
  byId("health-summary").dataset.state = counts.failing ? "failing" : open || !newest ? "open" : "ok";
  byId("health-headline").textContent = headline(health);
  replaceChildren(
    byId("health-facts"),
    fact("Newest backup", newest ? h("a", { href: `#/backup/${newest.id}` }, newest.name) : "None", "health-newest"),
    fact("Its age", newest ? `${newest.age} old` : "—", "health-newest-age"),
    fact("Newest verified", newest ? verdictBadge(newest.verdict) : "—", "health-newest-verdict"),
    fact(
      "Backups",
      `${counts.ok} good · ${counts.failing} with problems · ${counts.unverified + counts.unchecked} not verified`,
      "health-counts",
    ),
    fact("Background checks", watchText(health.watch), "health-watch"),
  );
  renderChart(health.sizes);
  replaceChildren(byId("verification-rows"), health.backups.map(verificationRow));
  byId("health-summary").dataset.loaded = "true";
}

/** Fetch the summary and show it. */
export async function loadHealth() {
  render(await getJson("api/health"));
}

/** Load now, and again whenever backups, checks or verdicts change. */
export function setUpHealthSummary(showError) {
  onEvent((event) => {
    if (["backups-changed", "check-recorded", "health-changed", "hello"].includes(event.type)) {
      loadHealth().catch(() => {});
    }
  });
  loadHealth().catch(showError);
}
