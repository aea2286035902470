// Projects: create a project with a brief, add scenes, generate assets per scene (or the whole
// storyboard as one server job, on the mood board); each scene shows its active job live, its
// composition as a shot card, and shows or plays what was generated; every generation is kept as
// a take, shown side by side per kind, and the owner picks one (takes.ts). `#/projects/<id>` opens one.
import type { Composition, CreativeBrief, Project, Scene } from "../../contract/types/mediajobs";
import { client } from "./firebase.js";
import { action, el, emptyState, errorBanner, field, pageHead, placeInOrder, progressBar, timeAgo } from "./ui.js";
import { jobFinished } from "./jobs.js";
import { moodBoard } from "./moods.js";
import { TakeSettings, TakeStrip } from "./takes.js";

type Kind = "composition" | "image" | "video" | "audio";
type MediaKind = Exclude<Kind, "composition">;
const KINDS: Kind[] = ["composition", "image", "video", "audio"];
const KIND_NAMES: Record<Kind, string> = { composition: "Composition", image: "Image", video: "Video", audio: "Audio" };
const BRIEF = [["brand_name", "Brand"], ["product_description", "Product"], ["target_audience", "Audience"],
  ["key_message", "Key message"], ["tone", "Tone"]];

export function mount(page: HTMLElement, linkedProject: string | null): () => void {
  let stopProject = () => {};
  const list = el("div", { id: "project-list", class: "list" }, el("p", { class: "muted" }, "Loading your projects…"));
  const detail = el("div", { id: "project-detail", class: "section" });
  const form = el("form", { id: "project-form", class: "form-stack", onsubmit: (event: Event) => event.preventDefault() },
    el("fieldset", { class: "form-grid" }, el("legend", {}, "Project"),
      field("Name", el("input", { name: "name", required: true, autocomplete: "off" })),
      field("Storyboard title", el("input", { name: "title", autocomplete: "off" }))),
    el("fieldset", { class: "form-grid" }, el("legend", {}, "Creative brief"),
      ...BRIEF.map(([name, label]) => field(label, el("input", { name, autocomplete: "off" }))),
      el("div", { class: "wide" }, field("Additional notes", el("textarea", { name: "additional_notes", rows: 2 })))));
  const create = action("Create project", async () => {
    const data = Object.fromEntries([...new FormData(form)].map(([key, value]) => [key, String(value)]));
    if (!data.name) throw { code: "invalid-argument", message: "A project needs a name." };
    const { name, title, ...brief } = data;
    const creative_brief = Object.fromEntries(Object.entries(brief).filter(([, v]) => v));
    const project_id = await client.createProject({ name, storyboard: { title, creative_brief } });
    form.reset();
    open(project_id);
  }, { id: "project-create", class: "primary" });

  function open(projectId: string) {
    stopProject();
    history.replaceState(null, "", `#/projects/${projectId}`);
    stopProject = showProject(detail, projectId);
    for (const card of list.querySelectorAll<HTMLElement>("[data-project-id]")) card.classList.toggle("selected", card.dataset.projectId === projectId);
  }

  // Open while there is no project yet; one click away once there are.
  const newProject = el("details", { class: "card new-project", open: true }, el("summary", {}, "New project"), form,
    el("div", { class: "form-actions" }, create));
  let listed = false;
  const stopList = client.watchMyProjects((projects) => {
    if (!listed) newProject.open = !projects.length;
    listed = true;
    list.replaceChildren(...(projects.length ? projects.map(({ id, data }) => el("div", { class: "card", dataset: { projectId: id } },
      el("div", { class: "project-row" },
        el("span", { class: "project-name" }, data.name),
        el("span", { class: "muted" }, `${data.stats?.completed_scenes || 0} of ${data.stats?.total_scenes || 0} scenes complete`),
        data.updated_at ? el("span", { class: "muted" }, "changed ", timeAgo(data.updated_at)) : null,
        el("button", { type: "button", onclick: () => open(id), "aria-label": `Open ${data.name}` }, "Open"))))
      : [emptyState("No projects yet", "Create one above with a short brief, then add scenes and generate their composition, image, video and audio.")]));
  }, (error) => list.replaceChildren(errorBanner(error, { title: "Your projects could not be loaded" })));

  if (linkedProject) open(linkedProject);
  page.replaceChildren(pageHead("Projects", "Plan a video ad scene by scene from a creative brief: pick a mood, then generate every scene's assets."),
    newProject,
    el("section", { class: "section", "aria-label": "Your projects" }, el("h3", { class: "section-title" }, "Your projects"), list), detail);
  return () => { stopList(); stopProject(); };
}

