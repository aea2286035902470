// Video: a resumable upload with a progress bar, the video_process job's live card, its
// thumbnails, and a player for the finished job (hls.js for HLS, dash.js for DASH) fed only
// with the URLs download_url returns, as any client would.
// The players and the Storage SDK load only when needed (they are most of the page's weight).
import { getApp } from "firebase/app";
import type { VideoProcessJob } from "../../contract/types/mediajobs";
import { auth, client, emulators } from "./firebase.js";
import { check, el, emptyState, errorBanner, field, formatBytes, pageHead, progressBar } from "./ui.js";
import { newestOfType, watchJob } from "./jobs.js";

const CHUNK = 1024 * 1024; // a multiple of 256 KiB, as resumable uploads require

/**
 * Uploads `file` to `path` in chunks that survive a dropped connection, reporting 0..1.
 * Deployed: the Firebase Storage SDK's resumable upload (storage.rules apply). Locally the
 * Storage emulator is fake-gcs-server, which speaks the Cloud Storage JSON API but not the
 * Firebase SDK's protocol, so the same resumable upload is done with that API's session.
 */
type OnProgress = (fraction: number) => void;
type Engine = "hls" | "dash";
type VideoResult = Extract<NonNullable<VideoProcessJob["result"]>, { renditions: unknown }>;

export async function uploadResumable(file: File, path: string, onProgress: OnProgress): Promise<string> {
  if (!emulators) {
    const { getStorage, ref, uploadBytesResumable } = await import("firebase/storage");
    const task = uploadBytesResumable(ref(getStorage(getApp()), path), file, { contentType: file.type || "video/mp4" });
    return new Promise((resolve, reject) => {
      task.on("state_changed", (snap) => onProgress(snap.bytesTransferred / snap.totalBytes), reject, () => resolve(path));
    });
  }
  return uploadToEmulator(file, path, onProgress);
}

async function uploadToEmulator(file: File, path: string, onProgress: OnProgress): Promise<string> {
  if (!emulators) throw new Error("No emulators to upload to.");
  const base = `${emulators.storage}/upload/storage/v1/b/${emulators.storageBucket}/o`;
  const start = await fetch(`${base}?uploadType=resumable&name=${encodeURIComponent(path)}`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ contentType: file.type || "video/mp4" }),
  });
  const session = start.headers.get("Location");
  if (!start.ok || !session) throw new Error(`The upload could not start (${start.status}).`);
  let sent = 0;
  while (sent < file.size || file.size === 0) {
    const end = Math.min(sent + CHUNK, file.size);
    const last = end === file.size;
    const range = file.size === 0 ? "bytes */0" : `bytes ${sent}-${end - 1}/${last ? file.size : "*"}`;
    const reply = await fetch(session, { method: "PUT", headers: { "Content-Range": range }, body: file.slice(sent, end) });
    if (!(reply.ok || reply.status === 308)) throw new Error(`The upload failed at byte ${sent} (${reply.status}).`);
    sent = end;
    onProgress(file.size ? sent / file.size : 1);
    if (last) break;
  }
  return path;
}

let player: { engine: Engine; destroy: () => void; captions?: (language: string | null) => void } | null = null;

declare global {
  interface Window { __videoPlayer?: { engine: Engine; url: string } }
}

/** Stops and forgets the player (a page leaving). */
export function stopPlaying(): void {
  player?.destroy();
  player = null;
}

/** Shows the playing HLS stream's captions in `language` (null: none); false if it has none such. */
export function showCaptions(language: string | null): boolean {
  if (!player?.captions) return false;
  player.captions(language);
  return true;
}

/** Plays `url` in `video` with hls.js or dash.js; window.__videoPlayer tells tests which.
 * `captions`: the language of the HLS subtitle rendition to show once the stream is parsed. */
