// Export (admins): start a media_export, follow one export per user (its items) and download the
// archives; earlier exports are listed below, each shown once (the one followed is not repeated).
import type { ExportInput, ExportOptions, MediaExportItem, TypedJob } from "../../contract/types/mediajobs";
import type { Doc } from "./client.js";
import { client, download } from "./firebase.js";
import { action, el, emptyState, errorBanner, field, formatBytes, formatDate, pageHead, progressBar, timeAgo, toDate } from "./ui.js";
import { jobTitle, watchJob } from "./jobs.js";

const ITEM_STATUS: Record<MediaExportItem["status"], string> = { pending: "Waiting", running: "Archiving", done: "Done", failed: "Failed", cancelled: "Cancelled" };

export function mount(page: HTMLElement, linkedJob: string | null): () => void {
  let stopFollow: (() => void)[] = [];
  let followed = linkedJob || null;
  let exports: Doc<TypedJob>[] = [];
  const users = el("textarea", { name: "user_ids", id: "export-users", rows: 2, placeholder: "Leave empty to export every user" });
  const resume = el("input", { name: "resume_from", id: "export-resume", placeholder: "Job ID of an earlier export" });
  const concurrency = el("input", { name: "concurrency", id: "export-concurrency", type: "number", min: 1, max: 64, placeholder: "default" });
  const partMb = el("input", { name: "archive_max_mb", id: "export-part-mb", type: "number", min: 64, max: 51200, placeholder: "2048" });
  const jobView = el("div", { id: "export-job" });
  const perUser = el("table", { id: "export-users-table", class: "stacked" });
  const current = el("section", { class: "section", "aria-label": "Current export", hidden: true },
    jobView, el("h3", { class: "section-title", style: "margin-top: 1.5rem" }, "Users"), el("div", { class: "table-wrap card" }, perUser));
  const recent = el("div", { id: "export-recent", class: "list" });

  function follow(jobId: string) {
    stopFollow.forEach((stop) => stop());
    followed = jobId;
    current.hidden = false;
    stopFollow = [watchJob(jobView, jobId),
      client.watchItems(jobId, (items) => {
        perUser.replaceChildren(el("thead", {}, el("tr", {}, ["User", "Status", "Progress", "Files", "Archive", "Available until"].map((h) => el("th", { scope: "col" }, h)))),
          el("tbody", {}, items.map((d) => userRow(d.data as MediaExportItem))));
      }, (error) => perUser.replaceChildren(el("tr", {}, el("td", {}, errorBanner(error, { title: "Per-user progress could not be loaded" })))))];
    renderRecent();
  }

  const start = action("Start export", async () => {
    const ids = users.value.split(/[\s,]+/).map((s) => s.trim()).filter(Boolean);
    const input: ExportInput = {};
    if (ids.length) input.user_ids = ids;
    if (resume.value.trim()) input.resume_from = resume.value.trim();
    const options: ExportOptions = {};
    if (concurrency.value) options.concurrency = Number(concurrency.value);
    if (partMb.value) options.archive_max_bytes = Number(partMb.value) * 1024 * 1024;
    follow(await client.startJob({ type: "media_export", input, ...(Object.keys(options).length ? { options } : {}) }));
  }, { id: "export-start", class: "primary" });

  function renderRecent() {
    const others = exports.filter((d) => d.id !== followed).slice(0, 10);
    recent.replaceChildren(...(others.length ? others.map(({ id, data }) => el("article", { class: "card export-row", dataset: { jobId: id, status: data.status } },
      el("div", { class: "project-row" }, el("span", { class: "project-name" }, jobTitle(data)),
        el("span", { class: `badge status-${data.status}` }, data.status[0].toUpperCase() + data.status.slice(1)),
        data.created_at ? el("span", { class: "muted" }, "started ", timeAgo(data.created_at)) : null,
        el("button", { type: "button", onclick: () => follow(id) }, "Show")))) : [el("p", { class: "muted" }, "No earlier exports.")]));
  }

  // Admins may read every job; the newest exports first (sorted here: no extra index needed).
  const stopList = client.watchJobsOfType("media_export", (jobs) => {
    exports = jobs.sort((a, b) => (toDate(b.data.created_at)?.getTime() || 0) - (toDate(a.data.created_at)?.getTime() || 0));
    if (!followed && exports.length) follow(exports[0].id);
    else renderRecent();
    firstRun.hidden = exports.length > 0;
  }, (error) => recent.replaceChildren(errorBanner(error, { title: "Exports could not be loaded" })));
  const firstRun = emptyState("No exports yet", "Start one above: every user's images and voices are packed into one ZIP per user, with a manifest, ready to download here.");

  if (linkedJob) follow(linkedJob);
  page.replaceChildren(pageHead("Media export", "Pack users' images and voices into one ZIP archive per user (admins only)."),
    el("section", { class: "card", "aria-label": "New export" }, el("form", { class: "form-grid", onsubmit: (e: Event) => e.preventDefault() },
      el("div", { class: "wide" }, field("Users", users, "User IDs separated by commas or spaces; empty exports everyone.")),
      field("Resume from", resume, "Reuses archives that are still valid."),
      field("Users in parallel", concurrency),
      field("Split archives over (MB)", partMb, "Bigger archives come as numbered parts, each a complete ZIP (at least 64).")),
    el("div", { class: "form-actions" }, start)),
    firstRun, current,
    el("section", { class: "section" }, el("h3", { class: "section-title" }, "Earlier exports"), recent));
  return () => { stopList(); stopFollow.forEach((stop) => stop()); };
}