function showProject(container: HTMLElement, projectId: string): () => void {
  const views = new Map<string, SceneView>();
  const header = el("div");
  const scenesBox = el("div", { id: "scenes", class: "scenes" });
  const sceneForm = el("form", { id: "scene-form", class: "form-grid", onsubmit: (event: Event) => event.preventDefault() },
    field("Title", el("input", { name: "title", required: true, autocomplete: "off" })),
    el("div", { class: "wide" }, field("Description", el("input", { name: "description", autocomplete: "off" }), "What the shot shows.")),
    field("Length (seconds)", el("input", { name: "duration_seconds", type: "number", value: 3, min: 1, max: 120 })));
  const addScene = action("Add scene", async () => {
    const data = Object.fromEntries([...new FormData(sceneForm)].map(([key, value]) => [key, String(value)]));
    if (!data.title) throw { code: "invalid-argument", message: "A scene needs a title." };
    await client.addScene({ project_id: projectId, title: data.title, description: data.description,
      duration_seconds: Number(data.duration_seconds) });
    sceneForm.reset();
  }, { id: "scene-add", class: "primary" });
  const noScenes = emptyState("No scenes yet", "Add the first scene below: a title, what it shows and how long it lasts.");

  let current: Partial<Project> = {};
  const editBox = el("div", { class: "project-edit", hidden: true });
  const editProject = el("button", { type: "button", id: "project-edit", onclick: () => {
    editBox.replaceChildren(projectEditor(projectId, current, () => { editBox.hidden = true; }));
    editBox.hidden = false;
  } }, "Edit project");
  const deleteBox = el("div", { class: "actions" });
  const askDelete = () => deleteBox.replaceChildren(el("button", { type: "button", id: "project-delete", class: "danger", onclick: () => {
    deleteBox.replaceChildren(el("p", { class: "banner error compact", role: "alert" },
      "Delete this project, its scenes, moods and every generated file and take? Running jobs are cancelled."),
    action("Yes, delete it", async () => {
      await client.deleteProject(projectId);
      stopAll(); // its listeners would only be refused from now on
      history.replaceState(null, "", "#/projects");
      container.replaceChildren();
    }, { id: "project-delete-confirm", class: "danger" }),
    el("button", { type: "button", onclick: askDelete }, "Keep it"));
  } }, "Delete project"));
  askDelete();

  const stopProject = client.watchProject(projectId, (data) => {
    const project: Partial<Project> = data || {};
    current = project;
    const brief = project.storyboard?.creative_brief || {};
    const rows = ([...BRIEF, ["additional_notes", "Notes"]] as [keyof typeof brief, string][]).filter(([key]) => brief[key]);
    header.replaceChildren(
      el("div", { class: "card-head" }, el("h3", {}, project.name || "Project"),
        el("span", { class: "badge" }, `${project.stats?.completed_scenes || 0} of ${project.stats?.total_scenes || 0} scenes complete`)),
      project.description ? el("p", { class: "project-description" }, project.description) : "",
      el("div", { class: "card-meta" }, project.storyboard?.title ? el("span", {}, `Storyboard “${project.storyboard.title}”`) : null,
        project.created_at ? el("span", {}, "Created ", timeAgo(project.created_at)) : null),
      rows.length ? el("dl", { class: "brief" }, rows.map(([key, label]) => el("div", {}, el("dt", {}, label), el("dd", {}, brief[key] || "")))) : "");
  }, (error) => header.replaceChildren(errorBanner(error, { title: "This project could not be loaded" })));
  let order: { id: string; data: Scene }[] = [];
  // Reordering swaps two neighbours' scene_number (update_scene on each).
  const move = async (sceneId: string, delta: number) => {
    const i = order.findIndex((scene) => scene.id === sceneId);
    const other = order[i + delta];
    if (i < 0 || !other) return;
    const mine = order[i];
    await client.updateScene({ project_id: projectId, scene_id: mine.id, scene_number: other.data.scene_number });
    await client.updateScene({ project_id: projectId, scene_id: other.id, scene_number: mine.data.scene_number });
  };
  const stopScenes = client.watchScenes(projectId, (scenes) => {
    order = scenes;
    for (const [index, { id, data }] of scenes.entries()) {
      if (!views.has(id)) views.set(id, new SceneView(projectId, id, move));
      views.get(id)?.place(index, scenes.length);
      views.get(id)?.update(data);
    }
    noScenes.hidden = scenes.length > 0;
    // Only when scenes come, go or move: a scene's update must not blur its take settings or editor.
    placeInOrder(scenesBox, scenes.flatMap(({ id }) => views.get(id)?.node || []));
  }, (error) => scenesBox.replaceChildren(errorBanner(error, { title: "The scenes could not be loaded" })));

  const board = moodBoard(projectId);
  container.replaceChildren(el("article", { class: "card", dataset: { openProject: projectId } }, header,
    el("div", { class: "actions", style: "margin-top: 0.75rem" }, editProject, deleteBox), editBox,
    el("div", { class: "section" }, board.node),
    el("div", { class: "section" }, el("h4", { class: "section-title" }, "Scenes"), noScenes, scenesBox),
    el("div", { class: "section" }, el("h4", { class: "section-title" }, "Add a scene"), sceneForm, el("div", { class: "form-actions" }, addScene))));
  let stopped = false;
  const stopAll = () => {
    if (stopped) return;
    stopped = true;
    stopProject();
    stopScenes();
    board.stop();
    for (const view of views.values()) view.stop();
  };
  return stopAll;
}

