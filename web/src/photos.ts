// Photos: drop images or ZIP files, choose options, upload through the `upload` function, then
// watch the batch live and fill a gallery as items finish: each photo with a before/after slider,
// a larger viewer and its own download. Opens my newest batch (or `#/photos/<job id>`) on arrival.
import type { PhotoBatchItem, PhotoItemResult, PhotoOptions } from "../../contract/types/mediajobs";
import { client, download } from "./firebase.js";
import { check, el, emptyState, errorBanner, field, formatBytes, pageHead } from "./ui.js";
import { newestOfType, watchJob } from "./jobs.js";

type Model = NonNullable<PhotoOptions["model"]>;
// Every model the contract accepts; u2netp ships with the functions, the others only where setup
// installed them (a job asking for a missing one fails with failed-precondition, said on its card).
const MODELS: [Model, string][] = [["u2netp", "u2netp (fast, bundled)"], ["u2net", "u2net (precise)"],
  ["silueta", "silueta (small)"], ["isnet-general-use", "isnet general use"], ["u2net_human_seg", "u2net human segmentation"],
  ["birefnet-general-lite", "birefnet general lite"], ["birefnet-general", "birefnet general"],
  ["birefnet-portrait", "birefnet portrait"], ["isnet-anime", "isnet anime"], ["u2net_cloth_seg", "u2net cloth segmentation"]];

