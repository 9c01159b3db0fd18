// Backup Inspector's page: a list of backups, and one backup at a time.
// Plain ES modules, no build step. Every URL is relative (ingress prefix).

import { setUpBackupList, loadBackups } from "./js/backup_list.js";
import {
  clearBackupDetail,
  currentBackup,
  refreshBackupDetail,
  setUpBackupDetail,
  showBackupDetail,
} from "./js/backup_detail.js";
import { clearBrowse, setBrowseBackup, setUpBrowser } from "./js/browser.js";
import { setCopyBackup, setUpCopier } from "./js/copier.js";
import { byId, renderStaticIcons } from "./js/dom.js";
import { connectEvents, onConnectionChange, onEvent } from "./js/events.js";
import { setExtractBackup, setUpExtractor } from "./js/extractor.js";
import { setUpHealthSummary } from "./js/health_summary.js";
import { setUpHistory } from "./js/history.js";
import { setUpJobsPanel } from "./js/jobs_panel.js";
import { setUpPreview } from "./js/preview.js";
import { setUpRestoreCard } from "./js/restore_card.js";

const BACKUP_ROUTE = /^#\/backup\/([0-9a-f]+)$/;

function showError(error) {
  const box = byId("global-error");
  box.hidden = false;
  byId("global-error-text").textContent = error && error.message ? error.message : String(error);
}

function hideError() {
  byId("global-error").hidden = true;
}

async function onBackupChanged() {
  try {
    const detail = await refreshBackupDetail();
    if (detail) {
      setBrowseBackup(detail, { keepPlace: true });
      setExtractBackup(detail);
      setCopyBackup(detail);
    }
  } catch (error) {
    showError(error);
  }
}

async function route() {
  hideError();
  const match = window.location.hash.match(BACKUP_ROUTE);
  const listView = byId("backups-view");
  const backupView = byId("backup-view");
  if (!match) {
    clearBackupDetail();
    clearBrowse();
    backupView.hidden = true;
    listView.hidden = false;
    byId("back-button").hidden = true;
    byId("page-title").textContent = "Backup Inspector";
    document.title = "Backup Inspector";
    try {
      await loadBackups();
    } catch (error) {
      showError(error);
    }
    return;
  }
  listView.hidden = true;
  backupView.hidden = false;
  byId("back-button").hidden = false;
  backupView.dataset.loaded = "false";
  try {
    const detail = await showBackupDetail(match[1]);
    byId("page-title").textContent = detail.name;
    document.title = `${detail.name} – Backup Inspector`;
    setBrowseBackup(detail);
    setExtractBackup(detail);
    setCopyBackup(detail);
    backupView.dataset.loaded = "true";
    byId("backup-name").focus();
  } catch (error) {
    showError(error);
  }
}

function start() {
  renderStaticIcons();
  setUpJobsPanel();
  setUpPreview();
  setUpBackupList(showError);
  setUpHealthSummary(showError);
  setUpBackupDetail({ onChange: onBackupChanged, showError });
  setUpRestoreCard({ showError });
  setUpBrowser({ showError });
  setUpExtractor({ showError });
  setUpCopier({ showError });
  setUpHistory({ showError });
  byId("back-button").addEventListener("click", () => {
    window.location.hash = "";
  });
  byId("global-error-close").addEventListener("click", hideError);
  onConnectionChange((isConnected) => {
    const status = byId("connection-status");
    status.dataset.state = isConnected ? "live" : "offline";
    status.title = isConnected ? "Live updates on" : "Live updates off: refreshing every few seconds";
    byId("connection-text").textContent = isConnected ? "Live" : "Reconnecting";
  });
  onEvent((event) => {
    const shown = currentBackup();
    if (!shown) return;
    const concernsShown = event.backup_id === shown.id;
    if (event.type === "password-forgotten" && concernsShown) onBackupChanged();
    if (event.type === "backups-changed") {
      refreshBackupDetail().catch((error) => showError(error));
    }
  });
  window.addEventListener("hashchange", route);
  connectEvents();
  route();
}

start();
