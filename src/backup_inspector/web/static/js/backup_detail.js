// One backup: what it is, its archives, its password, and its checks.

import { backupPath, getJson, postJson } from "./api.js";
import { byId, h, icon, progressBar, replaceChildren, setProgress } from "./dom.js";
import { isFinished, jobSnapshot, onJob, watchJob } from "./events.js";
import { describeProgress, formatBytes, formatDate } from "./format.js";
import { loadSystem, renderRestoreCard } from "./restore_card.js";
import { severityMarks } from "./severity.js";

let current = null; // the backup detail shown
let checkJobId = null;
let onChange = () => {};
let showError = () => {};

const COMPRESSION_TEXT = { true: "gzip", false: "none (plain tar)", null: "unknown until decrypted" };

/** The backup shown, or null. */
export function currentBackup() {
  return current;
}

function describeBackup(detail) {
  if (detail.description) return detail.description;
  if (detail.open_error) return detail.open_error;
  return "This backup has no readable description file, so only its archives can be shown.";
}

function renderFacts(detail) {
  const facts = [
    ["File", detail.file_name],
    ["Size", formatBytes(detail.size)],
    ["Made", formatDate(detail.date || detail.mtime)],
  ];
  if (detail.metadata) {
    facts.push(["Backup format", `version ${detail.metadata.format_version}`]);
    if (detail.supervisor_version) facts.push(["Supervisor", detail.supervisor_version]);
    if (detail.metadata.slug) facts.push(["Slug", detail.metadata.slug]);
  }
  replaceChildren(
    byId("backup-facts"),
    facts.map(([term, value]) => h("div", { class: "fact" }, h("dt", { text: term }), h("dd", { text: value }))),
  );
}

function findingItem(problem) {
  return h(
    "li",
    {
      class: `finding ${problem.severity}`,
      "data-testid": "finding",
      "data-code": problem.code,
      "data-archive": problem.archive || "",
    },
    severityMarks(problem.severity),
    h("span", { text: problem.message }),
  );
}

function renderFindings(detail) {
  const list = byId("backup-findings");
  replaceChildren(list, detail.problems.map(findingItem));
  list.hidden = detail.problems.length === 0;
}

function archiveRow(archive) {
  const compressed = COMPRESSION_TEXT[String(archive.compressed)] || "unknown";
  const status = h("td", { class: "archive-status", "data-testid": "archive-status", "data-label": "Check" }, "–");
  return h(
    "tr",
    { "data-testid": "archive-row", "data-archive": archive.name },
    h(
      "th",
      { scope: "row", "data-label": "Archive" },
      h("span", { class: "archive-label", text: archive.label }),
      h("span", { class: "archive-file", text: archive.archive }),
    ),
    h("td", { "data-label": "Encryption", "data-testid": "archive-encryption" }, archive.encryption_label),
    h("td", { "data-label": "Compression", "data-testid": "archive-compression" }, compressed),
    h("td", { "data-label": "Size" }, formatBytes(archive.size)),
    status,
  );
}

function renderArchives(detail) {
  replaceChildren(byId("archive-rows"), detail.archives.map(archiveRow));
  byId("archive-table").hidden = detail.archives.length === 0;
}

function archiveStatusCell(name) {
  const row = byId("archive-rows").querySelector(`tr[data-archive="${CSS.escape(name)}"]`);
  return row ? row.querySelector(".archive-status") : null;
}

// -- password ---------------------------------------------------------------

function renderPassword(detail) {
  const card = byId("password-card");
  card.hidden = !detail.is_protected;
  const state = detail.password;
  const status = byId("password-status");
  status.classList.remove("error");
  if (state.is_set) {
    const minutes = Math.max(1, Math.round((state.forgotten_in_s || 0) / 60));
    status.textContent = state.is_verified
      ? `Password accepted: it opens every encrypted archive. It is kept in memory only and forgotten after ${minutes} idle minutes.`
      : `A password is set but it does not open every archive. It is forgotten after ${minutes} idle minutes.`;
    status.dataset.state = state.is_verified ? "verified" : "set";
  } else {
    status.textContent = "This backup is encrypted. Enter its password or emergency-kit key, or upload the emergency kit file.";
    status.dataset.state = "unset";
  }
  byId("password-forget").hidden = !state.is_set;
}