/** The project's name, description, storyboard title and brief, saved with update_project. */
function projectEditor(projectId: string, project: Partial<Project>, done: () => void): HTMLElement {
  const brief: CreativeBrief = project.storyboard?.creative_brief || {};
  const form = el("form", { id: "project-edit-form", class: "form-stack", onsubmit: (event: Event) => event.preventDefault() },
    el("fieldset", { class: "form-grid" }, el("legend", {}, "Project"),
      field("Name", el("input", { name: "name", required: true, value: project.name || "", autocomplete: "off" })),
      field("Storyboard title", el("input", { name: "title", value: project.storyboard?.title || "", autocomplete: "off" })),
      el("div", { class: "wide" }, field("Description", el("textarea", { name: "description", rows: 2 }, project.description || "")))),
    el("fieldset", { class: "form-grid" }, el("legend", {}, "Creative brief"),
      ...BRIEF.map(([name, label]) => field(label, el("input", { name, value: brief[name as keyof typeof brief] || "", autocomplete: "off" }))),
      el("div", { class: "wide" }, field("Additional notes", el("textarea", { name: "additional_notes", rows: 2 }, brief.additional_notes || "")))));
  const save = action("Save changes", async () => {
    const data = Object.fromEntries([...new FormData(form)].map(([key, value]) => [key, String(value)]));
    if (!data.name) throw { code: "invalid-argument", message: "A project needs a name." };
    const { name, title, description, ...rest } = data;
    await client.updateProject({ project_id: projectId, name, description,
      storyboard: { ...(project.storyboard || {}), title, creative_brief: rest } });
    done();
  }, { id: "project-save", class: "primary" });
  return el("section", { class: "card", "aria-label": "Edit project", style: "margin-top: 1rem" }, form,
    el("div", { class: "form-actions" }, save, el("button", { type: "button", onclick: done }, "Cancel")));
}

