// A text file shown in a dialog with line numbers. The content goes in with
// textContent only: it is untrusted text from a backup.

import { backupPath, postJson } from "./api.js";
import { byId } from "./dom.js";
import { formatBytes } from "./format.js";

let opener = null;

/** Fetch a file's text and show it. */
export async function openPreview(backupId, archive, path, name) {
  const dialog = byId("preview-dialog");
  opener = document.activeElement;
  byId("preview-title").textContent = name;
  byId("preview-path").textContent = path;
  byId("preview-status").textContent = "Reading the file from the backup…";
  byId("preview-status").classList.remove("error");
  byId("preview-numbers").textContent = "";
  byId("preview-text").textContent = "";
  dialog.dataset.state = "loading";
  if (!dialog.open) dialog.showModal();
  try {
    const answer = await postJson(backupPath(backupId, "/preview"), { archive, path });
    const lines = answer.text.split("\n");
    if (lines.length > 1 && lines[lines.length - 1] === "") lines.pop();
    byId("preview-numbers").textContent = lines.map((_line, index) => index + 1).join("\n");
    byId("preview-text").textContent = lines.join("\n");
    byId("preview-status").textContent = `${formatBytes(answer.size)}, ${answer.line_count.toLocaleString()} lines`;
    dialog.dataset.state = "ready";
  } catch (error) {
    byId("preview-status").textContent = error.message;
    byId("preview-status").classList.add("error");
    dialog.dataset.state = "error";
  }
}

/** Wire the close button; Escape closes a modal dialog by itself. */
export function setUpPreview() {
  const dialog = byId("preview-dialog");
  byId("preview-close").addEventListener("click", () => dialog.close());
  dialog.addEventListener("close", () => {
    if (opener && typeof opener.focus === "function") opener.focus();
  });
}