async function submitPassword(body) {
  const status = byId("password-status");
  status.classList.remove("error");
  status.textContent = "Checking the password against every encrypted archive…";
  status.dataset.state = "checking";
  try {
    const answer = await postJson(backupPath(current.id, "/password"), body);
    byId("password-input").value = "";
    current.password = answer.password;
    renderPassword(current);
    renderVerdict(answer.check.verdict, answer.check.report);
    renderRestoreCard(answer.check.restore);
    onChange();
  } catch (error) {
    status.textContent = error.message;
    status.classList.add("error");
    status.dataset.state = error.code === "wrong-password" ? "wrong" : "error";
    byId("password-input").focus();
  }
}

async function forgetPassword() {
  try {
    const answer = await postJson(backupPath(current.id, "/password/forget"), {});
    current.password = answer.password;
    renderPassword(current);
    onChange();
  } catch (error) {
    showError(error);
  }
}

// -- checks -----------------------------------------------------------------

// Each level in a word and its own icon shape: the tint is never the only sign.
const VERDICT_LOOK = {
  ok: { word: "Good", icon: "checkCircle" },
  partial: { word: "Not fully checked", icon: "info" },
  warning: { word: "Warnings", icon: "alert" },
  error: { word: "Problems found", icon: "alertCircle" },
};

function renderVerdict(verdict, report) {
  const box = byId("check-verdict");
  box.hidden = false;
  box.dataset.level = verdict.level;
  box.className = `verdict ${verdict.level}`;
  const look = VERDICT_LOOK[verdict.level] || VERDICT_LOOK.partial;
  replaceChildren(byId("verdict-word"), icon(look.icon), look.word);
  replaceChildren(byId("verdict-title"), h("span", { text: verdict.title }));
  replaceChildren(
    byId("verdict-problems"),
    verdict.problems.map((problem) =>
      h(
        "li",
        {
          class: problem.severity,
          "data-testid": "verdict-problem",
          "data-code": problem.code,
          "data-archive": problem.archive || "",
        },
        severityMarks(problem.severity),
        h("span", { class: "problem-code", text: problem.code }),
        " ",
        h("span", { text: problem.message }),
      ),
    ),
  );
  if (report) renderArchiveResults(report);
}

function renderArchiveResults(report) {
  for (const archive of report.archives) {
    const cell = archiveStatusCell(archive.name);
    if (!cell) continue;
    if (archive.compressed !== null && archive.compressed !== undefined) {
      const compression = cell.parentElement.querySelector("[data-testid=archive-compression]");
      compression.textContent = COMPRESSION_TEXT[String(archive.compressed)];
    }
    const errors = archive.problems.filter((problem) => problem.severity === "error");
    let text;
    if (errors.length) text = errors.map((problem) => problem.code).join(", ");
    else if (!archive.ok) text = "not read";
    else if (report.level === "full") text = `read to the last byte${archive.entries !== null ? ` (${archive.entries} entries)` : ""}`;
    else text = "password and header fine";
    cell.dataset.state = errors.length || !archive.ok ? "error" : report.level === "full" ? "ok" : "partial";
    replaceChildren(cell, text);
  }
}

function renderLastCheck(detail) {
  const box = byId("check-verdict");
  if (!detail.last_check) {
    box.hidden = true;
    return;
  }
  const check = detail.last_check;
  renderVerdict({ level: check.level, title: `${check.title} (${check.kind} check, ${formatDate(check.checked_at)})`, problems: [] }, null);
}

function renderCheckJob(job) {
  const progressBox = byId("check-progress");
  const cancel = byId("check-cancel");
  const running = !isFinished(job.state);
  byId("quick-check").disabled = running;
  byId("full-check").disabled = running;
  cancel.hidden = !running;
  progressBox.hidden = !running;
  progressBox.dataset.state = job.state;
  if (job.state === "queued") {
    byId("check-progress-text").textContent = `Waiting for other work to finish (place ${job.queue_position} in the queue)…`;
    setProgress(byId("check-progress-bar"), 0, "queued");
    return;
  }
  if (running) {
    const progress = job.progress;
    byId("check-progress-text").textContent = describeProgress(progress);
    setProgress(byId("check-progress-bar"), progress ? progress.percent : null, describeProgress(progress));
    if (progress) renderArchiveProgress(progress);
    return;
  }
  if (job.state === "succeeded") {
    renderVerdict(job.result.verdict, job.result.report);
    renderRestoreCard(job.result.restore);
    onChange();
  } else if (job.state === "cancelled") {
    renderVerdict({ level: "warning", title: "The check was cancelled.", problems: [] }, null);
  } else {
    renderVerdict({ level: "error", title: job.error ? job.error.message : "The check failed.", problems: [] }, null);
  }
  focusVerdict(job.id);
}

