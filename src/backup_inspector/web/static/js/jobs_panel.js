// The jobs panel: what runs, what waits in the queue, and a cancel for each.

import { postJson } from "./api.js";
import { byId, h, icon, progressBar, replaceChildren, setProgress } from "./dom.js";
import { allJobs, isFinished, onJob, watchJob } from "./events.js";
import { describeProgress } from "./format.js";

const STATE_TEXT = {
  queued: "Waiting",
  running: "Running",
  succeeded: "Done",
  failed: "Failed",
  cancelled: "Cancelled",
};

function jobItem(job) {
  const running = !isFinished(job.state);
  let detail = STATE_TEXT[job.state] || job.state;
  if (job.state === "queued") detail = `Waiting, place ${job.queue_position} in the queue`;
  else if (job.state === "running") detail = describeProgress(job.progress);
  else if (job.state === "failed" && job.error) detail = `Failed: ${job.error.message}`;
  const item = h(
    "li",
    { class: `job ${job.state}`, "data-testid": "job-item", "data-job-id": job.id, "data-state": job.state },
    h("span", { class: "job-title", text: job.title }),
    h("span", { class: "job-detail", text: detail }),
  );
  if (job.state === "running") {
    const bar = progressBar(`Progress of ${job.title}`, "job-progress");
    setProgress(bar, job.progress ? job.progress.percent : null);
    item.append(bar);
  }
  if (running) {
    item.append(
      h(
        "button",
        {
          type: "button",
          class: "text-button",
          "data-testid": "job-cancel",
          "aria-label": `Cancel ${job.title}`,
          onclick: async () => {
            try {
              const answer = await postJson(`api/jobs/${encodeURIComponent(job.id)}/cancel`, {});
              watchJob(answer.job);
            } catch {
              // the job ended meanwhile; its event updates the panel
            }
          },
        },
        icon("cancel"),
        "Cancel",
      ),
    );
  }
  return item;
}

const FINISHED_TEXT = { succeeded: "finished", failed: "failed", cancelled: "was cancelled" };
const announcedStates = new Map(); // job id -> the state last announced

/** Say (through the live region) when a job starts running or ends; not every percent. */
function announce(job) {
  const previous = announcedStates.get(job.id);
  if (previous === job.state) return;
  announcedStates.set(job.id, job.state);
  let text = null;
  if (job.state === "running" && previous !== undefined) text = `${job.title} started`;
  else if (FINISHED_TEXT[job.state] && previous !== undefined) text = `${job.title} ${FINISHED_TEXT[job.state]}`;
  if (text && job.state === "failed" && job.error) text = `${text}: ${job.error.message}`;
  if (text) byId("jobs-announcer").textContent = text;
}

function render() {
  const jobs = allJobs();
  const active = jobs.filter((job) => !isFinished(job.state));
  const queued = active.filter((job) => job.state === "queued").length;
  const count = byId("jobs-count");
  count.textContent = String(active.length);
  count.hidden = active.length === 0;
  byId("jobs-button").setAttribute(
    "aria-label",
    active.length ? `Jobs: ${active.length - queued} running, ${queued} waiting` : "Jobs: none running",
  );
  const recent = [...active, ...jobs.filter((job) => isFinished(job.state)).slice(0, 8)];
  replaceChildren(byId("jobs-list"), recent.map(jobItem));
  byId("jobs-empty").hidden = recent.length > 0;
}

/** Wire the jobs button and panel. */
export function setUpJobsPanel() {
  const button = byId("jobs-button");
  const panel = byId("jobs-panel");
  button.addEventListener("click", () => {
    panel.hidden = !panel.hidden;
    button.setAttribute("aria-expanded", String(!panel.hidden));
  });
  byId("jobs-close").addEventListener("click", () => {
    panel.hidden = true;
    button.setAttribute("aria-expanded", "false");
    button.focus();
  });
  let scheduled = false;
  onJob((job) => {
    announce(job);
    if (scheduled) return;
    scheduled = true;
    window.requestAnimationFrame(() => {
      scheduled = false;
      render();
    });
  });
  render();
}
