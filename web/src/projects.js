// Projects: create a project with a brief, add scenes, generate assets per scene or for all
// scenes at once; each scene shows its active job live and plays what was generated.
import { client } from "./firebase.js";
import { action, el, errorText, progressBar } from "./ui.js";
import { jobFinished } from "./jobs.js";
import { moodBoard } from "./moods.js";

const KINDS = ["composition", "image", "video", "audio"];

export function mount(page) {
  let stopProject = () => {};
  const list = el("div", { id: "project-list" });
  const detail = el("div", { id: "project-detail" });
  const form = el("form", { id: "project-form", onsubmit: (event) => event.preventDefault() },
    ...[["name", "Name"], ["title", "Storyboard title"], ["brand_name", "Brand"], ["product_description", "Product"],
      ["target_audience", "Audience"], ["key_message", "Key message"], ["tone", "Tone"]]
      .map(([name, label]) => el("label", {}, `${label} `, el("input", { name, required: name === "name" }))));
  const create = action("Create project", async () => {
    const data = Object.fromEntries(new FormData(form));
    if (!data.name) throw new Error("A project needs a name.");
    const { name, title, ...brief } = data;
    const project_id = await client.createProject({ name, storyboard: { title, creative_brief: brief } });
    form.reset();
    open(project_id);
  }, { id: "project-create" });

  function open(projectId) {
    stopProject();
    stopProject = showProject(detail, projectId);
  }

  const stopList = client.watchMyProjects((projects) => {
    list.replaceChildren(...projects.map(({ id, data }) => el("div", { class: "card", dataset: { projectId: id } },
      el("strong", {}, data.name), " ",
      el("span", { class: "muted" }, `${data.stats?.completed_scenes || 0}/${data.stats?.total_scenes || 0} scenes complete `),
      el("button", { type: "button", onclick: () => open(id) }, "Open"))));
  }, (error) => list.replaceChildren(el("p", { class: "error" }, errorText(error))));

  page.replaceChildren(el("h2", {}, "Projects"), form, create, list, detail);
  return () => { stopList(); stopProject(); };
}

function showProject(container, projectId) {
  const views = new Map();
  const header = el("div");
  const scenesBox = el("div", { id: "scenes" });
  const sceneForm = el("form", { id: "scene-form", onsubmit: (event) => event.preventDefault() },
    el("label", {}, "Title ", el("input", { name: "title", required: true })),
    el("label", {}, "Description ", el("input", { name: "description", size: 40 })),
    el("label", {}, "Seconds ", el("input", { name: "duration_seconds", type: "number", value: 3, min: 1, max: 120 })));
  const addScene = action("Add scene", async () => {
    const data = Object.fromEntries(new FormData(sceneForm));
    if (!data.title) throw new Error("A scene needs a title.");
    await client.addScene({ project_id: projectId, title: data.title, description: data.description,
      duration_seconds: Number(data.duration_seconds) });
    sceneForm.reset();
  }, { id: "scene-add" });
  const generateAll = action("Generate all assets for every scene", () =>
    Promise.all([...views.keys()].map((sceneId) => generate(projectId, sceneId, KINDS))), { id: "generate-all" });

  const stopProject = client.watchProject(projectId, (data) => {
    const project = data || {};
    const brief = project.storyboard?.creative_brief || {};
    header.replaceChildren(el("h3", {}, project.name || projectId, " ", el("span", { class: "muted" }, project.storyboard?.title || "")),
      el("p", { class: "muted" }, Object.entries(brief).filter(([, v]) => v).map(([k, v]) => `${k}: ${v}`).join(" · ")),
      el("p", { class: "muted" }, `${project.stats?.completed_scenes || 0}/${project.stats?.total_scenes || 0} scenes complete`));
  });
  const stopScenes = client.watchScenes(projectId, (scenes) => {
    for (const { id, data } of scenes) {
      if (!views.has(id)) views.set(id, new SceneView(projectId, id));
      views.get(id).update(data);
    }
    scenesBox.replaceChildren(...scenes.map(({ id }) => views.get(id).node));
  }, (error) => scenesBox.replaceChildren(el("p", { class: "error" }, errorText(error))));

  const board = moodBoard(projectId);
  container.replaceChildren(el("div", { class: "card", dataset: { openProject: projectId } }, header, board.node, sceneForm, addScene, generateAll, scenesBox));
  return () => { stopProject(); stopScenes(); board.stop(); };
}

/** One active job per scene: its kinds run one after another, scenes run at the same time. */
async function generate(projectId, sceneId, kinds) {
  for (const kind of kinds) {
    const job_id = await client.generateSceneAsset({ project_id: projectId, scene_id: sceneId, kind });
    const job = await jobFinished(job_id);
    if (job.status !== "completed") throw new Error(`${kind}: ${job.error?.message || job.status}`);
  }
}

class SceneView {
  constructor(projectId, sceneId) {
    this.projectId = projectId;
    this.sceneId = sceneId;
    this.title = el("h3");
    this.active = el("div", { class: "scene-active" });
    this.media = Object.fromEntries(KINDS.map((kind) => [kind, el("div", { class: `asset asset-${kind}` })]));
    this.shown = {};
    this.node = el("div", { class: "card scene", dataset: { sceneId } }, this.title, this.active,
      el("div", {}, ...KINDS.map((kind) => action(`Generate ${kind}`, () => generate(projectId, sceneId, [kind]),
        { class: `generate-${kind}` })), action("Generate all", () => generate(projectId, sceneId, KINDS), { class: "generate-all" })),
      el("div", { class: "scene-assets" }, ...Object.values(this.media)));
  }

  update(scene) {
    this.title.textContent = `${scene.scene_number}. ${scene.title}`;
    const job = scene.active_job;
    this.active.replaceChildren(...(job ? [
      el("span", { class: "muted" }, `${job.type || "scene_asset"} ${job.kind || ""} ${job.status} ${job.progress || 0}%`),
      progressBar(job.progress || 0),
      job.error_message ? el("p", { class: "error" }, job.error_message) : ""] : []));
    this.node.dataset.activeStatus = job?.status || "";
    if (scene.composition) {
      this.media.composition.replaceChildren(el("pre", {}, JSON.stringify(scene.composition, null, 1)));
    }
    for (const kind of ["image", "video", "audio"]) {
      const path = scene.assets?.[`${kind}_path`];
      if (path && this.shown[kind] !== path) {
        this.shown[kind] = path;
        this.showMedia(kind, path);
      }
    }
  }

  async showMedia(kind, path) {
    try {
      const url = (await client.downloadUrls([path]))[path];
      const tag = { image: "img", video: "video", audio: "audio" }[kind];
      const attrs = kind === "image" ? { src: url, alt: `${kind} of the scene` } : { src: url, controls: true, preload: "metadata" };
      this.media[kind].replaceChildren(el(tag, { ...attrs, "data-path": path }));
    } catch (error) {
      this.media[kind].replaceChildren(el("p", { class: "error" }, errorText(error)));
    }
  }
}
