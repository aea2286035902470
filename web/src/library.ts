// Library: the signed-in user's videos (videos where owner_uid == me, live), each playable with
// its HLS stream (the Video page's player), its captions offered, a seek preview from the
// scrubbing sprite while the pointer is over the timeline, and a delete that removes the video
// and every object. Everything goes through the typed client and download_url's URLs.
import type { Video } from "../../contract/types/mediajobs";
import { client } from "./firebase.js";
import { duration, el, emptyState, errorBanner, formatBytes, pageHead, timeAgo } from "./ui.js";
import { play, showCaptions, stopPlaying } from "./video.js";

type Doc<T> = { id: string; data: T };
type Cue = { start: number; end: number; x: number; y: number; w: number; h: number; image: string };

const STATUS: Record<Video["status"], string> = {
  processing: "Processing", ready: "Ready", failed: "Failed", cancelled: "Cancelled",
};

function seconds(stamp: string): number {
  const parts = stamp.split(":").map(Number);
  return parts.reduce((total, part) => total * 60 + part, 0);
}

/** The cues of a WebVTT thumbnail track: `start --> end` then `image#xywh=x,y,w,h`, resolved against `base`. */
export function thumbnailCues(track: string, base: string): Cue[] {
  const lines = track.replace(/\r\n?/g, "\n").split("\n");
  const cues: Cue[] = [];
  lines.forEach((line, index) => {
    const timing = /^([\d:.]+)\s+-->\s+([\d:.]+)/.exec(line.trim());
    const target = /^(.+)#xywh=(\d+),(\d+),(\d+),(\d+)$/.exec((lines[index + 1] || "").trim());
    if (!timing || !target) return;
    const [x, y, w, h] = target.slice(2).map(Number);
    cues.push({ start: seconds(timing[1]), end: seconds(timing[2]), x, y, w, h, image: new URL(target[1], base).href });
  });
  return cues;
}