/** One active job per scene: its kinds run one after another, each with the take settings it takes. */
async function generate(projectId: string, sceneId: string, kinds: Kind[], settings: TakeSettings): Promise<void> {
  for (const kind of kinds) {
    const job_id = await client.generateSceneAsset({ project_id: projectId, scene_id: sceneId, kind, ...settings.paramsFor(kind) });
    const job = await jobFinished(job_id);
    if (job.status !== "completed") throw { code: job.error?.code || job.status, message: `${KIND_NAMES[kind]}: ${job.error?.message || job.status}`, incident_id: job.error?.incident_id };
  }
}

/** A composition as people read a shot list: what we see, how it moves, how it looks, how long. */
function shotCard(composition: Composition, seconds: number | undefined): HTMLElement {
  const rows = [["Description", composition.description], ["Animation", composition.animation], ["Styling", composition.styling],
    ["Duration", seconds ? `${seconds} seconds` : ""]].filter(([, value]) => value);
  return el("div", { class: "shot" }, el("dl", { class: "shot-rows" }, rows.map(([label, value]) => el("div", {}, el("dt", {}, label), el("dd", {}, value)))),
    composition.generated_at ? el("p", { class: "muted" }, "Written ", timeAgo(composition.generated_at)) : null);
}

class SceneView {
  readonly title: HTMLHeadingElement;
  readonly meta: HTMLDivElement;
  readonly active: HTMLDivElement;
  readonly media: Record<Kind, HTMLDivElement>;
  readonly node: HTMLDivElement;
  private readonly shown: Partial<Record<MediaKind, string>> = {};
  private readonly up: HTMLButtonElement;
  private readonly down: HTMLButtonElement;
  private readonly editBox: HTMLDivElement;
  private readonly settings = new TakeSettings();
  private readonly takes: TakeStrip;
  private scene: Scene | null = null;

  constructor(private readonly projectId: string, private readonly sceneId: string,
    move: (sceneId: string, delta: number) => Promise<void>) {
    this.title = el("h4");
    const moving = (delta: number) => async () => {
      this.up.disabled = this.down.disabled = true;
      try { await move(sceneId, delta); } catch (error) { this.editBox.replaceChildren(errorBanner(error, { title: "The scene could not be moved", compact: true })); }
    };
    this.up = el("button", { type: "button", class: "scene-up", "aria-label": "Move scene up", onclick: moving(-1) }, "↑ Up");
    this.down = el("button", { type: "button", class: "scene-down", "aria-label": "Move scene down", onclick: moving(1) }, "↓ Down");
    this.editBox = el("div", { class: "scene-edit" });
    this.meta = el("div", { class: "card-meta" });
    this.active = el("div", { class: "scene-active" });
    this.media = Object.fromEntries(KINDS.map((kind) => [kind, el("div", { class: `asset asset-${kind}` })])) as Record<Kind, HTMLDivElement>;
    const edit = el("button", { type: "button", class: "scene-edit-open", onclick: () => this.openEditor() }, "Edit");
    this.takes = new TakeStrip(projectId, sceneId, () => this.title.textContent || "the scene");
    const remove = el("button", { type: "button", class: "scene-delete danger", "aria-label": "Delete scene",
      onclick: () => this.askDelete() }, "Delete");
    this.node = el("div", { class: "card scene", dataset: { sceneId } },
      el("div", { class: "card-head" }, this.title, el("div", { class: "actions" }, edit, this.up, this.down, remove)), this.meta, this.editBox, this.active,
      this.settings.node,
      el("div", { class: "actions", style: "margin-top: 0.75rem" },
        ...KINDS.map((kind) => action(`Generate ${kind}`, () => generate(projectId, sceneId, [kind], this.settings), { class: `generate-${kind}` })),
        action("Generate all four", () => generate(projectId, sceneId, KINDS, this.settings), { class: "generate-all" })),
      el("div", { class: "scene-assets" }, ...Object.values(this.media)), this.takes.node);
  }

  stop(): void {
    this.takes.stop();
  }

  /** Where the scene sits among `count` (the first cannot move up, the last not down). */
  place(index: number, count: number): void {
    this.up.disabled = index === 0;
    this.down.disabled = index === count - 1;
  }

