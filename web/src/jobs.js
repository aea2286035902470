// Jobs: a live list of my jobs (Firestore listener), with progress, errors, cancel and downloads.
import { ACTIVE, TERMINAL, resultPaths } from "./client.js";
import { client, download } from "./firebase.js";
import { action, el, errorText, progressBar } from "./ui.js";

export { ACTIVE, TERMINAL, resultPaths };

export function jobCard(id, job) {
  const progress = job.progress || {};
  const percent = progress.percent || 0;
  const errors = job.errors || [];
  const canCancel = ACTIVE.includes(job.status) && !job.cancel_requested;
  return el("div", { class: `card job status-${job.status}`, dataset: { jobId: id, status: job.status, percent } },
    el("h3", {}, `${job.type} `, el("span", { class: "badge job-status" }, job.status),
      job.cancel_requested && !TERMINAL.includes(job.status) ? el("span", { class: "badge" }, "cancelling") : null,
      " ", el("span", { class: "muted" }, id)),
    progressBar(percent),
    el("div", { class: "muted job-progress" },
      `${percent}% · ${progress.done || 0}/${progress.total || 0} done, ${progress.failed || 0} failed`,
      job.current ? ` · now: ${job.current}` : ""),
    job.error ? el("p", { class: "error" }, errorText(job.error)) : null,
    errors.length ? el("ul", { class: "errors" }, errors.map((e) => el("li", {}, `${e.item}: ${e.code}: ${e.message}`))) : null,
    el("div", { class: "job-actions" },
      canCancel ? action("Cancel", () => client.cancelJob(id), { class: "cancel" }) : null,
      resultPaths(job.result).map((path) =>
        action(`Download ${path.split("/").pop()}`, () => download(path), { class: "download", "data-path": path }))),
  );
}

/** Keeps `container` showing jobs/{id} live; returns the unsubscribe function. */
export function watchJob(container, id, onJob) {
  return client.watchJob(id, (job) => {
    if (!job) return;
    container.replaceChildren(jobCard(id, job));
    onJob?.(job);
  }, (error) => container.replaceChildren(el("p", { class: "error" }, errorText(error))));
}

/** Resolves with the job's final document once its listener sees a terminal status. */
export function jobFinished(id) {
  return client.jobFinished(id);
}

export function mount(page) {
  const list = el("div", { id: "job-list" }, el("p", { class: "muted" }, "Loading…"));
  page.replaceChildren(el("h2", {}, "My jobs"), list);
  return client.watchMyJobs((jobs) => {
    list.replaceChildren(...(!jobs.length
      ? [el("p", { class: "muted empty" }, "No jobs yet: upload photos or generate scene assets.")]
      : jobs.map(({ id, data }) => jobCard(id, data))));
  }, (error) => list.replaceChildren(el("p", { class: "error" }, errorText(error))));
}