export async function play(video: HTMLVideoElement, engine: Engine, url: string, captions: string | null = null): Promise<void> {
  const [{ default: Hls }, { MediaPlayer }] = await Promise.all([import("hls.js"), import("dashjs")]);
  player?.destroy();
  video.muted = true; // autoplay without a gesture
  if (engine === "hls") {
    if (Hls.isSupported()) {
      // A playlist that answers slowly (e.g. a subtitle one from a cold stream function) is waited for and
      // retried, not given up after 10 s: captions lost that way would never come back.
      const patient = { maxTimeToFirstByteMs: 30_000, maxLoadTimeMs: 60_000,
        timeoutRetry: { maxNumRetry: 4, retryDelayMs: 0, maxRetryDelayMs: 0 },
        errorRetry: { maxNumRetry: 4, retryDelayMs: 1000, maxRetryDelayMs: 8000 } };
      const hls = new Hls({ playlistLoadPolicy: { default: patient } });
      // The wanted language is applied to hls.js and to the text tracks it adds to the element
      // (they appear after the manifest, one by one), whichever comes last.
      let wanted = captions;
      const applyCaptions = () => {
        const index = wanted === null ? -1 : hls.subtitleTracks.findIndex((track) => track.lang === wanted);
        hls.subtitleDisplay = index >= 0;
        if (hls.subtitleTrack !== index) hls.subtitleTrack = index;
        for (const track of Array.from(video.textTracks)) {
          if (track.kind !== "subtitles" && track.kind !== "captions") continue;
          track.mode = index >= 0 && track.language === wanted ? "showing" : "disabled";
        }
      };
      video.textTracks.addEventListener("addtrack", applyCaptions);
      hls.loadSource(url);
      hls.attachMedia(video);
      hls.on(Hls.Events.SUBTITLE_TRACKS_UPDATED, applyCaptions);
      hls.on(Hls.Events.MANIFEST_PARSED, () => {
        applyCaptions();
        video.play().catch(() => {});
      });
      hls.on(Hls.Events.ERROR, (_, data) => data.fatal && console.error(`hls.js: ${data.type} ${data.details}`));
      player = { engine, destroy: () => { video.textTracks.removeEventListener("addtrack", applyCaptions); hls.destroy(); },
        captions: (language) => { wanted = language; applyCaptions(); } };
    } else {
      video.src = url; // Safari plays HLS itself
      video.play().catch(() => {});
      player = { engine, destroy: () => video.removeAttribute("src") };
    }
  } else {
    const dash = MediaPlayer().create();
    dash.initialize(video, url, true);
    dash.on("error", (event) => console.error(`dash.js: ${JSON.stringify(event.error || event)}`));
    player = { engine, destroy: () => dash.destroy() };
  }
  window.__videoPlayer = { engine, url };
}

const HEIGHTS = [240, 360, 480, 720, 1080];

