// Browsing one archive: a folder at a time, a page at a time, filled while it streams.
//
// The server keeps the listing; the page asks for one page (200 rows) of one
// folder, so an archive of 100 000 entries never sends more than a page.

import { backupPath, downloadBackupFile, postJson } from "./api.js";
import { byId, h, icon, replaceChildren } from "./dom.js";
import { isFinished, onJob, watchJob } from "./events.js";
import { describeProgress, formatBytes, formatCount, formatDate } from "./format.js";
import { openPreview } from "./preview.js";
import { openReplaceDialog } from "./copier.js";

const PAGE_SIZE = 200;
const REFRESH_WHILE_LISTING_MS = 1000;
const PREVIEW_MAX_BYTES = 4 * 1024 * 1024;
const TEXT_EXTENSIONS = new Set([
  "yaml", "yml", "json", "log", "txt", "conf", "cfg", "ini", "md", "csv", "xml", "toml",
  "py", "js", "sh", "env", "properties", "html", "css", "pem", "crt", "list", "jinja", "j2",
]);

let backup = null;
let archiveName = null;
let folder = "";
let filterText = "";
let offset = 0;
let listingJobId = null;
let lastRefreshAt = 0;
let refreshTimer = null;
let requestCounter = 0;
let lastAutoListing = { key: "", at: 0 };
let showError = () => {};
const selection = new Map(); // "archive\u0000path" -> {archive, path, name, type, size}
const selectionListeners = new Set();

/** The selected entries, grouped for the extract API. */
export function selectedEntries() {
  return [...selection.values()];
}

/** Call `listener()` whenever the selection changes. */
export function onSelectionChange(listener) {
  selectionListeners.add(listener);
}

function selectionChanged() {
  for (const listener of selectionListeners) listener();
}

/** Remove one selected entry (from the extract card). */
export function unselect(archive, path) {
  selection.delete(`${archive}\u0000${path}`);
  selectionChanged();
  for (const box of byId("entry-rows").querySelectorAll("input[type=checkbox]")) {
    if (box.dataset.path === path && archive === archiveName) box.checked = false;
  }
}

/** Clear the whole selection. */
export function clearSelection() {
  selection.clear();
  selectionChanged();
  for (const box of byId("entry-rows").querySelectorAll("input[type=checkbox]")) box.checked = false;
}

function setListingStatus(text, state) {
  const status = byId("listing-status");
  status.textContent = text;
  status.dataset.state = state;
  status.classList.toggle("error", state === "error");
  byId("listing-retry").hidden = state !== "error";
}

function archiveOf(name) {
  return backup ? backup.archives.find((archive) => archive.name === name) : null;
}

function isEncrypted(archive) {
  return archive && archive.encryption && archive.encryption.startsWith("securetar");
}

function canPreview(row) {
  if (row.type !== "file" || row.size > PREVIEW_MAX_BYTES) return false;
  const name = row.name.toLowerCase();
  const dot = name.lastIndexOf(".");
  if (dot <= 0) return true; // no extension: often JSON (.storage files) or text
  return TEXT_EXTENSIONS.has(name.slice(dot + 1));
}

function entryIcon(row) {
  if (row.type === "dir") return icon("folder", "entry-icon folder");
  if (row.type === "symlink" || row.type === "hardlink") return icon("link", "entry-icon");
  return icon("file", "entry-icon");
}

async function downloadEntry(row) {
  try {
    await downloadBackupFile(backup.id, archiveName, row.path);
  } catch (error) {
    showError(error);
  }
}

