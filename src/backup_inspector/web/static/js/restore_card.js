// The "Will it restore here?" card: the system a check compared the backup
// against, the verdict, a row per part of the restore with its outcome and
// why, and the recorder database. The server joins the reasons to the parts
// (web/restore_card.py); this module only lays them out.

import { getJson } from "./api.js";
import { byId, h, icon, replaceChildren } from "./dom.js";
import { formatBytes, formatDate } from "./format.js";
import { severityMarks } from "./severity.js";

// A verdict in a word and an icon of its own shape; the tint is never the only sign.
const VERDICT_LOOK = {
  restores: { level: "ok", icon: "checkCircle", word: "Restores" },
  "restores-with-warnings": { level: "warning", icon: "alert", word: "Restores, with warnings" },
  fails: { level: "error", icon: "alertCircle", word: "Fails" },
  unknown: { level: "partial", icon: "helpCircle", word: "Cannot tell yet" },
};

const VERDICT_TITLE = {
  restores: "Every part of this backup restores on this system.",
  "restores-with-warnings": "It restores on this system, but read the warnings first.",
  fails: "Restoring this backup here fails, at least in part: see why below.",
  unknown: "Some rules could not be judged yet: see what is missing below.",
};

const OUTCOME_LOOK = {
  restored: { icon: "checkCircle", word: "Restored" },
  skipped: { icon: "cancel", word: "Skipped" },
  fails: { icon: "alertCircle", word: "Fails" },
  unknown: { icon: "helpCircle", word: "Unknown" },
};

const SYSTEM_FACTS = [
  ["Supervisor", (target) => target.supervisor],
  ["Home Assistant Core", (target) => target.homeassistant],
  ["Architecture", (target) => describeArch(target)],
  ["Machine", (target) => target.machine],
  ["Free space", (target) => (target.disk_free === null || target.disk_free === undefined ? null : `${target.disk_free} GB`)],
];

let shownCard = null; // the prediction on the card, or null
let system = null; // the last answer of api/system
let showError = () => {};

function describeArch(target) {
  const supported = target.supported_arch || [];
  if (!target.arch && !supported.length) return null;
  const others = supported.filter((arch) => arch !== target.arch);
  return others.length ? `${target.arch || "unknown"} (also runs ${others.join(", ")})` : target.arch;
}

/** The facts of `target`, or why there are none (`available` null: not read yet). */
function renderSystem(target, available) {
  const unknown = byId("restore-system-unknown");
  const facts = byId("restore-system");
  if (!target) {
    unknown.hidden = false;
    if (available === null) unknown.textContent = "Reading this system's facts…";
    else if (available) unknown.textContent = "Unknown system: the Supervisor did not answer, so the rules that depend on this system (versions, CPU, free space) are not judged.";
    else unknown.textContent = "Unknown system: Backup Inspector is not running inside Home Assistant, so the rules that depend on the system (versions, CPU, free space) are not judged.";
    replaceChildren(facts);
    facts.hidden = true;
    return;
  }
  unknown.hidden = true;
  facts.hidden = false;
  replaceChildren(
    facts,
    SYSTEM_FACTS.map(([term, read]) => {
      const value = read(target);
      return h(
        "div",
        { class: "fact", "data-testid": "system-fact", "data-fact": term },
        h("dt", { text: term }),
        h("dd", { class: value ? "" : "not-known", text: value || "not known" }),
      );
    }),
  );
}

function reasonItem(reason) {
  return h(
    "li",
    { class: reason.severity || "", "data-testid": "restore-reason", "data-code": reason.code || "" },
    severityMarks(reason.severity),
    reason.code ? h("span", { class: "problem-code", text: reason.code }) : null,
    reason.message ? h("span", { class: "reason-text", text: reason.message }) : null,
  );
}

function partItem(part) {
  const look = OUTCOME_LOOK[part.outcome] || OUTCOME_LOOK.unknown;
  return h(
    "li",
    { class: `restore-part ${part.outcome}`, "data-testid": "restore-part", "data-part": part.part, "data-outcome": part.outcome },
    h(
      "div",
      { class: "restore-part-head" },
      h("span", { class: "restore-part-name" }, h("strong", { text: part.label }), h("span", { class: "archive-file", text: part.part })),
      h("span", { class: `badge outcome ${part.outcome}`, "data-testid": "restore-outcome" }, icon(look.icon), look.word),
    ),
    part.reasons.length ? h("ul", { class: "problems" }, part.reasons.map(reasonItem)) : null,
  );
}

function databaseFacts(database) {
  const facts = [
    ["File", `${database.path} in ${database.archive}`],
    ["Size", formatBytes(database.size)],
    ["Schema version", database.schema_version ?? "not known"],
    ["First recorded", database.first_time ? formatDate(database.first_time) : "not known"],
    ["Last recorded", database.last_time ? formatDate(database.last_time) : "not known"],
  ];
  return facts.map(([term, value]) =>
    h("div", { class: "fact" }, h("dt", { text: term }), h("dd", { text: String(value) })),
  );
}

