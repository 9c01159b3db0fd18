// Taking the selected files out into the share folder.

import { backupPath, postJson } from "./api.js";
import { clearSelection, onSelectionChange, selectedEntries, unselect } from "./browser.js";
import { byId, h, icon, replaceChildren, setProgress } from "./dom.js";
import { isFinished, jobSnapshot, onJob, watchJob } from "./events.js";
import { describeProgress, formatBytes, formatCount } from "./format.js";

let backup = null;
let extractJobId = null;
let planTimer = null;
let showError = () => {};

function selectionsForApi() {
  const byArchive = new Map();
  for (const entry of selectedEntries()) {
    if (!byArchive.has(entry.archive)) byArchive.set(entry.archive, []);
    byArchive.get(entry.archive).push(entry.path);
  }
  return [...byArchive.entries()].map(([archive, paths]) => ({
    archive,
    paths: paths.includes(".") ? [] : paths,
  }));
}

function conflictPolicy() {
  const checked = document.querySelector("input[name=conflict]:checked");
  return checked ? checked.value : "skip";
}

function renderSelection() {
  const entries = selectedEntries();
  const summary = byId("selection-summary");
  summary.textContent = entries.length
    ? `${formatCount(entries.length, "item")} selected.`
    : "Nothing selected yet: tick files or folders while browsing (from any archive of this backup).";
  replaceChildren(
    byId("selection-list"),
    entries.map((entry) =>
      h(
        "li",
        { class: "chip", "data-testid": "selection-item", "data-path": entry.path, "data-archive": entry.archive },
        h("span", { text: `${entry.archive}: ${entry.path === "." ? "everything" : entry.path}` }),
        h(
          "button",
          {
            type: "button",
            class: "chip-remove",
            "aria-label": `Remove ${entry.path} from the selection`,
            onclick: () => unselect(entry.archive, entry.path),
          },
          icon("close"),
        ),
      ),
    ),
  );
  byId("selection-clear").hidden = entries.length === 0;
  byId("extract-start").disabled = entries.length === 0 || extractJobId !== null;
  schedulePlan();
}

function schedulePlan() {
  window.clearTimeout(planTimer);
  planTimer = window.setTimeout(updatePlan, 300);
}

async function updatePlan() {
  const space = byId("extract-space");
  if (!backup || selectedEntries().length === 0) {
    space.textContent = "";
    space.dataset.state = "";
    return;
  }
  try {
    const answer = await postJson(backupPath(backup.id, "/extract/plan"), {
      selections: selectionsForApi(),
      destination: byId("extract-destination").value,
    });
    const plan = answer.plan;
    const needed =
      plan.needed_bytes === null
        ? "Space needed: known once every chosen archive has been read"
        : `Space needed: ${formatBytes(plan.needed_bytes)} (${formatCount(plan.file_count, "file")})`;
    const reserve = plan.needs_confirmation
      ? ` · Less than ${formatBytes(plan.reserve_bytes)} would stay free: you will be asked to confirm`
      : "";
    space.textContent = `${needed} · Free: ${formatBytes(plan.free_bytes)}${reserve}${plan.destination_exists ? " · The folder exists already" : ""}`;
    space.dataset.state =
      plan.has_enough_space === false ? "not-enough" : plan.needs_confirmation ? "low-space" : "ok";
    space.classList.toggle("error", plan.has_enough_space === false);
    byId("extract-destination").setAttribute("aria-invalid", "false");
  } catch (error) {
    space.textContent = error.message;
    space.dataset.state = "error";
    space.classList.add("error");
    if (error.code === "destination-outside-share") byId("extract-destination").setAttribute("aria-invalid", "true");
  }
}

function summaryList(title, items, total, testId, describe) {
  if (!total) return null;
  const more = total > items.length ? h("li", { text: `… and ${(total - items.length).toLocaleString()} more` }) : null;
  return h(
    "details",
    { "data-testid": testId, open: total <= 10 },
    h("summary", { text: `${title} (${total.toLocaleString()})` }),
    h("ul", {}, items.map((item) => h("li", { text: describe(item) })), more),
  );
}

function describeItem(item) {
  if (Array.isArray(item)) return item.length > 1 ? `${item[0]}: ${item[1]}` : String(item[0]);
  if (typeof item === "object" && item !== null) {
    const path = item.path || item.from || item.name || "";
    return item.reason ? `${path}: ${item.reason}` : item.to ? `${path} → ${item.to}` : path;
  }
  return String(item);
}

function renderSummary(result) {
  const report = result.report;
  const box = byId("extract-summary");
  box.hidden = false;
  const written = report.written || [];
  const skipped = report.skipped || [];
  const refused = report.refused || [];
  const renamed = report.renamed || [];
  const count = (key, items) => report[`${key}_count`] ?? items.length;
  const problems = report.problems || [];
  const hasErrors = problems.some((problem) => problem.severity === "error") || report.stopped_reason;
  box.dataset.state = hasErrors ? "error" : "ok";
  replaceChildren(
    box,
    h(
      "p",
      { class: "summary-title", "data-testid": "extract-result" },
      icon(hasErrors ? "alertCircle" : "checkCircle"),
      h("span", {
        text: `${formatCount(count("written", written), "item")} written (${formatBytes(report.bytes_written || 0)}) to share/${result.destination}. ` +
          `${count("skipped", skipped).toLocaleString()} skipped, ${count("refused", refused).toLocaleString()} refused.`,
      }),
    ),
    report.stopped_reason ? h("p", { class: "error", text: `Stopped: ${report.stopped_reason}` }) : null,
    summaryList("Written", written, count("written", written), "extract-written", describeItem),
    summaryList("Skipped", skipped, count("skipped", skipped), "extract-skipped", describeItem),
    summaryList("Refused", refused, count("refused", refused), "extract-refused", describeItem),
    summaryList("Renamed", renamed, count("renamed", renamed), "extract-renamed", describeItem),
    problems.length
      ? h("ul", { class: "problems" }, problems.map((problem) => h("li", { class: problem.severity, text: problem.message })))
      : null,
  );
}

