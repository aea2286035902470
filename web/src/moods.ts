// A project's mood board: generate moods (the provider writes and draws them), pick one as the
// storyboard's selected_mood (stored as the original client's embedded Mood object), and run the
// whole storyboard as one server job (storyboard_assets) whose progress shows on the project.
import type { Mood, Mood1, Project, Storyboard } from "../../contract/types/mediajobs";
import type { Doc } from "./client.js";
import { client } from "./firebase.js";
import { action, check, el, emptyState, errorBanner, field, progressBar } from "./ui.js";
import { jobFinished } from "./jobs.js";

const MOOD_FIELDS = ["name", "description", "visual_style", "color_palette", "mood_keywords", "image_paths"] as const;

/** The selected mood's id, whether the storyboard holds a Mood object or a mood id. */
export function selectedMoodId(storyboard: Storyboard | undefined): string | null {
  const selected = storyboard?.selected_mood;
  return typeof selected === "string" ? selected : selected?.id || null;
}

/** A mood document as the Mood object the storyboard embeds. */
export function moodObject(id: string, data: Mood): Mood1 {
  const mood: Record<string, unknown> = { id };
  for (const field of MOOD_FIELDS) if (data[field] !== undefined) mood[field] = data[field];
  return mood as unknown as Mood1;
}

export function moodBoard(projectId: string): { node: HTMLElement; stop: () => void } {
  let project: Partial<Project> = {};
  let moods: Doc<Mood>[] = [];
  const images = new Map<string, string>();
  const status = el("div", { class: "storyboard-job" });
  const grid = el("div", { class: "moods", id: "mood-board" });

  const count = el("select", { id: "moods-count", name: "count" }, [2, 3, 4, 6, 8].map((n) => el("option", { value: n, selected: n === 4 }, `${n} moods`)));
  const finished = async (jobId: string) => {
    const job = await jobFinished(jobId);
    if (job.status !== "completed") throw { code: job.error?.code || job.status, message: job.error?.message || `The job ended ${job.status}.`, incident_id: job.error?.incident_id };
  };
  const generateMoods = action("Generate mood board", async () => {
    await finished(await client.startJob({ type: "mood_board", input: { project_id: projectId, count: Number(count.value) } }));
  }, { id: "moods-generate" });
  type Kind = "composition" | "image" | "video" | "audio";
  const KINDS: Kind[] = ["composition", "image", "video", "audio"];
  const kinds = el("fieldset", { id: "storyboard-kinds", class: "inline-options" }, el("legend", {}, "Make for every scene"),
    KINDS.map((kind) => check(kind[0].toUpperCase() + kind.slice(1), el("input", { type: "checkbox", name: "kinds", value: kind, checked: true }))));
  const generateStoryboard = action("Generate the whole storyboard", async () => {
    const chosen = KINDS.filter((kind) => kinds.querySelector<HTMLInputElement>(`input[value=${kind}]`)?.checked);
    if (!chosen.length) throw { code: "invalid-argument", message: "Choose at least one kind of asset." };
    await finished(await client.generateStoryboard({ project_id: projectId, ...(chosen.length < KINDS.length ? { kinds: chosen } : {}) }));
  }, { id: "storyboard-generate", class: "primary" });

  async function pick(mood: Mood1) {
    const storyboard: Storyboard = { ...(project.storyboard || {}), selected_mood: mood };
    await client.updateProject({ project_id: projectId, storyboard });
  }

  function render() {
    const chosen = selectedMoodId(project.storyboard);
    empty.hidden = moods.length > 0;
    grid.replaceChildren(...moods.map(({ id, data }) => {
      const image = el("div", { class: "mood-image" });
      const path = data.image_paths?.[0];
      if (path) showImage(image, path);
      return el("div", { class: `card mood${id === chosen ? " selected" : ""}`, dataset: { moodId: id } },
        image,
        el("div", { class: "card-head" }, el("strong", {}, data.name || "Untitled mood"),
          id === chosen ? el("span", { class: "badge status-completed" }, "Selected") : ""),
        el("p", { class: "muted" }, data.description || ""),
        el("div", { class: "swatches" }, ...(data.color_palette || []).map((colour: string) =>
          el("span", { class: "swatch", title: colour, style: `background: ${colour}` }))),
        el("p", { class: "muted" }, (data.mood_keywords || []).join(" · ")),
        action(id === chosen ? "Selected" : "Use this mood", () => pick(moodObject(id, data)),
          { class: `mood-pick${id === chosen ? "" : " primary"}`, "aria-label": id === chosen ? `Selected: ${data.name}` : `Use this mood: ${data.name}` }));
    }));
  }

  async function showImage(box: HTMLElement, path: string) {
    try {
      if (!images.has(path)) images.set(path, (await client.downloadUrls([path]))[path]);
      box.replaceChildren(el("img", { src: images.get(path) || "", alt: "Mood image", "data-path": path }));
    } catch (error) {
      box.replaceChildren(errorBanner(error, { title: "The image could not be shown", compact: true }));
    }
  }

  const stopProject = client.watchProject(projectId, (data) => {
    project = data || {};
    const job = project.storyboard_job;
    status.replaceChildren(...(job ? [
      el("div", { class: "progress-line" }, el("span", {}, `Storyboard ${job.status}: ${job.done_scenes} of ${job.total_scenes} scenes, ${job.percent}%`)),
      progressBar(job.percent || 0, "Storyboard progress")] : []));
    status.dataset.status = job?.status || "";
    render();
  }, (error) => status.replaceChildren(errorBanner(error, { title: "The project could not be loaded", compact: true })));
  const stopMoods = client.watchMoods(projectId, (docs) => {
    moods = docs.sort((a, b) => (a.data.name || "").localeCompare(b.data.name || ""));
    render();
  }, (error) => grid.replaceChildren(errorBanner(error, { title: "The moods could not be loaded" })));

  const empty = emptyState("No moods yet", "Generate a mood board to get a few looks (palette, keywords, an image) and pick the one your storyboard follows.");
  const node = el("div", { class: "mood-board" }, el("h4", { class: "section-title" }, "Mood board"),
    el("div", { class: "actions" }, field("How many", count), el("div", { class: "actions", style: "align-self: flex-end" }, generateMoods)),
    el("div", { class: "actions", style: "margin-top: 1rem; align-items: flex-end" }, kinds, generateStoryboard),
    status, empty, grid);
  return { node, stop: () => { stopProject(); stopMoods(); } };
}