export function mount(page: HTMLElement, linkedJob: string | null): () => void {
  let files: File[] = [];
  let stops: (() => void)[] = [];
  const fileList = el("ul", { id: "photo-files", class: "chosen", "aria-label": "Chosen files" });
  const picker = el("input", { type: "file", id: "photo-input", class: "visually-hidden", multiple: true,
    accept: "image/*,.zip,application/zip" });
  const drop = el("div", { class: "drop", id: "photo-drop" },
    el("p", { class: "drop-title" }, "Drop photos or ZIP files here"),
    el("p", { class: "muted" }, "JPEG, PNG, WebP, HEIC or AVIF, up to 32 MB per upload; ZIPs are unpacked."),
    el("label", { class: "button", for: "photo-input" }, "Choose files"), picker, fileList);
  const setFiles = (chosen: FileList | File[] | null) => {
    if (!chosen) return;
    files = [...chosen];
    fileList.replaceChildren(...files.map((f) => el("li", {}, `${f.name} · ${formatBytes(f.size)}`)));
  };
  picker.addEventListener("change", () => setFiles(picker.files));
  drop.addEventListener("dragover", (event) => { event.preventDefault(); drop.classList.add("over"); });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (event: DragEvent) => {
    event.preventDefault();
    drop.classList.remove("over");
    setFiles(event.dataTransfer?.files || null);
  });

  const select = (name: string, choices: [string, string][], chosen?: string) =>
    el("select", { name }, choices.map(([value, label]) => el("option", { value, selected: value === chosen }, label)));
  const options = el("form", { id: "photo-options", class: "form-grid", onsubmit: (event: Event) => event.preventDefault() },
    el("fieldset", { class: "form-stack" }, el("legend", {}, "Cut-out"),
      check("Remove the background", el("input", { type: "checkbox", name: "remove_bg", checked: true })),
      field("Result", select("output", [["cutout", "The cut-out subject"], ["mask", "Its mask (black and white)"]])),
      field("Model", select("model", MODELS))),
    el("fieldset", { class: "form-stack" }, el("legend", {}, "Behind the subject"),
      field("Background", select("bg", [["transparent", "Transparent"], ["#ffffff", "White"], ["#000000", "Black"], ["custom", "A colour…"]])),
      field("Colour", el("input", { type: "color", name: "bg_colour", value: "#3478f6" }), "Used with “A colour…”.")),
    el("fieldset", { class: "form-stack" }, el("legend", {}, "Crop and size"),
      field("Crop", select("crop", [["none", "No crop"], ["face", "To the largest face"], ["subject", "To the subject"]])),
      field("Margin around it", el("input", { type: "number", name: "crop_margin", min: 0, max: 2, step: 0.1, placeholder: "0.4" }),
        "A fraction of the face's or subject's size."),
      field("Face crop size (px)", el("input", { type: "number", name: "face_size", value: 512, min: 64, max: 4096 })),
      field("Longest side", select("size", [["original", "As uploaded"], ["512", "512 px"], ["1024", "1024 px"], ["2048", "2048 px"]]))),
    el("fieldset", { class: "form-stack" }, el("legend", {}, "File"),
      field("Format", select("output_format", [["png", "PNG"], ["webp", "WebP (smaller)"], ["jpg", "JPEG (no alpha)"]]))));
  const status = el("div", { id: "photo-error", "aria-live": "polite" });
  const jobView = el("div", { id: "photo-job" });
  const gallery = el("div", { class: "gallery", id: "photo-gallery" });
  const background = el("div", { class: "segmented", role: "radiogroup", "aria-label": "Background behind cut-outs" },
    ["checker", "white", "black"].map((value) => el("label", {},
      el("input", { type: "radio", name: "photo-bg", value, checked: value === "checker",
        onchange: () => { gallery.dataset.bg = value; gallery.querySelectorAll(".compare").forEach((c) => { c.className = `compare bg-${value}`; }); } }),
      { checker: "Checkerboard", white: "White", black: "Black" }[value])));
  gallery.dataset.bg = "checker";
  const results = el("section", { class: "section", hidden: true }, el("h3", { class: "section-title" }, "Results"),
    el("div", { class: "toolbar" }, el("span", { class: "muted" }, "Background:"), background), gallery);
  const firstRun = emptyState("No photos processed yet",
    "Choose a few portraits or a ZIP of them above and press Upload and process. Each result appears here as soon as it is ready.");

  const upload = el("button", { type: "button", id: "photo-upload", class: "primary", onclick: async () => {
    status.replaceChildren();
    if (!files.length) return void status.replaceChildren(errorBanner({ code: "invalid-argument", message: "Choose one or more images or ZIP files first." }, { title: "Nothing to upload", compact: true }));
    const megabytes = files.reduce((sum, f) => sum + f.size, 0) / (1024 * 1024);
    if (megabytes > REQUEST_LIMIT_MB) return void status.replaceChildren(errorBanner({ code: "invalid-argument", message: tooBig(megabytes) }, { title: "Too large for one upload" }));
    upload.disabled = true;
    try {
      start(await client.uploadPhotos(files, readOptions(options)));
    } catch (error) {
      status.replaceChildren(errorBanner(error, { title: "The upload failed" }));
    } finally {
      upload.disabled = false;
    }
  } }, "Upload and process");

  function start(jobId: string) {
    stops.forEach((stop) => stop());
    gallery.replaceChildren();
    firstRun.hidden = true;
    results.hidden = false;
    const shown = new Set();
    stops = [
      watchJob(jobView, jobId), // its card offers results.zip and every output once the batch is done
      client.watchItems(jobId, async (items) => {
        const fresh = items.map((d) => (d.data as PhotoBatchItem).result)
          .filter((result): result is PhotoItemResult => !!result && !shown.has(result.output_path));
        fresh.forEach((result) => shown.add(result.output_path));
        if (!fresh.length) return;
        try {
          const urls = await client.downloadUrls(fresh.flatMap((result) => [result.input_path, result.output_path]));
          for (const result of fresh) gallery.append(photoCard(result, urls, gallery.dataset.bg || "checker"));
        } catch (error) {
          status.replaceChildren(errorBanner(error, { title: "The results could not be shown" }));
        }
      }),
    ];
  }

  const started = () => results.hidden === false;
  if (linkedJob) start(linkedJob);
  else stops.push(newestOfType("photo_batch", (id) => { if (id && !started()) start(id); }));

  page.replaceChildren(pageHead("Photos", "Cut portraits out of their background and crop them to the face, a whole batch at once."),
    el("section", { class: "card stack", "aria-label": "New batch" }, drop, options,
      el("div", { class: "form-actions" }, upload), status),
    el("section", { class: "section", "aria-label": "Batch" }, jobView, firstRun), results);
  return () => stops.forEach((stop) => stop());
}

// A deployed function accepts requests up to 32 MiB (Cloud Run's limit; UPLOAD_MAX_MB defaults to it).
const REQUEST_LIMIT_MB = 32;

function tooBig(megabytes: number): string {
  return `These files are ${megabytes.toFixed(1)} MB; one upload carries at most ${REQUEST_LIMIT_MB} MB. ` +
    "Upload them in several smaller batches, or (from an app) put them in Storage under users/<your uid>/ " +
    "with the Storage SDK's resumable upload and start a photo batch job on their paths (README, Photo batches).";
}

