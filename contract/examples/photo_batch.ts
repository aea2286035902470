// An example client of the contract, type-checked by `make lint` (tsc --noEmit): start a
// photo batch, follow it live, react to item errors by code, download the results; then
// a project with a scene whose image is generated.
import { initializeApp } from "firebase/app";
import { doc, getFirestore, onSnapshot } from "firebase/firestore";
import { FunctionsError, getFunctions, httpsCallable } from "firebase/functions";
import type {
  AddScene,
  CancelJobRequest,
  CancelJobResponse,
  CreateProject,
  DownloadUrlRequest,
  DownloadUrlResponse,
  GenerateSceneAsset,
  IncidentDetails,
  JobIdResponse,
  PhotoBatchJob,
  PhotoBatchItem,
  ProjectIdResponse,
  Scene,
  SceneIdResponse,
  StartJobRequest,
  TypedJob,
} from "../types/mediajobs";

const app = initializeApp({ projectId: "demo-mediajobs", apiKey: "fake-api-key" });
const functions = getFunctions(app, "us-central1");
const db = getFirestore(app);

const startJob = httpsCallable<StartJobRequest, JobIdResponse>(functions, "start_job");
const cancelJob = httpsCallable<CancelJobRequest, CancelJobResponse>(functions, "cancel_job");
const downloadUrl = httpsCallable<DownloadUrlRequest, DownloadUrlResponse>(functions, "download_url");
const createProject = httpsCallable<CreateProject, ProjectIdResponse>(functions, "create_project");
const addScene = httpsCallable<AddScene, SceneIdResponse>(functions, "add_scene");
const generateSceneAsset = httpsCallable<GenerateSceneAsset, JobIdResponse>(functions, "generate_scene_asset");

/** What to tell a person about a failed item, by its stable code (CONTRACT.md's catalogue). */
export function advice(item: PhotoBatchItem): string {
  switch (item.error?.code) {
    case "input-missing":
      return "Upload the file again.";
    case "unsupported-format":
    case "corrupt-image":
    case "truncated-image":
      return "Send a JPEG or PNG.";
    case "decompression-bomb":
      return "Downscale the image.";
    case undefined:
      return "";
    default:
      return `Something went wrong (${item.error?.code}); try again.`;
  }
}

/** Firestore hands timestamps as Timestamp objects; the schemas describe their JSON form. */
type Live<T> = { [K in keyof T]: T[K] extends string | null | undefined ? T[K] | { toMillis(): number } : T[K] };

export async function processPhotos(paths: string[]): Promise<string[]> {
  const { data } = await startJob({ type: "photo_batch", input: { paths }, options: { crop_face: true } });
  const job = await new Promise<Live<PhotoBatchJob>>((resolve, reject) => {
    const stop = onSnapshot(doc(db, "jobs", data.job_id), (snap) => {
      const job = snap.data() as Live<PhotoBatchJob> | undefined;
      if (!job) return;
      console.log(`${job.status} ${job.progress?.percent ?? 0}%`, job.current ?? "");
      if (job.status === "completed" || job.status === "failed" || job.status === "cancelled") {
        stop();
        resolve(job);
      }
    }, reject);
  });
  for (const error of job.errors ?? []) console.warn(`${error.item}: ${error.code}`);
  const result = job.result;
  if (!result || !("archive_path" in result)) return [];
  const { data: urls } = await downloadUrl({ paths: [result.archive_path, ...result.outputs] });
  return Object.values(urls.urls);
}

export async function stop(jobId: string): Promise<boolean> {
  const { data } = await cancelJob({ job_id: jobId });
  return data.status === "cancelled";
}

export function describe(job: TypedJob): string {
  switch (job.type) {
    case "media_export":
      return job.result && "archives" in job.result ? `${job.result.archives.length} archives` : "export";
    case "video_process":
      return job.result && "mobile_path" in job.result ? job.result.mobile_path ?? "video (no mobile file)" : "video";
    case "scene_asset":
      return `${job.input.kind} of scene ${job.input.scene_id}`;
    default:
      return job.type;
  }
}

export async function sceneImage(): Promise<string | null> {
  try {
    const { data: project } = await createProject({ name: "Launch", storyboard: { title: "Teaser" } });
    const { data: scene } = await addScene({ project_id: project.project_id, title: "Opening", duration_seconds: 4 });
    await generateSceneAsset({ project_id: project.project_id, scene_id: scene.scene_id, kind: "image" });
    return await new Promise((resolve) => {
      const stop = onSnapshot(doc(db, "projects", project.project_id, "scenes", scene.scene_id), (snap) => {
        const current = snap.data() as Scene | undefined;
        if (current?.assets.image_path) {
          stop();
          resolve(current.assets.image_path);
        } else if (current?.active_job?.status === "failed") {
          stop();
          resolve(null);
        }
      });
    });
  } catch (error) {
    if (error instanceof FunctionsError && error.code === "functions/internal") {
      const details = error.details as IncidentDetails | undefined;
      console.error(`internal error, incident ${details?.incident_id}`);
    }
    throw error;
  }
}
