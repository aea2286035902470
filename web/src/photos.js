// Photos: drop images or ZIP files, choose options, upload through the `upload` function,
// then watch the batch live and fill a before/after gallery as items finish.
import { client } from "./firebase.js";
import { el, errorText } from "./ui.js";
import { watchJob } from "./jobs.js";

export function mount(page) {
  let files = [];
  let stops = [];
  const fileList = el("ul", { id: "photo-files" });
  const picker = el("input", { type: "file", id: "photo-input", multiple: true, accept: "image/*,.zip,application/zip" });
  const drop = el("div", { class: "drop", id: "photo-drop" }, "Drop images or ZIP files here, or ", picker);
  const setFiles = (chosen) => {
    files = [...chosen];
    fileList.replaceChildren(...files.map((f) => el("li", {}, `${f.name} (${Math.ceil(f.size / 1024)} KB)`)));
  };
  picker.addEventListener("change", () => setFiles(picker.files));
  drop.addEventListener("dragover", (event) => { event.preventDefault(); drop.classList.add("over"); });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (event) => {
    event.preventDefault();
    drop.classList.remove("over");
    setFiles(event.dataTransfer.files);
  });

  const options = el("form", { id: "photo-options" },
    el("label", {}, el("input", { type: "checkbox", name: "remove_bg", checked: true }), " remove background"),
    el("label", {}, el("input", { type: "checkbox", name: "crop_face" }), " crop to face"),
    el("label", {}, "face size ", el("input", { type: "number", name: "face_size", value: 512, min: 64, max: 4096 })),
    el("label", {}, "format ", el("select", { name: "output_format" }, el("option", {}, "png"), el("option", {}, "webp"))),
    el("label", {}, "model ", el("select", { name: "model" }, el("option", {}, "u2netp"), el("option", {}, "u2net"))));
  const status = el("p", { class: "error", id: "photo-error" });
  const jobView = el("div", { id: "photo-job" });
  const gallery = el("div", { class: "gallery", id: "photo-gallery" });

  const upload = el("button", { type: "button", id: "photo-upload", onclick: async () => {
    status.textContent = "";
    if (!files.length) return void (status.textContent = "Choose one or more images or ZIP files first.");
    const megabytes = files.reduce((sum, f) => sum + f.size, 0) / (1024 * 1024);
    if (megabytes > REQUEST_LIMIT_MB) return void (status.textContent = tooBig(megabytes));
    upload.disabled = true;
    try {
      start(await client.uploadPhotos(files, readOptions(options)));
    } catch (error) {
      status.textContent = errorText(error);
    } finally {
      upload.disabled = false;
    }
  } }, "Upload and process");

  function start(jobId) {
    stops.forEach((stop) => stop());
    gallery.replaceChildren();
    const shown = new Set();
    stops = [
      watchJob(jobView, jobId), // its card offers results.zip once the batch is done
      client.watchItems(jobId, async (items) => {
        const fresh = items.map((d) => d.data).filter((i) => i.status === "done" && i.result && !shown.has(i.result.output_path));
        fresh.forEach((item) => shown.add(item.result.output_path));
        if (!fresh.length) return;
        try {
          const urls = await client.downloadUrls(fresh.flatMap((i) => [i.result.input_path, i.result.output_path]));
          for (const { result } of fresh) gallery.append(pair(result, urls));
        } catch (error) {
          status.textContent = errorText(error);
        }
      }),
    ];
  }

  page.replaceChildren(el("h2", {}, "Photos"), drop, fileList, options, upload, status, jobView,
    el("h3", {}, "Before / after"), gallery);
  return () => stops.forEach((stop) => stop());
}

// A deployed function accepts requests up to 32 MiB (Cloud Run's limit; UPLOAD_MAX_MB defaults to it).
const REQUEST_LIMIT_MB = 32;

function tooBig(megabytes) {
  return `These files are ${megabytes.toFixed(1)} MB; one upload carries at most ${REQUEST_LIMIT_MB} MB. ` +
    "Upload them in several smaller batches, or (from an app) put them in Storage under users/<your uid>/ " +
    "with the Storage SDK's resumable upload and start a photo_batch job on their paths (README, Photo batches).";
}

function readOptions(form) {
  const data = new FormData(form);
  return {
    remove_bg: data.has("remove_bg"),
    crop_face: data.has("crop_face"),
    face_size: Number(data.get("face_size")),
    output_format: data.get("output_format"),
    model: data.get("model"),
  };
}

function pair(result, urls) {
  return el("figure", { class: "pair", dataset: { output: result.output_path } },
    el("img", { src: urls[result.input_path], alt: `before: ${result.input}`, class: "before" }),
    el("img", { src: urls[result.output_path], alt: `after: ${result.input}`, class: "after" }),
    el("figcaption", {}, `${result.input} → ${result.width}×${result.height}`,
      result.warnings?.length ? ` (${result.warnings.join("; ")})` : ""));
}