let verdictFocusedFor = null;

/** Move the focus to a finished check's verdict (once per job), unless the person moved on. */
function focusVerdict(jobId) {
  if (verdictFocusedFor === jobId) return;
  verdictFocusedFor = jobId;
  const active = document.activeElement;
  const idle = !active || active === document.body || byId("check-card").contains(active);
  if (idle) byId("check-verdict").focus();
}

function renderArchiveProgress(progress) {
  for (const [name, part] of Object.entries(progress.archives || {})) {
    const cell = archiveStatusCell(name);
    if (!cell) continue;
    let bar = cell.querySelector(".progress");
    if (!bar) {
      bar = progressBar(`Progress of ${name}`, "archive-progress");
      replaceChildren(cell, bar);
    }
    setProgress(bar, part.percent, `${part.percent ?? 0} %`);
  }
}

async function startCheck(kind) {
  try {
    byId("check-verdict").hidden = true;
    const answer = await postJson(backupPath(current.id, "/checks"), { kind });
    checkJobId = answer.job.id;
    watchJob(answer.job);
    renderCheckJob(jobSnapshot(checkJobId) || answer.job);
  } catch (error) {
    showError(error);
  }
}

async function cancelCheck() {
  if (!checkJobId) return;
  try {
    const answer = await postJson(`api/jobs/${encodeURIComponent(checkJobId)}/cancel`, {});
    watchJob(answer.job);
  } catch (error) {
    showError(error);
  }
}

function resumeRunningCheck(detail) {
  const running = (detail.jobs || []).filter(
    (job) => (job.kind === "full-check" || job.kind === "quick-check") && !isFinished(job.state),
  );
  checkJobId = running.length ? running[running.length - 1].id : null;
  byId("quick-check").disabled = false;
  byId("full-check").disabled = false;
  byId("check-cancel").hidden = true;
  byId("check-progress").hidden = true;
  if (checkJobId) {
    watchJob(running[running.length - 1]);
    renderCheckJob(running[running.length - 1]);
  }
}

// -- loading ----------------------------------------------------------------

/** Load and show one backup. */
export async function showBackupDetail(backupId) {
  const detail = await getJson(backupPath(backupId));
  current = detail;
  byId("backup-name").textContent = detail.name;
  byId("backup-description").textContent = describeBackup(detail);
  renderFacts(detail);
  renderFindings(detail);
  renderArchives(detail);
  renderPassword(detail);
  renderLastCheck(detail);
  renderRestoreCard(detail.last_check ? detail.last_check.restore : null, detail.last_check ? detail.last_check.checked_at : null);
  loadSystem();
  resumeRunningCheck(detail);
  return detail;
}

/** Re-read the password state and last check without resetting the page. */
export async function refreshBackupDetail() {
  if (!current) return null;
  const detail = await getJson(backupPath(current.id));
  current = detail;
  renderPassword(detail);
  return detail;
}

/** Forget the shown backup (when going back to the list). */
export function clearBackupDetail() {
  current = null;
  checkJobId = null;
}

/** Wire the password form, the check buttons and job events. */
export function setUpBackupDetail(callbacks) {
  onChange = callbacks.onChange;
  showError = callbacks.showError;
  byId("password-form").addEventListener("submit", (event) => {
    event.preventDefault();
    submitPassword({ password: byId("password-input").value });
  });
  byId("password-input").addEventListener("paste", (event) => {
    const text = event.clipboardData ? event.clipboardData.getData("text") : "";
    if (text.includes("\n")) {
      // A pasted emergency kit: an <input> would drop its line breaks.
      event.preventDefault();
      submitPassword({ password: text });
    }
  });
  byId("kit-file").addEventListener("change", async (event) => {
    const file = event.target.files[0];
    event.target.value = "";
    if (!file) return;
    if (file.size > 64 * 1024) {
      byId("password-status").textContent = "That file is too big to be an emergency kit.";
      return;
    }
    submitPassword({ kit_text: await file.text() });
  });
  byId("password-forget").addEventListener("click", forgetPassword);
  byId("quick-check").addEventListener("click", () => startCheck("quick"));
  byId("full-check").addEventListener("click", () => startCheck("full"));
  byId("check-cancel").addEventListener("click", cancelCheck);
  onJob((job) => {
    if (job.id === checkJobId) renderCheckJob(job);
  });
}