export function mount(page: HTMLElement, linkedJob: string | null): () => void {
  let stop = () => {};
  const picker = el("input", { type: "file", id: "video-input", accept: "video/*" });
  const status = el("div", { id: "video-error", "aria-live": "polite" });
  const uploadBar = el("div", { id: "video-upload-progress", dataset: { percent: 0 } });
  const jobView = el("div", { id: "video-job" });
  const thumbs = el("div", { class: "thumb-strip", id: "video-thumbs", role: "list", "aria-label": "Thumbnails: select one to jump there" });
  const video = el("video", { id: "video-player", controls: true, muted: true, playsinline: true, width: 640 });
  const buttons = el("div", { id: "video-formats", class: "actions" });
  const playerBox = el("section", { id: "video-player-box", class: "section", hidden: true, "aria-label": "Watch" },
    el("div", { class: "card-head" }, el("h3", {}, "Watch"), buttons), el("div", { style: "margin-top: 0.75rem" }, video),
    el("h4", { class: "section-title", style: "margin-top: 1rem" }, "Thumbnails"), thumbs);
  const firstRun = emptyState("No videos processed yet",
    "Choose a video above: it is uploaded in chunks (a dropped connection resumes), then turned into MP4 renditions, HLS and DASH streams and thumbnails you can watch here.");
  const options = el("form", { id: "video-options", class: "form-grid", onsubmit: (event: Event) => event.preventDefault() },
    el("fieldset", {}, el("legend", {}, "Renditions"),
      HEIGHTS.map((h) => check(`${h}p`, el("input", { type: "checkbox", name: "renditions", value: h, checked: h === 360 || h === 720 })))),
    el("fieldset", {}, el("legend", {}, "Streaming and mobile"),
      check("HLS stream", el("input", { type: "checkbox", name: "hls", checked: true })),
      check("DASH stream", el("input", { type: "checkbox", name: "dash", checked: true })),
      check("Mobile MP4 (480p)", el("input", { type: "checkbox", name: "mobile", checked: true }))),
    el("fieldset", { class: "form-stack" }, el("legend", {}, "Thumbnails"),
      field("How many", el("input", { type: "number", name: "thumbnails", value: 3, min: 0, max: 20 }))));

  const upload = el("button", { type: "button", id: "video-upload", class: "primary", onclick: async () => {
    status.replaceChildren();
    const file = picker.files?.[0];
    if (!file) return void status.replaceChildren(errorBanner({ code: "invalid-argument", message: "Choose a video first." }, { title: "Nothing to upload", compact: true }));
    const data = new FormData(options);
    const renditions = data.getAll("renditions").map(Number);
    if (!renditions.length) return void status.replaceChildren(errorBanner({ code: "invalid-argument", message: "Choose at least one rendition." }, { title: "Nothing to make", compact: true }));
    upload.disabled = true;
    try {
      const name = file.name.replace(/[^\w.-]+/g, "_").slice(-80) || "video.mp4";
      const uid = auth.currentUser?.uid;
      if (!uid) throw { code: "unauthenticated", message: "Sign in first." };
      const path = `users/${uid}/videos/${Date.now().toString(36)}-${name}`;
      await uploadResumable(file, path, (fraction) => {
        const percent = Math.round(fraction * 100);
        uploadBar.dataset.percent = String(percent);
        uploadBar.replaceChildren(progressBar(percent, "Upload progress"), el("div", { class: "progress-line" }, `Uploaded ${percent}% of ${formatBytes(file.size)}`));
      });
      const jobId = await client.startJob({
        type: "video_process", input: { path },
        options: { renditions, hls: data.has("hls"), dash: data.has("dash"), mobile: data.has("mobile"), thumbnails: Number(data.get("thumbnails")) },
      });
      follow(jobId);
    } catch (error) {
      status.replaceChildren(errorBanner(error, { title: "The video could not be processed" }));
    } finally {
      upload.disabled = false;
    }
  } }, "Upload and process");

  const report = (error: unknown) => { status.replaceChildren(errorBanner(error, { title: "The video could not be played" })); };

  function follow(jobId: string) {
    stop();
    firstRun.hidden = true;
    thumbs.replaceChildren();
    playerBox.hidden = true;
    let shown = false;
    stop = watchJob(jobView, jobId, (job) => {
      if (job.type !== "video_process" || job.status !== "completed" || shown || !job.result || !("renditions" in job.result)) return;
      shown = true;
      showResult(job.result).catch(report);
    });
  }

  async function showResult(result: VideoResult) {
    // Thumbnail i of n is taken at duration * (i + 1) / (n + 1); the poster opens the video.
    const n = result.thumbnails?.length || 0;
    const stills: [string, number][] = [...(result.thumbnails || []).map((path, i): [string, number] => [path, (result.duration_seconds * (i + 1)) / (n + 1)]),
      ...(result.poster ? [[result.poster, 0] as [string, number]] : [])];
    const streams = ([["hls", "HLS", result.hls_master_path], ["dash", "DASH", result.dash_manifest_path]] as [Engine, string, string | null][])
      .filter((stream): stream is [Engine, string, string] => !!stream[2]);
    const urls = await client.downloadUrls([...stills.map(([path]) => path), ...streams.map(([, , path]) => path)]);
    thumbs.replaceChildren(...stills.map(([path, at]) => el("button", { type: "button", role: "listitem",
      "aria-label": at ? `Jump to ${at.toFixed(1)} s` : "Jump to the start",
      onclick: () => { video.currentTime = at; video.play().catch(() => {}); } },
    el("img", { src: urls[path], alt: "", class: "thumb" }))));
    buttons.replaceChildren(...streams.map(([engine, label, path]) =>
      el("button", { type: "button", id: `play-${engine}`, onclick: () => play(video, engine, urls[path]).catch(report) }, `Play ${label}`)));
    playerBox.hidden = false;
    if (streams.length) await play(video, streams[0][0], urls[streams[0][2]]);
  }

  if (linkedJob) follow(linkedJob); // a job to show, e.g. from `make demo`
  const stopNewest = linkedJob ? () => {} : newestOfType("video_process", (id) => { if (id && firstRun.hidden === false) follow(id); });
  page.replaceChildren(pageHead("Video", "Turn a video into MP4 renditions, HLS and DASH streams and thumbnails, then watch it here."),
    el("section", { class: "card stack", "aria-label": "New video" }, field("Video file", picker), options,
      el("div", { class: "form-actions" }, upload), uploadBar, status),
    el("section", { class: "section", "aria-label": "Video job" }, jobView, firstRun), playerBox);
  return () => { stop(); stopNewest(); player?.destroy(); player = null; };
}
