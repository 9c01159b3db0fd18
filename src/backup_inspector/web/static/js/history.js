// A file's history across backups: find it in every backup, see its versions
// grouped by content (newest first), compare two versions or one with today's
// config, download or extract one version; and "Compare with…" another backup.
// Names and file contents come from backups: they go in as text only.

import { backupPath, downloadBackupFile, getJson, postJson } from "./api.js";
import { byId, h, icon, replaceChildren } from "./dom.js";
import { formatBytes, formatCount, formatDate } from "./format.js";

const BACKUP_ROUTE = /^#\/backup\/([0-9a-f]+)$/;
const HUNK = /^@@ -(\d+)(?:,\d+)? \+(\d+)(?:,\d+)? @@/;
const LOCK_REASONS = {
  "password-required": "encrypted: unlock it to search it",
  "wrong-password": "the password given does not open it",
  unreadable: "it could not be read",
};

let showError = () => {};

function shortHash(sha256) {
  return sha256 ? sha256.slice(0, 12) : "not hashed";
}

function setStatus(text) {
  byId("history-status").textContent = text;
}

async function find(pattern) {
  setStatus(`Searching every backup for “${pattern}”…`);
  replaceChildren(byId("history-results"));
  byId("history-compare").hidden = true;
  byId("history-locked").hidden = true;
  try {
    const answer = await postJson("api/history/find", { pattern });
    renderAnswer(answer);
  } catch (error) {
    setStatus(error.message);
  }
}

function renderAnswer(answer) {
  const files = answer.histories.length;
  setStatus(
    files === 0
      ? `No file matches “${answer.pattern}” in ${formatCount(answer.backups_searched, "backup")}.`
      : `${formatCount(answer.version_count, "version")} of ${formatCount(files, "file")} in ` +
          `${formatCount(answer.backups_searched, "backup")}.`,
  );
  const locked = byId("history-locked");
  locked.hidden = answer.locked.length === 0;
  replaceChildren(
    locked,
    answer.locked.map((backup) =>
      h("li", { class: "finding", "data-testid": "history-locked-backup" }, icon("lock"),
        `${backup.name} not searched: ${LOCK_REASONS[backup.reason] || backup.reason}.`),
    ),
  );
  replaceChildren(byId("history-results"), answer.histories.map(renderHistory));
}

function renderHistory(history) {
  const title = `${history.archive}/${history.path}`;
  const groups = history.groups;
  return h(
    "section",
    { class: "history", "data-testid": "history", "aria-label": `History of ${title}` },
    h("h4", { text: title }),
    h("p", { class: "hint", text: `${formatCount(history.version_count, "version")}, ` +
      `${formatCount(groups.length, "different content", "different contents")}, newest first.` }),
    h("ol", { class: "history-groups" }, groups.map((group, index) =>
      renderGroup(history, group, groups[index + 1] || null))),
  );
}

function renderGroup(history, group, previous) {
  const first = group.first;
  const newest = group.versions[group.versions.length - 1];
  const later = group.unchanged_after;
  const sentence = later
    ? `Changed in “${first.name}”, unchanged in the ${formatCount(later, "backup")} after it.`
    : `In “${first.name}”.`;
  const actions = [
    h("button", {
      class: "button outlined", type: "button", "data-testid": "history-compare-previous",
      disabled: previous === null,
      onclick: () => compare({ old: versionRef(previous && previous.versions.at(-1)), new: versionRef(newest) }),
    }, "Compare with previous"),
    history.archive === "homeassistant"
      ? h("button", {
          class: "button outlined", type: "button", "data-testid": "history-compare-config",
          onclick: () => compare({ old: versionRef(newest), new: "config" }),
        }, "Compare with current config")
      : null,
    h("button", {
      class: "button outlined", type: "button", "data-testid": "history-download",
      onclick: () => download(newest),
    }, icon("download"), "Download this version"),
    h("button", {
      class: "button outlined", type: "button", "data-testid": "history-extract",
      onclick: () => extract(newest),
    }, icon("folderDownload"), "Extract this version"),
  ];
  return h(
    "li",
    { class: "history-group", "data-testid": "history-group", "data-sha256": group.sha256 || "" },
    h("p", { class: "history-sentence", text: sentence }),
    h("p", { class: "hint", text: `${formatDate(first.date)} · ${formatBytes(group.size)} · ` +
      `SHA-256 ${shortHash(group.sha256)}` }),
    h("div", { class: "history-actions" }, actions),
    h("p", { class: "history-note", "data-testid": "history-note", role: "status" }),
  );
}

function versionRef(version) {
  return version ? { backup_id: version.backup_id, archive: version.archive, path: version.path } : null;
}

async function compare(request) {
  const section = byId("history-compare");
  section.hidden = false;
  const heading = byId("history-compare-heading");
  heading.textContent = "Comparing…";
  byId("history-diff").hidden = true;
  byId("history-compare-summary").textContent = "";
  try {
    const answer = await postJson("api/history/compare", request);
    heading.textContent = `${answer.old.label} → ${answer.new.label}`;
    byId("history-compare-summary").textContent = describeComparison(answer);
    if (answer.kind === "text" && !answer.equal) renderDiff(answer.diff);
  } catch (error) {
    heading.textContent = "These versions cannot be compared";
    byId("history-compare-summary").textContent = error.message;
  }
  heading.focus();
}