function renderDatabase(card) {
  const box = byId("restore-database");
  const database = card ? card.database : null;
  box.dataset.state = database ? (database.ok ? "ok" : "error") : "none";
  if (!database) {
    const text =
      card && card.kind === "full"
        ? "This backup holds no recorder database (SQLite) to check."
        : "A full check copies the recorder database to a private folder, checks it with SQLite and deletes the copy.";
    replaceChildren(box, h("p", { class: "hint", text }));
    return;
  }
  const look = database.ok ? { icon: "checkCircle", word: "Healthy" } : { icon: "alertCircle", word: "Damaged" };
  replaceChildren(
    box,
    h("p", { class: `badge ${database.ok ? "ok" : "error"}`, "data-testid": "database-verdict" }, icon(look.icon), look.word),
    h("dl", { class: "facts" }, databaseFacts(database)),
    database.message ? h("p", { text: database.message }) : null,
  );
}

function renderVerdict(card, checkedAt) {
  const box = byId("restore-verdict");
  const look = VERDICT_LOOK[card.verdict] || VERDICT_LOOK.unknown;
  box.hidden = false;
  box.className = `verdict ${look.level}`;
  box.dataset.verdict = card.verdict;
  replaceChildren(byId("restore-verdict-word"), icon(look.icon), look.word);
  let title = VERDICT_TITLE[card.verdict] || VERDICT_TITLE.unknown;
  if (card.verdict === "unknown" && !card.target) title = "This system is unknown, so only what does not depend on it was judged.";
  replaceChildren(byId("restore-verdict-title"), title);
  replaceChildren(byId("restore-refusals"), (card.refusals || []).map(reasonItem));
  const source = card.kind === "full" ? "a full check" : "a quick check, which does not read the archives";
  byId("restore-source").textContent = `From ${source}${checkedAt ? `, ${formatDate(checkedAt)}` : ""}.`;
}

function renderLists(card) {
  replaceChildren(byId("restore-parts"), card.parts.map(partItem));
  const notes = card.notes || [];
  replaceChildren(byId("restore-notes"), notes.map(reasonItem));
  byId("restore-notes-section").hidden = notes.length === 0;
  const notJudged = card.not_judged || [];
  replaceChildren(byId("restore-not-judged"), notJudged.map((sentence) => h("li", { "data-testid": "not-judged", text: sentence })));
  byId("restore-not-judged-section").hidden = notJudged.length === 0;
}

/** Show a check's prediction (`card` from the server), or the empty card when it is null.
 * `checkedAt` is the time of a remembered check; a check that just ended needs none. */
export function renderRestoreCard(card, checkedAt = null) {
  shownCard = card || null;
  const root = byId("restore-card");
  root.dataset.state = card ? card.kind || "quick" : "none";
  byId("restore-result").hidden = !card;
  byId("restore-empty").hidden = Boolean(card);
  byId("restore-system-status").textContent = "";
  if (!card) {
    byId("restore-verdict").hidden = true;
    renderSystem(system ? system.target : null, system ? system.available : null);
    renderDatabase(null);
    return;
  }
  renderSystem(card.target, system ? system.available : null);
  renderVerdict(card, checkedAt);
  renderLists(card);
  renderDatabase(card);
}

function sameFacts(first, second) {
  return JSON.stringify(first || null) === JSON.stringify(second || null);
}

/** Read this system's facts (again, with `refresh`); say when they differ from the prediction. */
export async function loadSystem(refresh = false) {
  const status = byId("restore-system-status");
  const button = byId("system-refresh");
  // aria-busy, not disabled: a disabled button would drop the keyboard focus.
  button.setAttribute("aria-busy", "true");
  if (refresh) status.textContent = "Asking the Supervisor…";
  try {
    system = await getJson(`api/system${refresh ? "?refresh=1" : ""}`);
  } catch (error) {
    showError(error);
    return;
  } finally {
    button.removeAttribute("aria-busy");
  }
  // Without a prediction the card shows this system; a prediction keeps the system it used.
  const shownTarget = shownCard ? shownCard.target : system.target;
  renderSystem(shownTarget, system.available);
  if (shownCard && !sameFacts(system.target, shownCard.target)) {
    status.textContent = "This system has changed since this prediction: run a check again to predict against it.";
    return;
  }
  if (!refresh) return;
  if (!system.available) status.textContent = "There is no Supervisor to ask outside Home Assistant.";
  else if (system.read_at) status.textContent = "Read from the Supervisor just now.";
  else status.textContent = "The Supervisor did not answer.";
}

/** Wire the refresh button. */
export function setUpRestoreCard(callbacks) {
  showError = callbacks.showError;
  byId("system-refresh").addEventListener("click", () => loadSystem(true));
}
