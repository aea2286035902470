// A project's mood board: generate moods (the provider writes and draws them), pick one as the
// storyboard's selected_mood (stored as the original client's embedded Mood object), and run the
// whole storyboard as one server job (storyboard_assets) whose progress shows on the project.
import { collection, doc, onSnapshot } from "firebase/firestore";
import { call, db, urlsFor } from "./firebase.js";
import { action, el, errorText, progressBar } from "./ui.js";
import { jobFinished } from "./jobs.js";

const MOOD_FIELDS = ["name", "description", "visual_style", "color_palette", "mood_keywords", "image_paths"];

/** The selected mood's id, whether the storyboard holds a Mood object or a mood id. */
export function selectedMoodId(storyboard) {
  const selected = storyboard?.selected_mood;
  return typeof selected === "string" ? selected : selected?.id || null;
}

/** A mood document as the Mood object the storyboard embeds. */
export function moodObject(id, data) {
  const mood = { id };
  for (const field of MOOD_FIELDS) if (data[field] !== undefined) mood[field] = data[field];
  return mood;
}

export function moodBoard(projectId) {
  let project = {};
  let moods = [];
  const images = new Map();
  const status = el("div", { class: "storyboard-job" });
  const grid = el("div", { class: "moods", id: "mood-board" });

  const generateMoods = action("Generate mood board", async () => {
    const { job_id } = await call("start_job", { type: "mood_board", input: { project_id: projectId, count: 4 } });
    const job = await jobFinished(job_id);
    if (job.status !== "completed") throw new Error(job.error?.message || job.status);
  }, { id: "moods-generate" });
  const generateStoryboard = action("Generate the whole storyboard", async () => {
    const { job_id } = await call("generate_storyboard", { project_id: projectId });
    const job = await jobFinished(job_id);
    if (job.status !== "completed") throw new Error(job.error?.message || job.status);
  }, { id: "storyboard-generate" });

  async function pick(mood) {
    const storyboard = { ...(project.storyboard || {}), selected_mood: mood };
    await call("update_project", { project_id: projectId, storyboard });
  }

  function render() {
    const chosen = selectedMoodId(project.storyboard);
    grid.replaceChildren(...moods.map(({ id, data }) => {
      const image = el("div", { class: "mood-image" });
      const path = data.image_paths?.[0];
      if (path) showImage(image, path);
      return el("div", { class: `card mood${id === chosen ? " selected" : ""}`, dataset: { moodId: id } },
        image,
        el("strong", {}, data.name || id), " ",
        id === chosen ? el("span", { class: "badge" }, "selected") : "",
        el("p", { class: "muted" }, data.description || ""),
        el("div", { class: "swatches" }, ...(data.color_palette || []).map((colour) =>
          el("span", { class: "swatch", title: colour, style: `background: ${colour}` }))),
        el("p", { class: "muted" }, (data.mood_keywords || []).join(" · ")),
        action(id === chosen ? "Selected" : "Use this mood", () => pick(moodObject(id, data)), { class: "mood-pick" }));
    }));
  }

  async function showImage(box, path) {
    try {
      if (!images.has(path)) images.set(path, (await urlsFor([path]))[path]);
      box.replaceChildren(el("img", { src: images.get(path), alt: "mood image", "data-path": path }));
    } catch (error) {
      box.replaceChildren(el("p", { class: "error" }, errorText(error)));
    }
  }

  const stopProject = onSnapshot(doc(db, "projects", projectId), (snap) => {
    project = snap.data() || {};
    const job = project.storyboard_job;
    status.replaceChildren(...(job ? [
      el("span", { class: "muted" }, `storyboard ${job.status}: ${job.done_scenes}/${job.total_scenes} scenes, ${job.percent}%`),
      progressBar(job.percent || 0)] : []));
    status.dataset.status = job?.status || "";
    render();
  });
  const stopMoods = onSnapshot(collection(db, "projects", projectId, "moods"), (snap) => {
    moods = snap.docs.map((d) => ({ id: d.id, data: d.data() }))
      .sort((a, b) => (a.data.name || "").localeCompare(b.data.name || ""));
    render();
  }, (error) => grid.replaceChildren(el("p", { class: "error" }, errorText(error))));

  const node = el("div", { class: "mood-board" }, el("h4", {}, "Mood board"), generateMoods, generateStoryboard, status, grid);
  return { node, stop: () => { stopProject(); stopMoods(); } };
}
