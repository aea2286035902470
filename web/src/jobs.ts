// Jobs: a live list of my jobs (Firestore listener), each card titled by what the job is, with
// progress, errors, cancel and a download for every result file.
import type { ItemErrorInfo, TypedJob } from "../../contract/types/mediajobs";
import { ACTIVE, type ResultFile, TERMINAL, resultFiles, resultPaths } from "./client.js";
import { deliveriesBlock } from "./deliveries.js";
import { client, download } from "./firebase.js";
import { action, copyableId, el, emptyState, errorBanner, formatBytes, pageHead, progressBar, timeAgo } from "./ui.js";

export type { TypedJob };
type Status = TypedJob["status"];

export { ACTIVE, TERMINAL, resultPaths };

/** What people call each job type. */
export const KIND_NAMES: Record<TypedJob["type"], string> = {
  photo_batch: "Photo batch",
  video_process: "Video",
  media_export: "Media export",
  my_data: "Data export",
  scene_asset: "Scene asset",
  mood_board: "Mood board",
  storyboard_assets: "Storyboard",
  selftest: "Engine self-test",
};

const STATUS_NAMES: Record<Status, string> = { queued: "Queued", processing: "Processing", completed: "Completed", failed: "Failed", cancelled: "Cancelled" };

const baseName = (path: string | null | undefined): string => String(path || "").split("/").pop() || "";
/** A video upload's name without the dashboard's time prefix ("lq3x9a-clip.mp4" -> "clip.mp4"). */
const uploadName = (path: string | null | undefined): string => baseName(path).replace(/^([0-9a-z]{6,10}|\d{3})-(?=.)/, "");
const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;

function listNames(paths: string[]): string {
  const names = paths.map(uploadName);
  return names.length <= 2 ? names.join(", ") : `${names.slice(0, 2).join(", ")} and ${names.length - 2} more`;
}

// Project and scene names for job titles, read once per page load.
const names = new Map<string, Promise<string | null>>();
function nameOf(key: string, read: () => Promise<{ name?: string; title?: string } | undefined>): Promise<string | null> {
  if (!names.has(key)) names.set(key, read().then((doc) => doc?.name || doc?.title || null).catch(() => null));
  return names.get(key) as Promise<string | null>;
}

/** The card's title: the file names, the project and scene, the export's users. */
export function jobTitle(job: TypedJob): string {
  switch (job.type) {
    case "photo_batch": return `Photos: ${listNames(job.input?.paths || [])}`;
    case "video_process": return `Video: ${uploadName(job.input?.path)}`;
    case "media_export": {
      const ids = job.input?.user_ids || [];
      return ids.length ? `Export of ${plural(ids.length, "user")}` : "Export of all users";
    }
    case "my_data": return "Your data";
    case "scene_asset": return `Scene ${job.input?.kind || "asset"}`;
    case "mood_board": return `Mood board: ${plural(job.input?.count || 4, "mood")}`;
    case "storyboard_assets": return "Whole storyboard";
    case "selftest": return `Engine self-test: ${plural(job.input?.items || 0, "item")}`;
    default: return "Job";
  }
}

/** Fills in "for <project>, <scene>" once the names are read (scene and storyboard jobs). */
function describeProject(node: HTMLElement, job: TypedJob): void {
  if (job.type !== "scene_asset" && job.type !== "mood_board" && job.type !== "storyboard_assets") return;
  const input: { project_id?: string; scene_id?: string } = job.input || {};
  const projectId = input.project_id;
  if (!projectId) return;
  const sceneId = input.scene_id;
  const project = nameOf(`p/${projectId}`, () => client.readProject(projectId));
  const scene = sceneId
    ? nameOf(`s/${projectId}/${sceneId}`, () => client.readScene(projectId, sceneId))
    : Promise.resolve(null);
  Promise.all([project, scene]).then(([projectName, sceneName]) => {
    const parts = [projectName && `project “${projectName}”`, sceneName && `scene “${sceneName}”`].filter(Boolean);
    if (parts.length) node.textContent = ` for ${parts.join(", ")}`;
  });
}