function userRow(item: MediaExportItem): HTMLTableRowElement {
  const result: Partial<NonNullable<MediaExportItem["result"]>> = item.result || {};
  const finished = item.status === "done" || item.status === "failed";
  // item.fraction: the running user's bytes archived so far (written about once a second).
  const running = item.status === "running" ? Math.round((item.fraction ?? 0) * 100) : 0;
  const bar = progressBar(finished ? 100 : running, `${item.label} progress`);
  if (item.status === "running") bar.classList.add("busy");
  if (item.status === "done") bar.classList.add("done");
  return el("tr", { dataset: { status: item.status } },
    el("td", { "data-label": "User" }, item.label),
    el("td", { "data-label": "Status" }, el("span", { class: `badge status-${item.status}` }, ITEM_STATUS[item.status] || item.status),
      item.error ? errorBanner(item.error, { title: "Not archived", compact: true }) : null),
    el("td", { "data-label": "Progress" }, bar,
      item.status === "running" && item.current ? el("div", { class: "progress-line item-progress" }, item.current) : null),
    el("td", { "data-label": "Files" }, result.files !== undefined ? `${result.files} files, ${formatBytes(result.bytes)}` : ""),
    el("td", { "data-label": "Archive" }, archiveDownloads(result.parts || [], result.path)),
    el("td", { "data-label": "Available until" }, result.expires_at
      ? el("time", { class: "expires", datetime: toDate(result.expires_at)?.toISOString() || "", title: "Then the archive is deleted" }, formatDate(result.expires_at)) : ""));
}

type Part = NonNullable<MediaExportItem["result"]>["parts"][number];

/** One download per part of a split archive ("Part 2 of 3, 128 MB"), or one for a whole ZIP. */
export function archiveDownloads(parts: Part[], path?: string | null): HTMLElement | string {
  if (!parts.length) return path ? el("button", { type: "button", class: "download", "data-path": path, onclick: () => download(path) }, "Download ZIP") : "";
  return el("div", { class: "part-downloads" }, ...parts.map((part) => el("button", {
    type: "button", class: "download", "data-path": part.path, onclick: () => download(part.path),
  }, parts.length === 1 ? `Download ZIP (${formatBytes(part.archive_bytes)})` : `Part ${part.number} of ${parts.length} (${formatBytes(part.archive_bytes)})`)));
}
