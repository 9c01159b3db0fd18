// The JSON API. Every URL is relative (no leading "/"), so the page works under
// Home Assistant's ingress prefix. Paths, names and passwords travel only in
// POST bodies, never in a URL.

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

async function parseResponse(response) {
  let body = null;
  try {
    body = await response.json();
  } catch {
    body = null;
  }
  if (!response.ok) {
    const error = body && body.error ? body.error : {};
    throw new ApiError(
      response.status,
      error.code || "http-error",
      error.message || `The server answered ${response.status}.`,
    );
  }
  return body;
}

/** GET a JSON resource. `path` is relative, e.g. "api/backups". */
export async function getJson(path) {
  let response;
  try {
    response = await fetch(path, { headers: { Accept: "application/json" }, cache: "no-store" });
  } catch {
    throw new ApiError(0, "offline", "Backup Inspector cannot be reached. Is the add-on running?");
  }
  return parseResponse(response);
}

/** POST a JSON body and return the JSON answer. */
export async function postJson(path, body = {}) {
  let response;
  try {
    response = await fetch(path, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify(body),
      cache: "no-store",
    });
  } catch {
    throw new ApiError(0, "offline", "Backup Inspector cannot be reached. Is the add-on running?");
  }
  return parseResponse(response);
}

/** The relative API path of one backup. Ids are opaque hex strings. */
export function backupPath(backupId, suffix = "") {
  return `api/backups/${encodeURIComponent(backupId)}${suffix}`;
}

/** Save one file of a backup in the browser: a one-time download link, clicked. */
export async function downloadBackupFile(backupId, archive, path) {
  const answer = await postJson(backupPath(backupId, "/download"), { archive, path });
  const link = document.createElement("a");
  link.href = answer.url;
  link.download = answer.file_name;
  link.hidden = true;
  document.body.append(link);
  link.click();
  link.remove();
}