function entryRow(row) {
  const key = `${archiveName}\u0000${row.path}`;
  const displayName = filterText ? row.path : row.name;
  const checkbox = h("input", {
    type: "checkbox",
    "data-testid": "entry-select",
    "data-path": row.path,
    "aria-label": `Select ${displayName}`,
  });
  checkbox.checked = selection.has(key);
  checkbox.addEventListener("change", () => {
    if (checkbox.checked) {
      selection.set(key, { archive: archiveName, path: row.path, name: row.name, type: row.type, size: row.size });
    } else {
      selection.delete(key);
    }
    selectionChanged();
  });
  const nameCell =
    row.type === "dir"
      ? h(
          "button",
          {
            type: "button",
            class: "link-button",
            "data-testid": "entry-open",
            onclick: () => openFolder(row.path),
          },
          entryIcon(row),
          h("span", { text: displayName }),
        )
      : h("span", { class: "entry-name" }, entryIcon(row), h("span", { text: displayName }));
  const actions = h("td", { class: "entry-actions", "data-label": "Actions" });
  if (row.type === "file" || row.type === "hardlink") {
    if (canPreview(row)) {
      actions.append(
        h(
          "button",
          {
            type: "button",
            class: "icon-button",
            "data-testid": "entry-preview",
            "aria-label": `Preview ${row.name}`,
            title: "Preview",
            onclick: () => openPreview(backup.id, archiveName, row.path, row.name),
          },
          icon("eye"),
        ),
      );
    }
    actions.append(
      h(
        "button",
        {
          type: "button",
          class: "icon-button",
          "data-testid": "entry-download",
          "aria-label": `Download ${row.name}`,
          title: "Download",
          onclick: () => downloadEntry(row),
        },
        icon("download"),
      ),
    );
  }
  if (row.type === "file") {
    const archive = archiveName;
    actions.append(
      h(
        "button",
        {
          type: "button",
          class: "icon-button",
          "data-testid": "entry-replace",
          "aria-label": `Replace ${row.name} in a copy…`,
          title: "Replace in a copy…",
          onclick: () => openReplaceDialog(archive, row, () => downloadEntry(row)),
        },
        icon("upload"),
      ),
    );
  }
  let sizeText = row.type === "dir" ? `${formatBytes(row.size)}` : formatBytes(row.size);
  if (row.type === "symlink") sizeText = `→ ${row.link}`;
  return h(
    "tr",
    { "data-testid": "entry-row", "data-path": row.path, "data-type": row.type },
    h("td", { class: "entry-select" }, checkbox),
    h("td", { class: "entry-name-cell", "data-label": "Name" }, nameCell),
    h("td", { class: "entry-size", "data-label": "Size" }, sizeText),
    h("td", { class: "entry-date", "data-label": "Modified" }, row.mtime ? formatDate(row.mtime) : ""),
    actions,
  );
}

function renderBreadcrumbs(crumbs) {
  const items = crumbs.map((crumb, position) => {
    const isLast = position === crumbs.length - 1;
    return h(
      "li",
      {},
      isLast
        ? h("span", { "aria-current": "page", text: crumb.name })
        : h("button", { type: "button", class: "link-button", onclick: () => openFolder(crumb.folder), text: crumb.name }),
    );
  });
  replaceChildren(byId("breadcrumbs"), items);
}

function renderListingStatus(listing, job) {
  if (listing.error) {
    setListingStatus(listing.error.message, "error");
  } else if (!listing.is_complete) {
    const progress = job && job.progress ? ` · ${describeProgress(job.progress)}` : "";
    const waiting = job && job.state === "queued" ? ` · waiting (place ${job.queue_position} in the queue)` : "";
    setListingStatus(`Reading the archive… ${formatCount(listing.entry_count, "entry", "entries")} so far${progress}${waiting}`, "listing");
  } else {
    const problems = (listing.result && listing.result.problems) || [];
    const damaged = problems.find((problem) => problem.severity === "error");
    const base = `${formatCount(listing.entry_count, "entry", "entries")}, ${formatBytes(listing.total_size)} in ${formatCount(listing.file_count, "file")}.`;
    const readToEnd = Boolean(listing.result && listing.result.read_to_end);
    if (damaged && readToEnd) setListingStatus(`${base} Every entry was read, but ${damaged.message}`, "damaged");
    else if (damaged) setListingStatus(`${base} The listing stopped early: ${damaged.message}`, "damaged");
    else setListingStatus(base, "complete");
  }
}

function renderPage(page) {
  renderBreadcrumbs(page.breadcrumbs);
  replaceChildren(byId("entry-rows"), page.entries.map(entryRow));
  const empty = byId("entries-empty");
  empty.hidden = page.entries.length > 0;
  const pageable = page.pageable ?? page.total;
  empty.textContent = page.listing.is_complete
    ? filterText
      ? page.offset >= pageable && page.total > 0
        ? `Only the first ${pageable.toLocaleString()} matches can be shown for an encrypted backup: narrow the filter.`
        : "No entry matches the filter."
      : "This folder is empty."
    : "Nothing here yet: the archive is still being read.";
  const first = page.total ? page.offset + 1 : 0;
  const last = page.offset + page.entries.length;
  byId("page-info").textContent = `${first.toLocaleString()}–${last.toLocaleString()} of ${page.total.toLocaleString()}`;
  byId("page-prev").disabled = page.offset === 0;
  byId("page-next").disabled = last >= pageable;
  byId("entry-table").dataset.complete = String(page.listing.is_complete);
}

