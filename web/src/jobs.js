// Jobs: a live list of my jobs (Firestore listener), with progress, errors, cancel and downloads.
import { collection, doc, limit, onSnapshot, orderBy, query, where } from "firebase/firestore";
import { auth, call, db, download } from "./firebase.js";
import { action, el, errorText, progressBar } from "./ui.js";

export const ACTIVE = ["queued", "processing"];
export const TERMINAL = ["completed", "failed", "cancelled"];

/** Storage paths a job's result offers for download: `*_path` fields and export archives. */
export function resultPaths(result) {
  if (!result) return [];
  const paths = Object.entries(result)
    .filter(([key, value]) => key.endsWith("_path") && typeof value === "string")
    .map(([, value]) => value);
  for (const archive of result.archives || []) if (archive.path) paths.push(archive.path);
  return paths;
}

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
      canCancel ? action("Cancel", () => call("cancel_job", { job_id: id }), { class: "cancel" }) : null,
      resultPaths(job.result).map((path) =>
        action(`Download ${path.split("/").pop()}`, () => download(path), { class: "download", "data-path": path }))),
  );
}

/** Keeps `container` showing jobs/{id} live; returns the unsubscribe function. */
export function watchJob(container, id, onJob) {
  return onSnapshot(doc(db, "jobs", id), (snap) => {
    if (!snap.exists()) return;
    container.replaceChildren(jobCard(id, snap.data()));
    onJob?.(snap.data());
  }, (error) => container.replaceChildren(el("p", { class: "error" }, errorText(error))));
}

/** Resolves with the job's final document once its listener sees a terminal status. */
export function jobFinished(id) {
  return new Promise((resolve, reject) => {
    const stop = onSnapshot(doc(db, "jobs", id), (snap) => {
      const job = snap.data();
      if (job && TERMINAL.includes(job.status)) {
        stop();
        resolve(job);
      }
    }, reject);
  });
}

export function mount(page) {
  const list = el("div", { id: "job-list" }, el("p", { class: "muted" }, "Loading…"));
  page.replaceChildren(el("h2", {}, "My jobs"), list);
  const mine = query(collection(db, "jobs"), where("owner_uid", "==", auth.currentUser.uid),
    orderBy("created_at", "desc"), limit(50));
  return onSnapshot(mine, (snap) => {
    list.replaceChildren(...(snap.empty
      ? [el("p", { class: "muted empty" }, "No jobs yet: upload photos or generate scene assets.")]
      : snap.docs.map((d) => jobCard(d.id, d.data()))));
  }, (error) => list.replaceChildren(el("p", { class: "error" }, errorText(error))));
}
