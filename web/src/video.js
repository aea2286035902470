// Video: a resumable upload with a progress bar, the video_process job's live card, its
// thumbnails, and a player for the finished job (hls.js for HLS, dash.js for DASH) fed only
// with the URLs download_url returns, as any client would.
// The players and the Storage SDK load only when needed (they are most of the page's weight).
import { getApp } from "firebase/app";
import { auth, call, emulators, urlsFor } from "./firebase.js";
import { el, errorText, progressBar } from "./ui.js";
import { watchJob } from "./jobs.js";

const CHUNK = 1024 * 1024; // a multiple of 256 KiB, as resumable uploads require

/**
 * Uploads `file` to `path` in chunks that survive a dropped connection, reporting 0..1.
 * Deployed: the Firebase Storage SDK's resumable upload (storage.rules apply). Locally the
 * Storage emulator is fake-gcs-server, which speaks the Cloud Storage JSON API but not the
 * Firebase SDK's protocol, so the same resumable upload is done with that API's session.
 */
export async function uploadResumable(file, path, onProgress) {
  if (!emulators) {
    const { getStorage, ref, uploadBytesResumable } = await import("firebase/storage");
    const task = uploadBytesResumable(ref(getStorage(getApp()), path), file, { contentType: file.type || "video/mp4" });
    return new Promise((resolve, reject) => {
      task.on("state_changed", (snap) => onProgress(snap.bytesTransferred / snap.totalBytes), reject, () => resolve(path));
    });
  }
  return uploadToEmulator(file, path, onProgress);
}

async function uploadToEmulator(file, path, onProgress) {
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

let player = null; // { engine, destroy }

/** Plays `url` in `video` with hls.js or dash.js; window.__videoPlayer tells tests which. */
export async function play(video, engine, url) {
  const [{ default: Hls }, { MediaPlayer }] = await Promise.all([import("hls.js"), import("dashjs")]);
  player?.destroy();
  video.muted = true; // autoplay without a gesture
  if (engine === "hls") {
    if (Hls.isSupported()) {
      const hls = new Hls();
      hls.loadSource(url);
      hls.attachMedia(video);
      hls.on(Hls.Events.MANIFEST_PARSED, () => video.play().catch(() => {}));
      hls.on(Hls.Events.ERROR, (_, data) => data.fatal && console.error(`hls.js: ${data.type} ${data.details}`));
      player = { engine, destroy: () => hls.destroy() };
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

export function mount(page) {
  let stop = () => {};
  const picker = el("input", { type: "file", id: "video-input", accept: "video/*" });
  const status = el("p", { class: "error", id: "video-error" });
  const uploadBar = el("div", { id: "video-upload-progress", dataset: { percent: 0 } }, progressBar(0));
  const jobView = el("div", { id: "video-job" });
  const thumbs = el("div", { class: "gallery", id: "video-thumbs" });
  const video = el("video", { id: "video-player", controls: true, muted: true, playsinline: true, width: 640 });
  const buttons = el("div", { id: "video-formats" });
  const playerBox = el("div", { id: "video-player-box", hidden: true }, buttons, video);

  const upload = el("button", { type: "button", id: "video-upload", onclick: async () => {
    status.textContent = "";
    const file = picker.files[0];
    if (!file) return void (status.textContent = "Choose a video first.");
    upload.disabled = true;
    try {
      const name = file.name.replace(/[^\w.-]+/g, "_").slice(-80) || "video.mp4";
      const path = `users/${auth.currentUser.uid}/videos/${Date.now().toString(36)}-${name}`;
      await uploadResumable(file, path, (fraction) => {
        const percent = Math.round(fraction * 100);
        uploadBar.dataset.percent = percent;
        uploadBar.replaceChildren(progressBar(percent), el("span", { class: "muted" }, ` uploaded ${percent}%`));
      });
      const { job_id: jobId } = await call("start_job", {
        type: "video_process", input: { path }, options: { renditions: [360, 720], hls: true, dash: true, thumbnails: 3 },
      });
      follow(jobId);
    } catch (error) {
      status.textContent = errorText(error);
    } finally {
      upload.disabled = false;
    }
  } }, "Upload and process");

  const report = (error) => { status.textContent = errorText(error); };

  function follow(jobId) {
    stop();
    thumbs.replaceChildren();
    playerBox.hidden = true;
    let shown = false;
    stop = watchJob(jobView, jobId, (job) => {
      if (job.status !== "completed" || shown) return;
      shown = true;
      showResult(job.result).catch(report);
    });
  }

  async function showResult(result) {
    const stills = [...(result.thumbnails || []), result.poster].filter(Boolean);
    const streams = [["hls", "HLS", result.hls_master_path], ["dash", "DASH", result.dash_manifest_path]]
      .filter(([, , path]) => path);
    const urls = await urlsFor([...stills, ...streams.map(([, , path]) => path)]);
    thumbs.replaceChildren(...stills.map((path) => el("img", { src: urls[path], alt: path.split("/").pop(), class: "thumb" })));
    buttons.replaceChildren(...streams.map(([engine, label, path]) =>
      el("button", { type: "button", id: `play-${engine}`, onclick: () => play(video, engine, urls[path]).catch(report) }, `Play ${label}`)));
    playerBox.hidden = false;
    if (streams.length) await play(video, streams[0][0], urls[streams[0][2]]);
  }

  const linked = location.hash.match(/^#\/video\/([\w-]+)$/); // a job to show, e.g. from `make demo`
  if (linked) follow(linked[1]);
  page.replaceChildren(el("h2", {}, "Video"),
    el("p", {}, picker, " ", upload), uploadBar, status, jobView,
    el("h3", {}, "Thumbnails"), thumbs, el("h3", {}, "Watch"), playerBox);
  return () => { stop(); player?.destroy(); player = null; };
}
