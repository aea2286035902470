// Takes: every asset a scene was given is kept; they are shown side by side per kind, the
// selected one marked, and the owner picks another with select_take. The take settings (seed,
// aspect ratio, what to avoid) shape the next generation, only for the kinds whose model takes them.
import type { GenerationParams, SelectedTakes, Take } from "../../contract/types/mediajobs";
import { client } from "./firebase.js";
import { action, el, errorBanner, field, timeAgo } from "./ui.js";

export type Kind = "composition" | "image" | "video" | "audio";
const KINDS: Kind[] = ["composition", "image", "video", "audio"];
const KIND_NAMES: Record<Kind, string> = { composition: "Composition", image: "Image", video: "Video", audio: "Audio" };
// As the contract's table (functions/mediajobs/scenes/params.py): what each kind's model takes.
const ASPECT_RATIOS: Partial<Record<Kind, string[]>> = {
  image: ["1:1", "16:9", "21:9", "3:2", "2:3", "4:5", "5:4", "3:4", "4:3", "9:16", "9:21"],
  video: ["16:9", "9:16", "1:1"],
};
const TAKES_NEGATIVE_PROMPT: Kind[] = ["image", "video"];
type Settings = Pick<GenerationParams, "seed" | "aspect_ratio" | "negative_prompt">;

/** Seed and aspect ratio for the scene's next takes. */
export class TakeSettings {
  readonly node: HTMLDetailsElement;
  private readonly seed: HTMLInputElement;
  private readonly ratio: HTMLSelectElement;
  private readonly avoid: HTMLInputElement;

  constructor() {
    this.seed = el("input", { name: "seed", type: "number", min: 0, max: 4294967295, step: 1, inputmode: "numeric",
      autocomplete: "off", class: "take-seed" });
    const ratios = [...new Set(Object.values(ASPECT_RATIOS).flat())];
    this.ratio = el("select", { name: "aspect_ratio", class: "take-ratio" }, el("option", { value: "" }, "Model default"),
      ...ratios.map((ratio) => el("option", { value: ratio }, ratio)));
    this.avoid = el("input", { name: "negative_prompt", maxlength: 1000, autocomplete: "off", class: "take-avoid" });
    this.node = el("details", { class: "take-settings" }, el("summary", {}, "Take settings"),
      el("div", { class: "form-grid" },
        field("Seed", this.seed, "The same seed gives the same take again."),
        field("Aspect ratio", this.ratio, "Images and videos only."),
        el("div", { class: "wide" }, field("Avoid", this.avoid, "What images and videos should not show (a negative prompt)."))));
  }

  /** The parameters for a `kind` asset: only those set and taken by that kind. */
  paramsFor(kind: Kind): Settings {
    const params: Settings = {};
    if (this.seed.value !== "") {
      const seed = Number(this.seed.value);
      if (!Number.isInteger(seed) || seed < 0 || seed > 4294967295) {
        throw { code: "invalid-argument", message: "The seed must be a whole number from 0 to 4294967295." };
      }
      params.seed = seed;
    }
    if (this.ratio.value && ASPECT_RATIOS[kind]?.includes(this.ratio.value)) params.aspect_ratio = this.ratio.value;
    const avoid = this.avoid.value.trim();
    if (avoid && TAKES_NEGATIVE_PROMPT.includes(kind)) params.negative_prompt = avoid;
    return params;
  }
}

/** The scene's takes, per kind, side by side; "Use this take" selects one. */
export class TakeStrip {
  readonly node: HTMLDivElement;
  private takes: { id: string; data: Take }[] = [];
  private selected: SelectedTakes = {};
  private readonly urls = new Map<string, Promise<string>>();
  private readonly stopTakes: () => void;

  constructor(private readonly projectId: string, private readonly sceneId: string, private readonly sceneName: () => string) {
    this.node = el("div", { class: "takes-box" });
    this.stopTakes = client.watchTakes(projectId, sceneId, (takes) => {
      this.takes = takes;
      this.render();
    }, (error) => this.node.replaceChildren(errorBanner(error, { title: "The takes could not be loaded", compact: true })));
  }

  stop(): void {
    this.stopTakes();
  }

  showSelected(selected: SelectedTakes | null | undefined): void {
    this.selected = selected || {};
    this.render();
  }

  private render(): void {
    const groups = KINDS.map((kind) => [kind, this.takes.filter((take) => take.data.kind === kind)] as const)
      .filter(([, takes]) => takes.length > 0);
    this.node.replaceChildren(...groups.map(([kind, takes]) => el("section", { class: "takes", dataset: { kind },
      "aria-label": `${KIND_NAMES[kind]} takes of ${this.sceneName()}` },
    el("div", { class: "asset-label" }, `${KIND_NAMES[kind]} takes (${takes.length})`),
    el("div", { class: "take-row" }, ...takes.map(({ id, data }, index) => this.card(kind, id, data, index + 1))))));
  }

  private card(kind: Kind, takeId: string, take: Take, number: number): HTMLElement {
    const chosen = this.selected[kind] === takeId;
    const name = `${KIND_NAMES[kind].toLowerCase()} take ${number}, scene ${this.sceneName()}`;
    const settings = [take.params.seed !== undefined && take.params.seed !== null ? `seed ${take.params.seed}` : "",
      take.params.aspect_ratio || "", take.params.negative_prompt ? `avoiding “${take.params.negative_prompt}”` : ""]
      .filter(Boolean).join(", ");
    const pick = chosen
      ? el("button", { type: "button", class: "take-pick", "aria-pressed": "true", disabled: true, "aria-label": `Selected (${name})` }, "Selected")
      : action("Use this take", async () => {
        await client.selectTake({ project_id: this.projectId, scene_id: this.sceneId, take_id: takeId });
      }, { class: "take-pick primary", "aria-pressed": "false", "aria-label": `Use this take (${name})` });
    return el("div", { class: `card take${chosen ? " selected" : ""}`, dataset: { takeId, path: take.path } },
      this.preview(kind, take, name),
      el("div", { class: "card-meta" }, el("span", {}, `Take ${number}`), settings ? el("span", {}, settings) : null,
        take.created_at ? el("span", {}, timeAgo(take.created_at)) : null),
      pick);
  }

  private preview(kind: Kind, take: Take, name: string): HTMLElement {
    const box = el("div", { class: "take-media" });
    if (kind === "composition") {
      box.append(el("p", {}, take.composition?.description || ""), el("p", { class: "muted" }, take.composition?.styling || ""));
      return box;
    }
    const path = kind === "image" ? take.thumbnail_path || take.path : take.path;
    this.url(path).then((src) => {
      const media = kind === "image" ? el("img", { src, alt: name, loading: "lazy" })
        : el(kind, { src, controls: true, preload: "metadata", "aria-label": name });
      box.replaceChildren(media);
    }, (error) => box.replaceChildren(errorBanner(error, { title: "This take could not be shown", compact: true })));
    return box;
  }

  private url(path: string): Promise<string> {
    let url = this.urls.get(path);
    if (!url) {
      url = client.downloadUrls([path]).then((urls) => urls[path]);
      this.urls.set(path, url);
    }
    return url;
  }
}