function renderJob(job) {
  const running = !isFinished(job.state);
  byId("extract-progress").hidden = !running;
  byId("extract-cancel").hidden = !running;
  byId("extract-start").disabled = running;
  if (running) {
    const text = job.state === "queued" ? `Waiting (place ${job.queue_position} in the queue)…` : describeProgress(job.progress);
    byId("extract-progress-text").textContent = text;
    setProgress(byId("extract-progress-bar"), job.progress ? job.progress.percent : job.state === "queued" ? 0 : null, text);
    return;
  }
  extractJobId = null;
  byId("extract-start").disabled = selectedEntries().length === 0;
  if (job.state === "succeeded") renderSummary(job.result);
  else {
    const box = byId("extract-summary");
    box.hidden = false;
    box.dataset.state = "error";
    replaceChildren(box, h("p", { class: "error", text: job.state === "cancelled" ? "Extraction cancelled. Files completed before the cancel were kept." : job.error.message }));
  }
  schedulePlan();
}

// Extracting would leave less free space than Home Assistant needs: the
// server's message has the numbers; the user decides.
function askToConfirmLowSpace(message, confirmed) {
  const box = byId("extract-summary");
  box.hidden = false;
  box.dataset.state = "confirm";
  const confirmButton = h("button", {
    type: "button",
    class: "primary",
    "data-testid": "extract-confirm-low-space",
    text: "Extract anyway",
    onclick: () => startExtraction({ ...confirmed, allowLowSpace: true }),
  });
  replaceChildren(
    box,
    h("p", { class: "warning", role: "alert", "data-testid": "extract-low-space", text: message }),
    h(
      "div",
      { class: "confirm-actions" },
      confirmButton,
      h("button", {
        type: "button",
        text: "Cancel",
        onclick: () => {
          box.hidden = true;
        },
      }),
    ),
  );
  confirmButton.focus();
}

/** Ask before a sensitive archive goes into the share folder; resolves to true on "Extract anyway". */
function confirmSensitive(message) {
  const dialog = byId("sensitive-dialog");
  byId("sensitive-text").textContent = message;
  dialog.returnValue = "";
  dialog.showModal();
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "confirm"), { once: true });
  });
}

// `confirmed`: what the user already agreed to (low space, sensitive archives).
async function startExtraction(confirmed = {}) {
  byId("extract-summary").hidden = true;
  try {
    const answer = await postJson(backupPath(backup.id, "/extract"), {
      selections: selectionsForApi(),
      destination: byId("extract-destination").value,
      conflict: conflictPolicy(),
      allow_low_space: confirmed.allowLowSpace === true,
      confirm_sensitive: confirmed.sensitive === true,
    });
    extractJobId = answer.job.id;
    watchJob(answer.job);
    // A small extraction can finish, and its event arrive, before this answer: show the newest state.
    renderJob(jobSnapshot(extractJobId) || answer.job);
  } catch (error) {
    if (error.code === "low-space-confirmation") {
      askToConfirmLowSpace(error.message, confirmed);
      return;
    }
    if (error.code === "sensitive-archive-needs-confirmation" && !confirmed.sensitive) {
      // The server knows which archives hold system passwords; it asks, the page relays.
      const agreed = await confirmSensitive(error.message);
      byId("extract-start").focus();
      if (agreed) startExtraction({ ...confirmed, sensitive: true });
      return;
    }
    const box = byId("extract-summary");
    box.hidden = false;
    box.dataset.state = "error";
    replaceChildren(box, h("p", { class: "error", role: "alert", text: error.message }));
  }
}

async function cancelExtraction() {
  if (!extractJobId) return;
  try {
    const answer = await postJson(`api/jobs/${encodeURIComponent(extractJobId)}/cancel`, {});
    watchJob(answer.job);
  } catch (error) {
    showError(error);
  }
}

/** Show the extract card for a backup. */
export function setExtractBackup(detail) {
  const isNewBackup = !backup || backup.id !== detail.id;
  backup = detail;
  if (isNewBackup) {
    byId("extract-destination").value = detail.default_destination;
    byId("extract-summary").hidden = true;
    byId("extract-progress").hidden = true;
    extractJobId = null;
    const running = (detail.jobs || []).filter((job) => job.kind === "extract" && !isFinished(job.state));
    if (running.length) {
      extractJobId = running[running.length - 1].id;
      watchJob(running[running.length - 1]);
      renderJob(running[running.length - 1]);
    }
  }
  renderSelection();
}

/** Wire the extract card. */
export function setUpExtractor(callbacks) {
  showError = callbacks.showError;
  onSelectionChange(renderSelection);
  byId("extract-destination").addEventListener("input", schedulePlan);
  byId("extract-start").addEventListener("click", () => startExtraction());
  byId("extract-cancel").addEventListener("click", cancelExtraction);
  byId("selection-clear").addEventListener("click", clearSelection);
  onJob((job) => {
    if (job.id === extractJobId) renderJob(job);
  });
}