  /** delete_scene after a confirmation next to the scene (its running job is cancelled). */
  private askDelete(): void {
    const close = () => this.editBox.replaceChildren();
    this.editBox.replaceChildren(el("div", { class: "shot", style: "margin-top: 0.75rem" },
      el("p", { class: "banner error compact", role: "alert" },
        "Delete this scene and its generated files? A job generating it is cancelled."),
      el("div", { class: "form-actions" },
        action("Yes, delete scene", () => client.deleteScene(this.projectId, this.sceneId), { class: "danger scene-delete-confirm" }),
        el("button", { type: "button", onclick: close }, "Keep it"))));
  }

  private openEditor(): void {
    const scene = this.scene;
    if (!scene) return;
    const form = el("form", { class: "form-grid scene-edit-form", onsubmit: (event: Event) => event.preventDefault() },
      field("Title", el("input", { name: "title", value: scene.title, required: true, autocomplete: "off" })),
      el("div", { class: "wide" }, field("Description", el("input", { name: "description", value: scene.description || "", autocomplete: "off" }))),
      field("Length (seconds)", el("input", { name: "duration_seconds", type: "number", value: scene.duration_seconds, min: 1, max: 120 })));
    const close = () => this.editBox.replaceChildren();
    const save = action("Save scene", async () => {
      const data = new FormData(form);
      const title = String(data.get("title") || "");
      if (!title) throw { code: "invalid-argument", message: "A scene needs a title." };
      await client.updateScene({ project_id: this.projectId, scene_id: this.sceneId, title,
        description: String(data.get("description") || ""), duration_seconds: Number(data.get("duration_seconds")) });
      close();
    }, { class: "primary scene-save" });
    this.editBox.replaceChildren(el("div", { class: "shot", style: "margin-top: 0.75rem" }, form,
      el("div", { class: "form-actions" }, save, el("button", { type: "button", onclick: close }, "Cancel"))));
  }

  update(scene: Scene): void {
    this.scene = scene;
    this.title.textContent = `${scene.scene_number}. ${scene.title}`;
    this.takes.showSelected(scene.selected_takes);
    this.meta.replaceChildren(...[scene.description ? el("span", {}, scene.description) : null,
      scene.duration_seconds ? el("span", {}, `${scene.duration_seconds} s`) : null].filter((n): n is HTMLSpanElement => !!n));
    const job = scene.active_job;
    const active = job && job.status !== "completed";
    this.active.replaceChildren(...(active ? [
      el("div", { class: "progress-line" }, el("span", {}, `${KIND_NAMES[job.type] || "Asset"}${job.storyboard ? " (storyboard)" : ""}: ${job.status}, ${job.progress || 0}%`)),
      progressBar(job.progress || 0, `${this.title.textContent} generation`),
      job.error_message ? errorBanner({ code: job.status, message: job.error_message }, { title: `${KIND_NAMES[job.type] || "Asset"} failed`, compact: true }) : ""] : []));
    this.node.dataset.activeStatus = job?.status || "";
    if (scene.composition) {
      this.media.composition.replaceChildren(el("div", { class: "asset-label" }, "Shot"), shotCard(scene.composition, scene.duration_seconds));
    }
    for (const kind of ["image", "video", "audio"] as MediaKind[]) {
      const path = scene.assets?.[`${kind}_path`] as string | null | undefined;
      if (path && this.shown[kind] !== path) {
        this.shown[kind] = path;
        this.showMedia(kind, path);
      }
    }
  }

  async showMedia(kind: MediaKind, path: string): Promise<void> {
    try {
      const url = (await client.downloadUrls([path]))[path];
      const tag = ({ image: "img", video: "video", audio: "audio" } as const)[kind];
      const attrs = kind === "image" ? { src: url, alt: `Image of scene ${this.title.textContent}` }
        : { src: url, controls: true, preload: "metadata", "aria-label": `${KIND_NAMES[kind]} of scene ${this.title.textContent}` };
      this.media[kind].replaceChildren(el("div", { class: "asset-label" }, KIND_NAMES[kind]), el(tag, { ...attrs, "data-path": path }));
    } catch (error) {
      this.media[kind].replaceChildren(errorBanner(error, { title: `The ${kind} could not be shown`, compact: true }));
    }
  }
}
