// Your data: any signed-in user exports everything this service holds for them (a `my_data`
// job: GDPR Art. 20 portability) and downloads it, one button per archive part.
import type { MyDataResult, TypedJob } from "../../contract/types/mediajobs";
import type { Doc } from "./client.js";
import { client } from "./firebase.js";
import { archiveDownloads } from "./exporter.js";
import { watchJob } from "./jobs.js";
import { action, el, emptyState, errorBanner, formatBytes, formatDate, pageHead, timeAgo, toDate } from "./ui.js";

const plural = (n: number, one: string): string => `${n} ${n === 1 ? one : `${one}s`}`;

export function mount(page: HTMLElement, linkedJob: string | null): () => void {
  let stopFollow = () => {};
  let followed: string | null = linkedJob;
  let exports: Doc<TypedJob>[] = [];
  const jobView = el("div", { id: "mydata-job" });
  const archive = el("div", { id: "mydata-archive", class: "card", style: "margin-top: 1rem", hidden: true });
  const recent = el("div", { id: "mydata-recent", class: "list" });
  const firstRun = emptyState("No data export yet", "Start one above: your uploads, every job's outputs, your projects and your videos are packed into a ZIP with an index of your data.");

  function follow(jobId: string) {
    stopFollow();
    followed = jobId;
    stopFollow = watchJob(jobView, jobId, (job) => showArchive(job));
    renderRecent();
  }

  function showArchive(job: TypedJob) {
    const result = job.type === "my_data" && job.result && "parts" in job.result ? (job.result as MyDataResult) : null;
    archive.hidden = !result;
    if (!result) return;
    const counts = result.counts;
    archive.replaceChildren(
      el("h3", { class: "section-title" }, "Your archive"),
      el("p", {}, `${plural(result.files, "file")}, ${formatBytes(result.bytes)}: ${plural(counts.jobs, "job")}, `
        + `${plural(counts.projects, "project")} with ${plural(counts.scenes, "scene")}, ${plural(counts.videos, "video")}.`),
      archiveDownloads(result.parts, result.path),
      el("p", { class: "muted" }, "Kept until ",
        el("time", { class: "expires", datetime: toDate(result.expires_at)?.toISOString() || "" }, formatDate(result.expires_at)),
        ", then deleted. Each part is a complete ZIP; its manifest lists every file with its SHA-256."));
  }

  function renderRecent() {
    const others = exports.filter((d) => d.id !== followed).slice(0, 10);
    recent.replaceChildren(...(others.length ? others.map(({ id, data }) => el("article", { class: "card export-row", dataset: { jobId: id, status: data.status } },
      el("div", { class: "project-row" }, el("span", { class: "project-name" }, "Data export"),
        el("span", { class: `badge status-${data.status}` }, data.status[0].toUpperCase() + data.status.slice(1)),
        data.created_at ? el("span", { class: "muted" }, "started ", timeAgo(data.created_at)) : null,
        el("button", { type: "button", onclick: () => follow(id) }, "Show")))) : [el("p", { class: "muted" }, "No earlier data exports.")]));
  }

  const start = action("Export my data", async () => follow(await client.startJob({ type: "my_data" })), { id: "mydata-start", class: "primary" });
  const stopList = client.watchMyJobsOfType("my_data", (jobs) => {
    exports = jobs.sort((a, b) => (toDate(b.data.created_at)?.getTime() || 0) - (toDate(a.data.created_at)?.getTime() || 0));
    if (!followed && exports.length) follow(exports[0].id);
    else renderRecent();
    firstRun.hidden = exports.length > 0;
  }, (error) => recent.replaceChildren(errorBanner(error, { title: "Your data exports could not be loaded" })));

  if (linkedJob) follow(linkedJob);
  page.replaceChildren(pageHead("Your data", "Download everything this service holds for you: your uploads, every job's outputs, your projects with their scenes and assets, and your videos."),
    el("section", { class: "card", "aria-label": "New data export" },
      el("p", {}, "The archive comes with my_data.json, an index of your jobs, projects and videos, so you can take your data elsewhere."),
      el("div", { class: "form-actions" }, start)),
    firstRun, el("section", { class: "section", "aria-label": "Current data export" }, jobView, archive),
    el("section", { class: "section" }, el("h3", { class: "section-title" }, "Earlier data exports"), recent));
  return () => { stopList(); stopFollow(); };
}