function describeComparison(answer) {
  if (answer.equal) return "The two versions are the same.";
  if (answer.kind === "binary") {
    return `The files differ (not text): ${formatBytes(answer.old.size)}, SHA-256 ` +
      `${shortHash(answer.old.sha256)} → ${formatBytes(answer.new.size)}, SHA-256 ${shortHash(answer.new.sha256)}.`;
  }
  const added = answer.diff.filter((line) => line.startsWith("+") && !line.startsWith("+++")).length;
  const removed = answer.diff.filter((line) => line.startsWith("-") && !line.startsWith("---")).length;
  return `${formatCount(added, "line")} added, ${formatCount(removed, "line")} removed.`;
}

function renderDiff(lines) {
  const rows = [];
  let oldLine = 0;
  let newLine = 0;
  for (const line of lines) {
    if (line.startsWith("---") || line.startsWith("+++")) continue;
    const hunk = line.match(HUNK);
    if (hunk) {
      oldLine = Number(hunk[1]);
      newLine = Number(hunk[2]);
      rows.push(h("tr", { class: "diff-hunk" }, h("td", { colspan: 3, text: line })));
      continue;
    }
    const kind = line[0] === "+" ? "add" : line[0] === "-" ? "del" : "same";
    const oldNumber = kind === "add" ? "" : String(oldLine++);
    const newNumber = kind === "del" ? "" : String(newLine++);
    rows.push(h("tr", { class: `diff-${kind}`, "data-testid": `diff-${kind}` },
      h("td", { class: "diff-number", text: oldNumber }),
      h("td", { class: "diff-number", text: newNumber }),
      h("td", { class: "diff-text", text: line })));
  }
  replaceChildren(byId("history-diff-rows"), rows);
  byId("history-diff").hidden = false;
}

async function download(version) {
  try {
    await downloadBackupFile(version.backup_id, version.archive, version.path);
  } catch (error) {
    showError(error);
  }
}

async function extract(version) {
  const note = [...document.querySelectorAll("[data-testid=history-group]")]
    .find((item) => item.contains(document.activeElement));
  const status = note ? note.querySelector("[data-testid=history-note]") : null;
  try {
    const answer = await postJson(backupPath(version.backup_id, "/extract"), {
      selections: [{ archive: version.archive, paths: [version.path] }],
      conflict: "keep-both",
    });
    const where = answer.plan && answer.plan.destination ? ` into ${answer.plan.destination}` : "";
    if (status) status.textContent = `Extracting ${version.path} from “${version.name}”${where}: see Jobs.`;
  } catch (error) {
    if (status) status.textContent = error.message;
    else showError(error);
  }
}

// ---- "Compare with…" between two backups

function currentBackupId() {
  const match = window.location.hash.match(BACKUP_ROUTE);
  return match ? match[1] : null;
}

async function fillOtherBackups() {
  const shown = currentBackupId();
  if (!shown) return;
  replaceChildren(byId("backup-compare-result"));
  try {
    const listing = await getJson("api/backups");
    const others = listing.backups.filter((backup) => backup.id !== shown);
    replaceChildren(byId("backup-compare-other"), others.map((backup) =>
      h("option", { value: backup.id, text: backup.name })));
    byId("backup-compare-run").disabled = others.length === 0;
  } catch (error) {
    showError(error);
  }
}

async function compareBackups() {
  const shown = currentBackupId();
  const other = byId("backup-compare-other").value;
  if (!shown || !other) return;
  const box = byId("backup-compare-result");
  replaceChildren(box, h("p", { class: "hint", text: "Comparing…" }));
  try {
    const answer = await postJson("api/history/backup-diff", { old_backup_id: other, new_backup_id: shown });
    replaceChildren(box, renderBackupDiff(answer));
  } catch (error) {
    replaceChildren(box, h("p", { class: "error", role: "alert", text: error.message }));
  }
}

function renderBackupDiff(answer) {
  if (!answer.has_differences && Object.keys(answer.locked).length === 0) {
    return h("p", { text: "No differences: the same files with the same content." });
  }
  const parts = answer.metadata.map((change) =>
    h("li", { text: `${change.field}: ${change.old ?? "—"} → ${change.new ?? "—"}` }));
  for (const name of answer.archives_added) parts.push(h("li", { text: `Archive only in this backup: ${name}` }));
  for (const name of answer.archives_removed) parts.push(h("li", { text: `Archive only in the other: ${name}` }));
  for (const [name, why] of Object.entries(answer.locked)) parts.push(h("li", { text: `${name} not compared: ${why}` }));
  const archives = Object.entries(answer.archives).map(([name, diff]) =>
    h("li", { "data-testid": "backup-compare-archive" },
      `${name}: ${formatCount(diff.added.length, "file")} added, ${diff.removed.length} removed, ` +
      `${diff.changed.length} changed`,
      h("ul", {}, [
        ...diff.added.slice(0, 20).map((item) => h("li", { text: `+ ${item.path} (${formatBytes(item.size)})` })),
        ...diff.removed.slice(0, 20).map((item) => h("li", { text: `− ${item.path} (${formatBytes(item.size)})` })),
        ...diff.changed.slice(0, 20).map((item) =>
          h("li", { text: `~ ${item.path} (${formatBytes(item.old_size)} → ${formatBytes(item.new_size)})` })),
      ])));
  return h("ul", { class: "backup-compare-list" }, parts, archives);
}

export function setUpHistory(options) {
  showError = options.showError;
  byId("history-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const pattern = byId("history-pattern").value.trim();
    if (pattern) find(pattern);
  });
  byId("backup-compare-form").addEventListener("submit", (event) => {
    event.preventDefault();
    compareBackups();
  });
  window.addEventListener("hashchange", fillOtherBackups);
  fillOtherBackups();
}