function progressText(job: TypedJob): HTMLSpanElement[] {
  const p: Partial<NonNullable<TypedJob["progress"]>> = job.progress || {};
  const parts = [`${p.percent || 0}%`];
  if (p.total) parts.push(`${p.done || 0} of ${plural(p.total, "item")} done`);
  if (p.failed) parts.push(`${p.failed} failed`);
  if (job.current && !TERMINAL.includes(job.status)) parts.push(`now: ${job.current}`);
  return parts.map((part) => el("span", {}, part));
}

/** A download button per result file: the main ones in view, every other file in a list. */
function downloads(job: TypedJob): (HTMLElement | null)[] {
  const files = resultFiles(job.result).filter((file) => !/\.(m3u8|mpd)$/.test(file.path));
  if (!files.length) return [];
  const button = (file: ResultFile, cls = "") => action(`Download ${baseName(file.path)}`, () => download(file.path),
    { class: `download ${cls}`.trim(), "data-path": file.path });
  const main = files.filter((file) => file.main);
  const rest = files.filter((file) => !file.main);
  return [
    ...main.map((file) => button(file, "primary")),
    rest.length ? el("details", { class: "files" }, el("summary", {}, `All files (${rest.length})`),
      el("ul", { class: "file-list" }, rest.map((file) => el("li", {},
        el("button", { type: "button", class: "download", "data-path": file.path, onclick: () => download(file.path) },
          baseName(file.path), file.bytes ? el("span", { class: "size" }, formatBytes(file.bytes)) : null))))) : null,
  ];
}

export function jobCard(id: string, job: TypedJob, showOwner = false): HTMLElement {
  const percent = job.progress?.percent || 0;
  const errors = job.errors || [];
  const canCancel = ACTIVE.includes(job.status) && !job.cancel_requested;
  const about = el("span", { class: "job-about" });
  describeProject(about, job);
  const summary = summaryLine(job);
  return el("article", { class: `card job status-${job.status}`, dataset: { jobId: id, status: job.status, percent } },
    el("div", { class: "card-head" },
      el("h3", {}, jobTitle(job), about),
      el("span", { class: `badge job-status status-${job.status}` }, STATUS_NAMES[job.status]),
      job.cancel_requested && !TERMINAL.includes(job.status) ? el("span", { class: "badge" }, "Cancelling") : null),
    el("div", { class: "card-meta" }, el("span", {}, KIND_NAMES[job.type] || "Job"),
      job.created_at ? el("span", {}, "Started ", timeAgo(job.created_at)) : null,
      job.finished_at ? el("span", {}, "Finished ", timeAgo(job.finished_at)) : null,
      copyableId(id, "Job ID"),
      showOwner ? copyableId(job.owner_uid, "Owner") : null),
    el("div", { class: "card-body" },
      el("div", {}, progressBar(percent, `${jobTitle(job)} progress`), el("div", { class: "progress-line job-progress" }, progressText(job))),
      summary ? el("p", { class: "job-summary" }, summary) : null,
      job.error ? errorBanner(job.error, { title: "The job failed" }) : null,
      errors.length ? el("details", { class: "files", open: errors.length <= 3 },
        el("summary", {}, `Problems with ${plural(errors.length, "item")}`),
        el("ul", { class: "item-errors" }, errors.map((e: ItemErrorInfo) => el("li", {}, el("strong", {}, e.item), `: ${e.message} `,
          el("span", { class: "muted" }, `(code ${e.code}${e.incident_id && !e.message.includes(e.incident_id) ? `, incident ${e.incident_id}` : ""})`))))) : null,
      job.notify ? deliveriesBlock(id) : null,
      el("div", { class: "actions job-actions" },
        canCancel ? action("Cancel", () => client.cancelJob(id), { class: "cancel danger" }) : null,
        job.type === "video_process" && job.status === "completed" && !location.hash.startsWith("#/video")
          ? el("a", { class: "button", href: `#/video/${id}` }, "Watch") : null,
        downloads(job))),
  );
}

