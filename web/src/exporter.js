// Export (admins): start a media_export, follow it per user (its items), open the archives.
import { client, download } from "./firebase.js";
import { action, el, errorText, progressBar } from "./ui.js";
import { jobCard, watchJob } from "./jobs.js";

export function mount(page) {
  let stops = [];
  const users = el("input", { name: "user_ids", id: "export-users", size: 50, placeholder: "all users, or ids separated by commas" });
  const resume = el("input", { name: "resume_from", id: "export-resume", size: 24, placeholder: "optional job id" });
  const jobView = el("div", { id: "export-job" });
  const perUser = el("table", { id: "export-users-table" });
  const recent = el("div", { id: "export-recent" });

  function follow(jobId) {
    stops.slice(1).forEach((stop) => stop());
    stops = [stops[0], watchJob(jobView, jobId),
      client.watchItems(jobId, (items) => {
        perUser.replaceChildren(el("tr", {}, el("th", {}, "user"), el("th", {}, "status"), el("th", {}, "progress"),
          el("th", {}, "files"), el("th", {}, "archive")),
        ...items.map((d) => userRow(d.data)));
      }, (error) => perUser.replaceChildren(el("tr", {}, el("td", { class: "error" }, errorText(error)))))];
  }

  const start = action("Start export", async () => {
    const ids = users.value.split(",").map((s) => s.trim()).filter(Boolean);
    const input = {};
    if (ids.length) input.user_ids = ids;
    if (resume.value.trim()) input.resume_from = resume.value.trim();
    const job_id = await client.startJob({ type: "media_export", input });
    follow(job_id);
  }, { id: "export-start" });

  // Admins may read every job; the newest exports first (sorted here: no extra index needed).
  stops = [client.watchJobsOfType("media_export", (jobs) => {
    const docs = jobs.sort((a, b) => (b.data.created_at?.toMillis?.() || 0) - (a.data.created_at?.toMillis?.() || 0));
    recent.replaceChildren(...docs.slice(0, 10).map((d) => el("div", {},
      jobCard(d.id, d.data), el("button", { type: "button", onclick: () => follow(d.id) }, "Show per-user progress"))));
  }, (error) => recent.replaceChildren(el("p", { class: "error" }, errorText(error))))];

  page.replaceChildren(el("h2", {}, "Media export"), el("div", {}, el("label", {}, "Users ", users),
    el("label", {}, "Resume from ", resume), start), jobView, perUser, el("h3", {}, "Recent exports"), recent);
  return () => stops.forEach((stop) => stop());
}

function userRow(item) {
  const result = item.result || {};
  const percent = item.status === "done" || item.status === "failed" ? 100 : Math.round((item.fraction || 0) * 100);
  return el("tr", { dataset: { status: item.status } },
    el("td", {}, item.label),
    el("td", {}, item.status, item.error ? el("div", { class: "error" }, errorText(item.error)) : null),
    el("td", {}, progressBar(percent)),
    el("td", {}, result.files !== undefined ? `${result.files} files, ${(result.bytes || 0).toLocaleString()} bytes` : ""),
    el("td", {}, result.path ? el("button", { type: "button", onclick: () => download(result.path) }, result.path.split("/").pop()) : ""));
}