/** Ask the server for the current page and show it. */
async function loadPage() {
  if (!backup || !archiveName) return;
  const requestNumber = ++requestCounter;
  lastRefreshAt = Date.now();
  try {
    const page = await postJson(backupPath(backup.id, "/browse"), {
      archive: archiveName,
      folder,
      filter: filterText,
      offset,
      limit: PAGE_SIZE,
    });
    if (requestNumber !== requestCounter) return; // a newer request superseded this one
    renderPage(page);
    renderListingStatus(page.listing, null);
  } catch (error) {
    // The listing was dropped (the file changed, the password was forgotten):
    // read it again, but only once in a while so a failing archive cannot loop.
    const key = `${backup.id}/${archiveName}`;
    const now = Date.now();
    if (error.code === "not-listed" && (lastAutoListing.key !== key || now - lastAutoListing.at > 10000)) {
      lastAutoListing = { key, at: now };
      await startListing();
    } else {
      setListingStatus(error.message, "error");
    }
  }
}

function scheduleRefresh() {
  if (refreshTimer !== null) return;
  const wait = Math.max(0, REFRESH_WHILE_LISTING_MS - (Date.now() - lastRefreshAt));
  refreshTimer = window.setTimeout(() => {
    refreshTimer = null;
    loadPage();
  }, wait);
}

async function startListing() {
  const archive = archiveOf(archiveName);
  if (isEncrypted(archive) && !backup.password.is_set) {
    setListingStatus(`${archive.archive} is encrypted: enter the backup's password above to browse it.`, "locked");
    replaceChildren(byId("entry-rows"));
    byId("entries-empty").hidden = true;
    return;
  }
  try {
    const answer = await postJson(backupPath(backup.id, "/listing"), { archive: archiveName });
    listingJobId = answer.listing.job_id;
    if (answer.job) watchJob(answer.job);
    renderListingStatus(answer.listing, answer.job);
    await loadPage();
  } catch (error) {
    setListingStatus(error.message, "error");
  }
}

function openFolder(path) {
  folder = path;
  offset = 0;
  filterText = "";
  byId("browse-filter").value = "";
  loadPage().then(() => {
    const heading = byId("breadcrumbs").querySelector("[aria-current]");
    if (heading) heading.focus?.();
  });
}

/** Show the archives of a backup (called when a backup opens or its password changes). */
export function setBrowseBackup(detail, { keepPlace = false } = {}) {
  const previousId = backup ? backup.id : null;
  backup = detail;
  if (previousId !== detail.id) {
    selection.clear();
    selectionChanged();
  }
  const select = byId("browse-archive");
  const wanted = keepPlace && archiveName ? archiveName : detail.archives.length ? detail.archives[0].name : null;
  replaceChildren(
    select,
    detail.archives.map((archive) =>
      h("option", { value: archive.name, text: `${archive.label} (${archive.archive})` }),
    ),
  );
  byId("browse-card").hidden = detail.archives.length === 0;
  if (!wanted) return;
  select.value = wanted;
  if (!keepPlace || wanted !== archiveName) {
    folder = "";
    offset = 0;
  }
  archiveName = wanted;
  startListing();
}

/** Stop showing a backup. */
export function clearBrowse() {
  backup = null;
  archiveName = null;
  listingJobId = null;
}

/** Select the whole current archive (extracts everything in it). */
function selectWholeArchive() {
  if (!archiveName) return;
  const archive = archiveOf(archiveName);
  selection.set(`${archiveName}\u0000.`, {
    archive: archiveName,
    path: ".",
    name: `all of ${archive ? archive.archive : archiveName}`,
    type: "archive",
    size: null,
  });
  selectionChanged();
}

/** Wire the archive picker, filter, pager and listing events. */
export function setUpBrowser(callbacks) {
  showError = callbacks.showError;
  byId("browse-archive").addEventListener("change", (event) => {
    archiveName = event.target.value;
    folder = "";
    offset = 0;
    filterText = "";
    byId("browse-filter").value = "";
    startListing();
  });
  let filterTimer = null;
  byId("browse-filter").addEventListener("input", (event) => {
    window.clearTimeout(filterTimer);
    filterTimer = window.setTimeout(() => {
      filterText = event.target.value.trim();
      offset = 0;
      loadPage();
    }, 250);
  });
  byId("page-prev").addEventListener("click", () => {
    offset = Math.max(0, offset - PAGE_SIZE);
    loadPage();
  });
  byId("page-next").addEventListener("click", () => {
    offset += PAGE_SIZE;
    loadPage();
  });
  byId("select-archive").addEventListener("click", selectWholeArchive);
  byId("listing-retry").addEventListener("click", () => startListing());
  onJob((job) => {
    if (job.id !== listingJobId) return;
    if (!isFinished(job.state)) {
      scheduleRefresh();
      return;
    }
    listingJobId = null;
    const failure = job.error || (job.result && job.result.listing && job.result.listing.error);
    if (job.state === "succeeded" && !failure) {
      loadPage();
    } else if (job.state === "cancelled") {
      setListingStatus("The listing was cancelled. Choose the archive again to restart it.", "error");
      loadPage();
    } else {
      setListingStatus(failure ? failure.message : "This archive could not be read.", "error");
    }
  });
}