/** One sentence on what a finished job produced. */
function summaryLine(job: TypedJob): string {
  switch (job.type) {
    case "photo_batch": {
      if (!job.result || !("succeeded" in job.result)) return "";
      const r = job.result;
      return `${plural(r.succeeded, "photo")} processed${r.failed ? `, ${r.failed} failed` : ""}` +
        `${r.skipped_count ? `, ${plural(r.skipped_count, "file")} skipped` : ""}.`;
    }
    case "media_export": {
      if (!job.result || !("successful_users" in job.result)) return "";
      const r = job.result;
      return `${plural(r.successful_users, "user")} archived${r.failed_users ? `, ${r.failed_users} failed` : ""}: ` +
        `${plural(r.total_files || 0, "file")}, ${formatBytes(r.total_bytes)}.`;
    }
    case "video_process": {
      if (!job.result || !("renditions" in job.result)) return "";
      const r = job.result;
      return `${r.width}×${r.height}, ${Math.round(r.duration_seconds || 0)} s; ` +
        `${plural(r.renditions.length, "rendition")}, ${plural(r.thumbnails?.length || 0, "thumbnail")}.`;
    }
    case "scene_asset": {
      if (!job.result || !("size" in job.result)) return "";
      const r = job.result;
      return r.size ? `${{ composition: "Composition", image: "Image", video: "Video", audio: "Audio" }[r.kind] || "Asset"} made (${formatBytes(r.size)}).` : "";
    }
    default:
      return "";
  }
}

/** Keeps `container` showing jobs/{id} live; returns the unsubscribe function. */
export function watchJob(container: HTMLElement, id: string, onJob?: (job: TypedJob) => void): () => void {
  return client.watchJob(id, (job) => {
    if (!job) return;
    container.replaceChildren(jobCard(id, job));
    onJob?.(job);
  }, (error) => container.replaceChildren(errorBanner(error, { title: "This job could not be shown" })));
}

/** Resolves with the job's final document once its listener sees a terminal status. */
export function jobFinished(id: string): Promise<TypedJob> {
  return client.jobFinished(id);
}

/** Calls onNewest(id) once with my newest job of `type` (or null): pages open it on arrival. */
export function newestOfType(type: TypedJob["type"], onNewest: (id: string | null) => void): () => void {
  let done = false;
  let stop: () => void = () => {};
  stop = client.watchMyJobs((jobs) => {
    if (done) return;
    done = true;
    const newest = jobs.find(({ data }) => data.type === type);
    onNewest(newest ? newest.id : null);
    queueMicrotask(() => stop());
  }, () => { done = true; onNewest(null); });
  return () => { done = true; stop(); };
}

/** Whether the signed-in user is an admin (main.ts sets it from the ID token's claims). */
export const session = { admin: false };

export function mount(page: HTMLElement): () => void {
  const list = el("div", { id: "job-list", class: "list" }, el("p", { class: "muted" }, "Loading your jobs…"));
  let stop: () => void = () => {};
  const show = (everyone: boolean) => {
    stop();
    const render = (jobs: { id: string; data: TypedJob }[]) => list.replaceChildren(...(!jobs.length
      ? [emptyState("No jobs yet", "Jobs appear here as soon as you start one: upload photos to cut out their background, process a video for streaming, or generate a storyboard's scenes.",
        el("a", { class: "button primary", href: "#/photos" }, "Process photos"),
        el("a", { class: "button", href: "#/video" }, "Process a video"),
        el("a", { class: "button", href: "#/projects" }, "Start a project"))]
      : jobs.map(({ id, data }) => jobCard(id, data, everyone))));
    const failed = (error: unknown) => list.replaceChildren(errorBanner(error, { title: "The jobs could not be loaded" }));
    stop = everyone ? client.watchAllJobs(render, failed) : client.watchMyJobs(render, failed);
  };
  // Admins may look at everyone's jobs (the rules let them read every job).
  const scope = session.admin ? el("div", { class: "segmented", role: "radiogroup", "aria-label": "Whose jobs", id: "job-scope" },
    [["mine", "Mine"], ["everyone", "Everyone's"]].map(([value, label]) => el("label", {},
      el("input", { type: "radio", name: "job-scope", value, checked: value === "mine", onchange: () => show(value === "everyone") }), label)))
    : null;
  page.replaceChildren(pageHead(session.admin ? "Jobs" : "Your jobs", "Everything you started, newest first, updated live. Cancel a running job, or download what a finished one made."),
    scope ? el("div", { class: "toolbar" }, scope) : "", list);
  show(false);
  return () => stop();
}
