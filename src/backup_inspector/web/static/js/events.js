// Live events over a WebSocket, with polling when it is down.
//
// The socket URL is built from the page's own URL, so it goes through the
// ingress proxy like every other request. While the socket is closed, jobs the
// page waits for are polled through api/jobs/<id>.

import { getJson } from "./api.js";

const RECONNECT_MAX_DELAY_MS = 10000;
const POLL_INTERVAL_MS = 1500;
const STALE_SOCKET_MS = 60000; // the server sends a keep-alive every 20 s

const jobs = new Map(); // id -> latest snapshot
const jobListeners = new Set();
const eventListeners = new Set();
const statusListeners = new Set();
const watchedJobIds = new Set();

let socket = null;
let isOpen = false;
let reconnectDelay = 1000;
let lastMessageAt = 0;
let pollTimer = null;

/** The latest snapshot of a job, if known. */
export function jobSnapshot(jobId) {
  return jobs.get(jobId) || null;
}

/** Every known job, newest first. */
export function allJobs() {
  return [...jobs.values()].sort((a, b) => b.created_at - a.created_at);
}

/** Call `listener(snapshot)` whenever any job changes; returns an unsubscribe function. */
export function onJob(listener) {
  jobListeners.add(listener);
  return () => jobListeners.delete(listener);
}

/** Call `listener(event)` for every non-job event (backups-changed, check-recorded, …). */
export function onEvent(listener) {
  eventListeners.add(listener);
  return () => eventListeners.delete(listener);
}

/** Call `listener(isConnected)` when the live connection opens or closes. */
export function onConnectionChange(listener) {
  statusListeners.add(listener);
  listener(isOpen);
  return () => statusListeners.delete(listener);
}

/** Whether live events are flowing. */
export function isLive() {
  return isOpen;
}

/** Record a job snapshot (from a POST answer, an event or a poll) and tell listeners. */
export function updateJob(snapshot) {
  if (!snapshot) return;
  const previous = jobs.get(snapshot.id);
  // Events can overtake each other across channels: never go back from a final state.
  if (previous && isFinished(previous.state) && !isFinished(snapshot.state)) return;
  jobs.set(snapshot.id, snapshot);
  if (isFinished(snapshot.state)) watchedJobIds.delete(snapshot.id);
  for (const listener of jobListeners) listener(snapshot);
}

/** Whether a job state is final. */
export function isFinished(state) {
  return state === "succeeded" || state === "failed" || state === "cancelled";
}

/** Make sure a job is followed even when the socket is down. */
export function watchJob(snapshot) {
  updateJob(snapshot);
  if (snapshot && !isFinished(snapshot.state)) {
    watchedJobIds.add(snapshot.id);
    schedulePolling();
  }
}

function setOpen(value) {
  if (isOpen === value) return;
  isOpen = value;
  for (const listener of statusListeners) listener(isOpen);
  schedulePolling();
}

function handleMessage(message) {
  lastMessageAt = Date.now();
  let event;
  try {
    event = JSON.parse(message.data);
  } catch {
    return;
  }
  if (event.type === "job") {
    updateJob(event.job);
  } else if (event.type === "hello") {
    for (const snapshot of event.jobs || []) updateJob(snapshot);
    for (const listener of eventListeners) listener(event);
  } else if (event.type !== "keepalive" && event.type !== "pong") {
    for (const listener of eventListeners) listener(event);
  }
}

/** Open the WebSocket and keep it open. */
export function connectEvents() {
  const url = new URL("ws", window.location.href);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  url.hash = "";
  try {
    socket = new WebSocket(url.href);
  } catch {
    scheduleReconnect();
    return;
  }
  socket.addEventListener("open", () => {
    reconnectDelay = 1000;
    lastMessageAt = Date.now();
    setOpen(true);
  });
  socket.addEventListener("message", handleMessage);
  socket.addEventListener("close", () => {
    socket = null;
    setOpen(false);
    scheduleReconnect();
  });
  socket.addEventListener("error", () => {
    if (socket) socket.close();
  });
}

function scheduleReconnect() {
  window.setTimeout(connectEvents, reconnectDelay);
  reconnectDelay = Math.min(RECONNECT_MAX_DELAY_MS, reconnectDelay * 2);
}

// A socket that silently stopped delivering (a proxy dropped it) is replaced.
window.setInterval(() => {
  if (socket && isOpen && Date.now() - lastMessageAt > STALE_SOCKET_MS) socket.close();
}, 10000);

function schedulePolling() {
  if (pollTimer !== null || watchedJobIds.size === 0) return;
  pollTimer = window.setTimeout(pollWatchedJobs, POLL_INTERVAL_MS);
}

async function pollWatchedJobs() {
  pollTimer = null;
  if (!isOpen) {
    for (const jobId of [...watchedJobIds]) {
      try {
        const answer = await getJson(`api/jobs/${encodeURIComponent(jobId)}`);
        updateJob(answer.job);
      } catch (error) {
        if (error.status === 404) watchedJobIds.delete(jobId);
      }
    }
  } else {
    // Even with a live socket, a job that finished while it reconnected is caught here.
    for (const jobId of [...watchedJobIds]) {
      const snapshot = jobs.get(jobId);
      if (snapshot && isFinished(snapshot.state)) watchedJobIds.delete(jobId);
    }
  }
  schedulePolling();
}