function readOptions(form: HTMLFormElement): PhotoOptions {
  const data = new FormData(form);
  const text = (name: string) => String(data.get(name) ?? "");
  const crop = text("crop") as NonNullable<PhotoOptions["crop"]>;
  const size = text("size");
  const options: PhotoOptions = {
    remove_bg: data.has("remove_bg"),
    output: text("output") === "mask" ? "mask" : "cutout",
    model: text("model") as Model,
    bg: text("bg") === "custom" ? text("bg_colour") : text("bg"),
    crop,
    size: size === "original" ? "original" : (Number(size) as 512 | 1024 | 2048),
    output_format: text("output_format") as NonNullable<PhotoOptions["output_format"]>,
  };
  if (crop !== "none" && text("crop_margin")) options.crop_margin = Number(text("crop_margin"));
  if (crop === "face") options.face_size = Number(text("face_size"));
  return options;
}

/** One photo: before/after under a slider, a larger view, and its download. */
function photoCard(result: PhotoItemResult, urls: Record<string, string>, bg: string): HTMLElement {
  const before = urls[result.input_path];
  const after = urls[result.output_path];
  const name = result.input.split("/").pop() || result.input;
  const compare = el("div", { class: `compare bg-${bg || "checker"}` },
    el("img", { src: before, alt: `${name} before`, class: "before" }),
    el("img", { src: after, alt: `${name} after`, class: "after" }),
    el("span", { class: "split-line", "aria-hidden": "true" }),
    el("span", { class: "compare-tag before-tag", "aria-hidden": "true" }, "Before"),
    el("span", { class: "compare-tag after-tag", "aria-hidden": "true" }, "After"));
  const slider = el("input", { type: "range", min: 0, max: 100, value: 50, "aria-label": `Compare ${name} before and after`,
    oninput: () => compare.style.setProperty("--split", `${slider.value}%`) });
  return el("figure", { class: "card photo pair", dataset: { output: result.output_path } }, compare, slider,
    el("figcaption", {}, el("strong", {}, name),
      el("span", { class: "muted" }, `${result.width}×${result.height} · ${formatBytes(result.size)}`),
      result.warnings?.length ? el("span", { class: "muted" }, ` · ${result.warnings.join("; ")}`) : null),
    el("div", { class: "actions" },
      el("button", { type: "button", class: "view", onclick: () => openViewer(name, before, after) }, "View larger"),
      el("button", { type: "button", class: "download", "data-path": result.output_path, onclick: () => download(result.output_path) },
        "Download")));
}

/** A dialog with before and after side by side, fitted or at full size, on a chosen background. */
function openViewer(name: string, before: string, after: string): void {
  const NEXT: Record<string, string> = { checker: "white", white: "black", black: "checker" };
  let bg = "checker";
  let fit = true;
  const frames = [["Before", before], ["After", after]].map(([label, src]) =>
    el("div", { class: "viewer-pane fit bg-checker" }, el("img", { src, alt: `${name} ${label.toLowerCase()}` })));
  const panes = frames.map((frame, i) => el("figure", { style: "margin: 0" },
    el("figcaption", { class: "asset-label" }, i ? "After" : "Before"), frame));
  const paint = () => frames.forEach((frame) => { frame.className = `viewer-pane${fit ? " fit" : ""} bg-${bg}`; });
  const zoom = el("button", { type: "button", onclick: () => {
    fit = !fit;
    paint();
    zoom.textContent = fit ? "Actual size" : "Fit to window";
  } }, "Actual size");
  const backgroundButton = el("button", { type: "button", onclick: () => {
    bg = NEXT[bg] || "checker";
    paint();
  } }, "Change background");
  const dialog = el("dialog", { class: "viewer", "aria-label": `${name}, before and after` },
    el("div", { class: "card-head" }, el("h3", {}, name),
      el("button", { type: "button", class: "primary", onclick: () => dialog.close() }, "Close")),
    el("div", { class: "viewer-grid" }, panes), el("div", { class: "actions" }, zoom, backgroundButton));
  dialog.addEventListener("close", () => dialog.remove());
  document.body.append(dialog);
  dialog.showModal();
}
