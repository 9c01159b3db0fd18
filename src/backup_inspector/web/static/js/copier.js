// "Make a copy…" and "Replace in a copy…": choose, review a summary, then write.
//
// Nothing is written before the person has seen the summary. The server
// writes the copy into the backup folder, runs a full check on it, and only
// then gives it its name; the result says whether Home Assistant lists it.

import { ApiError, backupPath, postJson } from "./api.js";
import { byId, h, icon, replaceChildren, setProgress } from "./dom.js";
import { isFinished, jobSnapshot, onJob, watchJob } from "./events.js";
import { describeProgress, formatBytes } from "./format.js";

let backup = null;
let copyJobId = null;
let edits = []; // [{archive, path, upload: {id, name, size}}]
let replaceTarget = null; // {archive, row, download}
let showError = () => {};

const ENCRYPTION_WORDS = {
  none: "No encryption",
  "securetar-v3": "A new password (SecureTar v3, as Home Assistant writes it)",
  unchanged: "As it is",
};

function chosenMode() {
  const checked = document.querySelector("input[name=copy-mode]:checked");
  return checked ? checked.value : "keep";
}

function damagedArchives(detail) {
  const damaged = new Set((detail.last_check && detail.last_check.damaged_archives) || []);
  for (const archive of detail.archives || []) {
    if (archive.complete === false) damaged.add(archive.name);
  }
  return damaged;
}

function renderArchiveChoices() {
  const damaged = damagedArchives(backup);
  byId("copy-drop-hint").textContent = damaged.size
    ? "The last check found damage in the archives ticked below; the copy leaves them out unless you untick them."
    : "Tick an archive to leave it out of the copy.";
  replaceChildren(
    byId("copy-archives"),
    (backup.archives || []).map((archive) =>
      h(
        "label",
        { class: "copy-archive" },
        h("input", {
          type: "checkbox",
          name: "copy-drop",
          value: archive.name,
          "data-testid": "copy-drop-archive",
          "data-archive": archive.name,
          checked: damaged.has(archive.name),
        }),
        ` ${archive.label} (${archive.archive})`,
        damaged.has(archive.name) ? h("span", { class: "badge error", text: "damaged" }) : null,
      ),
    ),
  );
}

function renderEdits() {
  byId("copy-edits-box").hidden = edits.length === 0;
  replaceChildren(
    byId("copy-edits"),
    edits.map((edit, index) =>
      h(
        "li",
        { class: "chip", "data-testid": "copy-edit", "data-path": edit.path },
        h("span", { text: `${edit.archive}: ${edit.path} ← ${edit.upload.name} (${formatBytes(edit.upload.size)})` }),
        h(
          "button",
          {
            type: "button",
            class: "chip-remove",
            "aria-label": `Keep ${edit.path} as it is`,
            onclick: () => {
              edits.splice(index, 1);
              renderEdits();
              hideSummary();
            },
          },
          icon("close"),
        ),
      ),
    ),
  );
}

function requestBody() {
  const mode = chosenMode();
  return {
    name: byId("copy-name").value,
    mode,
    new_password: mode === "new-password" ? byId("copy-new-password").value : undefined,
    drop: [...document.querySelectorAll("input[name=copy-drop]:checked")].map((box) => box.value),
    edits: edits.map((edit) => ({ archive: edit.archive, path: edit.path, upload_id: edit.upload.id })),
  };
}

function hideSummary() {
  byId("copy-summary").hidden = true;
}

function openForm() {
  const form = byId("copy-form");
  form.hidden = false;
  byId("copy-open").setAttribute("aria-expanded", "true");
  byId("copy-result").hidden = true;
  byId("copy-name").focus();
}

function fact(term, value, testId) {
  return [h("dt", { text: term }), h("dd", { text: value, "data-testid": testId })];
}

async function reviewCopy(event) {
  event.preventDefault();
  hideSummary();
  try {
    const answer = await postJson(backupPath(backup.id, "/copy/plan"), requestBody());
    const plan = answer.plan;
    const dropped = plan.drop.length ? plan.drop.join(", ") : "nothing";
    const changed = plan.edits.length
      ? plan.edits.map((edit) => `${edit.archive}: ${edit.path} (${edit.action})`).join("; ")
      : "no file";
    replaceChildren(
      byId("copy-summary-facts"),
      fact("Name", plan.name, "copy-summary-name"),
      fact("File in the backup folder", plan.file, "copy-summary-file"),
      fact("Encryption", ENCRYPTION_WORDS[plan.encryption] || plan.encryption, "copy-summary-encryption"),
      fact("Left out", dropped, "copy-summary-dropped"),
      fact("Changed", changed, "copy-summary-changed"),
      fact("Space", `about ${formatBytes(plan.source_bytes)} needed, ${formatBytes(plan.free_bytes)} free`, "copy-summary-space"),
    );
    byId("copy-start").disabled = !plan.has_enough_space;
    byId("copy-summary").hidden = false;
    byId("copy-summary").focus();
  } catch (error) {
    showResult("error", error.message);
  }
}

function showResult(state, ...lines) {
  const box = byId("copy-result");
  box.hidden = false;
  box.dataset.state = state;
  replaceChildren(
    box,
    h(
      "p",
      { class: "summary-title", "data-testid": "copy-result-title" },
      icon(state === "ok" ? "checkCircle" : "alertCircle"),
      h("span", { text: lines[0] }),
    ),
    lines.slice(1).map((line) => h("p", { text: line })),
  );
}