export function mount(page: HTMLElement): () => void {
  const status = el("div", { id: "library-error", "aria-live": "polite" });
  const list = el("div", { id: "library-videos", class: "gallery", role: "list", "aria-label": "Your videos" });
  const empty = emptyState("No videos yet",
    "Videos you process on the Video page stay here until you delete them: play them, with captions, and scrub with previews.");
  empty.hidden = true;
  const video = el("video", { id: "library-player", controls: true, muted: true, playsinline: true, width: 640 });
  const title = el("h3", { id: "library-title" }, "");
  const languages = el("select", { id: "library-captions", "aria-label": "Captions" });
  const preview = el("div", { id: "library-preview", class: "scrub-preview", hidden: true, "aria-hidden": "true" },
    el("div", { class: "scrub-tile" }), el("span", { class: "scrub-time" }));
  const scrub = el("div", { id: "library-scrub", class: "scrub", "aria-hidden": "true", title: "Point here to preview" },
    el("div", { class: "scrub-fill" }), preview);
  const box = el("section", { id: "library-player-box", class: "card section", hidden: true, "aria-label": "Watch" },
    el("div", { class: "card-head" }, title, el("label", { class: "field-inline" }, "Captions ", languages)),
    el("div", { class: "player-frame" }, video, scrub));
  let cues: Cue[] = [];
  let playing = "";
  const report = (error: unknown, what: string) => status.replaceChildren(errorBanner(error, { title: what }));

  languages.addEventListener("change", () => { showCaptions(languages.value || null); });
  video.addEventListener("timeupdate", () => {
    const fill = scrub.firstElementChild as HTMLElement;
    fill.style.width = `${video.duration ? (100 * video.currentTime) / video.duration : 0}%`;
  });
  scrub.addEventListener("mousemove", (event) => {
    const rect = scrub.getBoundingClientRect();
    const fraction = Math.min(1, Math.max(0, (event.clientX - rect.left) / rect.width));
    const at = fraction * (video.duration || cues.at(-1)?.end || 0);
    const cue = cues.find((c) => at >= c.start && at < c.end) || cues.at(-1);
    if (!cue) return;
    const tile = preview.firstElementChild as HTMLElement;
    Object.assign(tile.style, { width: `${cue.w}px`, height: `${cue.h}px`, backgroundImage: `url("${cue.image}")`,
      backgroundPosition: `-${cue.x}px -${cue.y}px` });
    tile.dataset.xywh = `${cue.x},${cue.y},${cue.w},${cue.h}`;
    tile.dataset.at = at.toFixed(3);
    (preview.lastElementChild as HTMLElement).textContent = duration(at);
    preview.style.left = `${Math.min(Math.max(0, event.clientX - rect.left - cue.w / 2), rect.width - cue.w)}px`;
    preview.hidden = false;
  });
  scrub.addEventListener("mouseleave", () => { preview.hidden = true; });
  scrub.addEventListener("click", (event) => {
    const rect = scrub.getBoundingClientRect();
    if (video.duration) video.currentTime = ((event.clientX - rect.left) / rect.width) * video.duration;
  });

  async function watch(id: string, data: Video) {
    status.replaceChildren();
    if (!data.hls_master_path) throw { code: "failed-precondition", message: "This video has no HLS stream to play." };
    const captions = Object.entries(data.captions || {}).sort(([a], [b]) => a.localeCompare(b));
    const paths = [data.hls_master_path, ...(data.preview ? [data.preview.vtt_path] : [])];
    const urls = await client.downloadUrls(paths);
    cues = data.preview ? thumbnailCues(await (await fetch(urls[data.preview.vtt_path])).text(), urls[data.preview.vtt_path]) : [];
    scrub.hidden = !cues.length;
    languages.replaceChildren(el("option", { value: "" }, "Off"),
      ...captions.map(([language, caption]) => el("option", { value: language }, caption.label || language)));
    languages.value = captions[0]?.[0] || "";
    languages.disabled = !captions.length;
    title.textContent = data.title;
    box.hidden = false;
    playing = id;
    await play(video, "hls", urls[data.hls_master_path], languages.value || null);
    box.scrollIntoView({ block: "nearest" });
  }

  function card({ id, data }: Doc<Video>): HTMLElement {
    const poster = el("img", { class: "thumb", alt: "", width: 320, height: 180, hidden: true });
    if (data.poster) client.downloadUrls([data.poster]).then((urls) => { poster.src = urls[data.poster as string]; poster.hidden = false; }).catch(() => {});
    const ready = data.status === "ready";
    const confirm = el("span", { class: "actions", hidden: true },
      el("button", { type: "button", class: "danger", dataset: { action: "confirm-delete" }, onclick: async (event: Event) => {
        (event.currentTarget as HTMLButtonElement).disabled = true;
        try {
          if (playing === id) { stopPlaying(); box.hidden = true; playing = ""; }
          await client.deleteVideo(id);
        } catch (error) {
          report(error, `"${data.title}" could not be deleted`);
          (event.currentTarget as HTMLButtonElement).disabled = false;
        }
      } }, "Delete for good"),
      el("button", { type: "button", onclick: () => { confirm.hidden = true; remove.hidden = false; } }, "Keep"));
    const remove = el("button", { type: "button", dataset: { action: "delete" }, "aria-label": `Delete ${data.title}`,
      onclick: () => { remove.hidden = true; confirm.hidden = false; } }, "Delete");
    const languages = Object.values(data.captions || {}).map((c) => c.label);
    return el("article", { class: "card video-card", role: "listitem", dataset: { videoId: id, status: data.status } },
      poster,
      el("div", { class: "card-head" }, el("h3", {}, data.title), el("span", { class: "badge" }, STATUS[data.status])),
      el("div", { class: "card-meta" },
        data.duration_seconds ? el("span", {}, duration(data.duration_seconds)) : null,
        data.width && data.height ? el("span", {}, `${data.width}×${data.height}`) : null,
        el("span", {}, formatBytes(data.size_bytes)),
        languages.length ? el("span", {}, `Captions: ${languages.join(", ")}`) : null,
        timeAgo(data.created_at)),
      data.error ? el("p", { class: "muted" }, data.error.message) : null,
      el("div", { class: "actions" },
        ready ? el("button", { type: "button", class: "primary", dataset: { action: "play" }, "aria-label": `Play ${data.title}`,
          onclick: () => watch(id, data).catch((error) => report(error, "The video could not be played")) }, "Play") : null,
        remove, confirm));
  }

  const stop = client.watchMyVideos((videos: Doc<Video>[]) => {
    list.replaceChildren(...videos.map(card));
    empty.hidden = videos.length > 0;
    if (playing && !videos.some((v) => v.id === playing)) { stopPlaying(); box.hidden = true; playing = ""; }
  }, (error: Error) => report(error, "Your videos could not be listed"));

  page.replaceChildren(pageHead("Library", "Your processed videos, kept until you delete them. Play them with captions; point at the timeline to preview."),
    status, box, el("section", { class: "section", "aria-label": "Videos" }, list, empty));
  return () => { stop(); stopPlaying(); };
}
