// The list of backups: newest first, a search box, refreshed when files change.

import { getJson } from "./api.js";
import { byId, h, icon, replaceChildren } from "./dom.js";
import { onEvent, isLive } from "./events.js";
import { formatBytes, formatDate } from "./format.js";

const POLL_WHEN_OFFLINE_MS = 5000;
const POLL_WHEN_LIVE_MS = 30000;

let backups = [];
let lastLoadAt = 0;

const LEVEL_TEXT = {
  ok: "Last full check: good",
  partial: "Last quick check: no problem found",
  warning: "Last check: warnings",
  error: "Last check: problems found",
};

function contentsText(contents) {
  const parts = [];
  if (contents.homeassistant) {
    parts.push(contents.exclude_database ? "Home Assistant (no database)" : "Home Assistant");
  }
  for (const addon of contents.addons) parts.push(addon.name || addon.slug);
  for (const folder of contents.folders) parts.push(folder);
  return parts;
}

function searchableText(backup) {
  return [
    backup.name,
    backup.file_name,
    backup.type,
    backup.homeassistant_version,
    backup.date,
    ...contentsText(backup.contents),
  ]
    .filter(Boolean)
    .join(" ")
    .toLowerCase();
}

function lastCheckBadge(backup) {
  const check = backup.last_check;
  if (!check) {
    return h("span", { class: "badge neutral", "data-testid": "last-check", "data-level": "none" }, "Not checked yet");
  }
  const iconName = check.level === "ok" ? "checkCircle" : check.level === "error" ? "alertCircle" : "info";
  return h(
    "span",
    {
      class: `badge ${check.level}`,
      "data-testid": "last-check",
      "data-level": check.level,
      title: check.title,
    },
    icon(iconName),
    LEVEL_TEXT[check.level] || "Checked",
  );
}

function backupCard(backup) {
  const typeText = backup.type === "full" ? "Full" : backup.type === "partial" ? "Partial" : "Unknown type";
  const problemCount = backup.problems.filter((problem) => problem.severity === "error").length;
  const link = h(
    "a",
    {
      class: "backup-link",
      href: `#/backup/${backup.id}`,
      "data-testid": "backup-open",
      "aria-label": `Open ${backup.name}`,
    },
    h("span", { class: "backup-name", "data-testid": "backup-card-name" }, backup.name),
  );
  const facts = h(
    "div",
    { class: "backup-facts" },
    h("span", { "data-testid": "backup-card-date" }, formatDate(backup.date || backup.mtime)),
    h("span", { class: "chip", "data-testid": "backup-card-type" }, typeText),
    backup.homeassistant_version
      ? h("span", { class: "chip", "data-testid": "backup-card-version" }, `Home Assistant ${backup.homeassistant_version}`)
      : null,
    h("span", { "data-testid": "backup-card-size" }, formatBytes(backup.size)),
    backup.is_protected
      ? h("span", { class: "chip protected", "data-testid": "backup-card-protected" }, icon("lock"), "Protected")
      : h("span", { class: "chip", "data-testid": "backup-card-protected" }, icon("lockOpen"), "Not encrypted"),
  );
  const contents = contentsText(backup.contents);
  return h(
    "li",
    { class: "card backup-card", "data-testid": "backup-card", "data-backup-id": backup.id },
    h("div", { class: "backup-card-head" }, icon("archive", "backup-icon"), link),
    facts,
    h(
      "p",
      { class: "backup-contents", "data-testid": "backup-card-contents" },
      contents.length ? `Contains: ${contents.join(", ")}` : "Contents unknown",
    ),
    h(
      "div",
      { class: "backup-status" },
      lastCheckBadge(backup),
      problemCount
        ? h("span", { class: "badge error", "data-testid": "backup-card-problems" }, icon("alert"), `${problemCount} problem${problemCount === 1 ? "" : "s"} in its headers`)
        : null,
    ),
  );
}

function render() {
  const query = byId("backup-search").value.trim().toLowerCase();
  const visible = query ? backups.filter((backup) => searchableText(backup).includes(query)) : backups;
  replaceChildren(byId("backup-list"), visible.map(backupCard));
  const empty = byId("backups-empty");
  empty.hidden = visible.length > 0;
  empty.textContent = backups.length
    ? "No backup matches the search."
    : "No backups found. Backups made by Home Assistant appear here by themselves.";
  byId("backups-count").textContent = backups.length
    ? `${visible.length} of ${backups.length} backups`
    : "";
}

/** Load the list from the server and show it. */
export async function loadBackups() {
  lastLoadAt = Date.now();
  const answer = await getJson("api/backups");
  backups = answer.backups;
  byId("backups-view").dataset.loaded = "true";
  render();
  return backups;
}

/** Wire the search box, the refresh button and automatic refreshes. */
export function setUpBackupList(showError) {
  byId("backup-search").addEventListener("input", render);
  byId("refresh-backups").addEventListener("click", () => loadBackups().catch(showError));
  onEvent((event) => {
    if (["backups-changed", "check-recorded", "password-forgotten", "hello"].includes(event.type)) {
      loadBackups().catch(showError);
    }
  });
  window.setInterval(() => {
    const interval = isLive() ? POLL_WHEN_LIVE_MS : POLL_WHEN_OFFLINE_MS;
    if (Date.now() - lastLoadAt >= interval && !document.hidden) loadBackups().catch(() => {});
  }, 1000);
}