function renderJob(job) {
  const running = !isFinished(job.state);
  byId("copy-progress").hidden = !running;
  byId("copy-start").disabled = running;
  if (running) {
    const phase = job.progress && job.progress.message ? `${job.progress.message}: ` : "";
    const text = job.state === "queued" ? `Waiting (place ${job.queue_position} in the queue)…` : `${phase}${describeProgress(job.progress)}`;
    byId("copy-progress-text").textContent = text;
    setProgress(byId("copy-progress-bar"), job.progress ? job.progress.percent : null, text);
    return;
  }
  copyJobId = null;
  if (job.state === "succeeded") {
    const result = job.result;
    const copy = result.copy;
    const left = copy.dropped.length ? `It leaves out ${copy.dropped.map((item) => item.label).join(", ")}.` : null;
    showResult(
      "ok",
      `“${copy.name}” was written to the backup folder as ${result.file} and passed its full check.`,
      left,
      result.reload.message,
    );
    edits = [];
    renderEdits();
    byId("copy-form").hidden = true;
    byId("copy-open").setAttribute("aria-expanded", "false");
  } else if (job.state === "cancelled") {
    showResult("error", "The copy was cancelled; nothing was left in the backup folder.");
  } else {
    showResult("error", job.error ? job.error.message : "The copy failed; nothing was left in the backup folder.");
  }
  byId("copy-result").focus();
}

async function startCopy() {
  byId("copy-result").hidden = true;
  try {
    const answer = await postJson(backupPath(backup.id, "/copy"), requestBody());
    copyJobId = answer.job.id;
    watchJob(answer.job);
    // The job may have finished (and its event arrived) before this answer did.
    renderJob(jobSnapshot(copyJobId) || answer.job);
  } catch (error) {
    showResult("error", error.message);
  }
}

async function cancelCopy() {
  if (!copyJobId) return;
  try {
    watchJob((await postJson(`api/jobs/${encodeURIComponent(copyJobId)}/cancel`, {})).job);
  } catch (error) {
    showError(error);
  }
}

async function uploadFile(file) {
  const form = new FormData();
  form.append("file", file, file.name);
  let response;
  try {
    response = await fetch("api/uploads", { method: "POST", body: form, cache: "no-store" });
  } catch {
    throw new ApiError(0, "offline", "Backup Inspector cannot be reached. Is the add-on running?");
  }
  const body = await response.json().catch(() => null);
  if (!response.ok) {
    const error = (body && body.error) || {};
    throw new ApiError(response.status, error.code || "http-error", error.message || `The server answered ${response.status}.`);
  }
  return body.upload;
}

/** Open "Replace in a copy…" for one file of the archive being browsed. */
export function openReplaceDialog(archive, row, download) {
  replaceTarget = { archive, row, download };
  byId("replace-path").textContent = `${archive}: ${row.path}`;
  byId("replace-file").value = "";
  byId("replace-status").textContent = "";
  byId("replace-add").disabled = true;
  byId("replace-dialog").showModal();
}

async function addReplacement() {
  const file = byId("replace-file").files[0];
  if (!file || !replaceTarget) return;
  const status = byId("replace-status");
  status.textContent = `Uploading ${file.name} (${formatBytes(file.size)})…`;
  byId("replace-add").disabled = true;
  try {
    const upload = await uploadFile(file);
    const { archive, row } = replaceTarget;
    edits = edits.filter((edit) => !(edit.archive === archive && edit.path === row.path));
    edits.push({ archive, path: row.path, upload });
    byId("replace-dialog").close();
    renderEdits();
    openForm();
    byId("copy-card").scrollIntoView({ block: "start" });
  } catch (error) {
    status.textContent = error.message;
    byId("replace-add").disabled = false;
  }
}

/** Show the copy card for a backup (called again when its details change). */
export function setCopyBackup(detail) {
  const isNewBackup = !backup || backup.id !== detail.id;
  backup = detail;
  if (isNewBackup) {
    edits = [];
    copyJobId = null;
    byId("copy-form").hidden = true;
    byId("copy-open").setAttribute("aria-expanded", "false");
    byId("copy-result").hidden = true;
    byId("copy-progress").hidden = true;
    byId("copy-name").value = `${detail.name} (copy)`;
    hideSummary();
    renderEdits();
    const running = (detail.jobs || []).filter((job) => job.kind === "copy" && !isFinished(job.state));
    if (running.length) {
      copyJobId = running[running.length - 1].id;
      watchJob(running[running.length - 1]);
      renderJob(running[running.length - 1]);
    }
  }
  const isProtected = Boolean(detail.is_protected);
  byId("copy-mode-decrypt-label").hidden = !isProtected;
  byId("copy-mode-keep-text").textContent = isProtected ? "Keep the same password" : "Keep it unencrypted";
  renderArchiveChoices();
}

/** Wire the copy card and the replace dialog. */
export function setUpCopier(callbacks) {
  showError = callbacks.showError;
  byId("copy-open").addEventListener("click", openForm);
  byId("copy-form").addEventListener("submit", reviewCopy);
  byId("copy-form").addEventListener("change", (event) => {
    if (event.target.name === "copy-mode") {
      byId("copy-new-password-row").hidden = chosenMode() !== "new-password";
    }
    hideSummary();
  });
  byId("copy-form").addEventListener("input", hideSummary);
  byId("copy-start").addEventListener("click", startCopy);
  byId("copy-cancel").addEventListener("click", cancelCopy);
  byId("replace-close").addEventListener("click", () => byId("replace-dialog").close());
  byId("replace-file").addEventListener("change", () => {
    byId("replace-add").disabled = byId("replace-file").files.length === 0;
  });
  byId("replace-download").addEventListener("click", () => replaceTarget && replaceTarget.download());
  byId("replace-add").addEventListener("click", addReplacement);
  onJob((job) => {
    if (job.id === copyJobId) renderJob(job);
  });
}
