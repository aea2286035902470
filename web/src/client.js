// The typed client of the media-jobs contract (contract/CONTRACT.md): start, watch, cancel,
// upload, download URLs, projects and scenes. The dashboard is its first user; `make lint`
// type-checks this file against contract/types with tsc (JSDoc types, no build step).
//
// Firestore hands timestamps to listeners as `Timestamp` objects (`toMillis()`, `toDate()`);
// the contract's types describe the JSON form, where they are RFC 3339 strings.
import { collection, doc, getDoc, limit, onSnapshot, orderBy, query, where } from "firebase/firestore";
import { httpsCallable } from "firebase/functions";

/** @typedef {import("../../contract/types/mediajobs").MediajobsContract} Contract */
/** @typedef {import("../../contract/types/mediajobs").TypedJob} TypedJob */
/** @typedef {import("../../contract/types/mediajobs").AnyJob} AnyJob */
/** @typedef {import("../../contract/types/mediajobs").AnyItem} AnyItem */
/** @typedef {import("../../contract/types/mediajobs").Project} Project */
/** @typedef {import("../../contract/types/mediajobs").Scene} Scene */
/** @typedef {import("../../contract/types/mediajobs").Mood} Mood */
/** @typedef {import("../../contract/types/mediajobs").StartJobRequest} StartJobRequest */
/** @typedef {import("../../contract/types/mediajobs").PhotoOptions} PhotoOptions */
/** @typedef {import("../../contract/types/mediajobs").CreateProject} CreateProject */
/** @typedef {import("../../contract/types/mediajobs").UpdateProject} UpdateProject */
/** @typedef {import("../../contract/types/mediajobs").AddScene} AddScene */
/** @typedef {import("../../contract/types/mediajobs").UpdateScene} UpdateScene */
/** @typedef {import("../../contract/types/mediajobs").GenerateSceneAsset} GenerateSceneAsset */
/** @typedef {import("../../contract/types/mediajobs").GenerateStoryboard} GenerateStoryboard */
/** @typedef {import("../../contract/types/mediajobs").HttpError} HttpError */
/** @typedef {import("../../contract/types/mediajobs").WebhookDelivery} WebhookDelivery */
/** @typedef {import("../../contract/types/mediajobs").NotificationDefaults} NotificationDefaults */
/** @typedef {import("../../contract/types/mediajobs").NotificationSettingsDocument} NotificationSettingsDocument */
/** @typedef {import("../../contract/types/mediajobs").Take} Take */
/** @typedef {import("../../contract/types/mediajobs").SelectTake} SelectTake */
/** @typedef {import("../../contract/types/mediajobs").Video} Video */
/** @typedef {"completed" | "failed" | "cancelled"} TerminalStatus */
/** @typedef {() => void} Unsubscribe */
/** @typedef {(error: Error) => void} OnError */
/**
 * @template T
 * @typedef {{ id: string, data: T }} Doc  a document's id and its data
 */
/**
 * The callables by name, with their request and response types.
 * @typedef {{
 *   start_job: [StartJobRequest, Contract["callable.start_job.response"]],
 *   cancel_job: [Contract["callable.cancel_job.request"], Contract["callable.cancel_job.response"]],
 *   create_project: [CreateProject, Contract["callable.create_project.response"]],
 *   update_project: [UpdateProject, Contract["callable.update_project.response"]],
 *   delete_project: [Contract["callable.delete_project.request"], Contract["callable.delete_project.response"]],
 *   add_scene: [AddScene, Contract["callable.add_scene.response"]],
 *   update_scene: [UpdateScene, Contract["callable.update_scene.response"]],
 *   delete_scene: [Contract["callable.delete_scene.request"], Contract["callable.delete_scene.response"]],
 *   generate_scene_asset: [GenerateSceneAsset, Contract["callable.generate_scene_asset.response"]],
 *   generate_storyboard: [GenerateStoryboard, Contract["callable.generate_storyboard.response"]],
 *   download_url: [Contract["callable.download_url.request"], Contract["callable.download_url.response"]],
 *   webhook_secret: [Contract["callable.webhook_secret.request"], Contract["callable.webhook_secret.response"]],
 *   register_device: [Contract["callable.register_device.request"], Contract["callable.register_device.response"]],
 *   set_notification_settings: [NotificationDefaults, Contract["callable.set_notification_settings.response"]],
 *   select_take: [SelectTake, Contract["callable.select_take.response"]],
 *   update_video: [Contract["callable.update_video.request"], Contract["callable.update_video.response"]],
 *   delete_video: [Contract["callable.delete_video.request"], Contract["callable.delete_video.response"]],
 *   set_caption: [Contract["callable.set_caption.request"], Contract["callable.set_caption.response"]],
 *   video_thumbnail: [Contract["callable.video_thumbnail.request"], Contract["callable.video_thumbnail.response"]],
 * }} Callables
 */

export const ACTIVE = ["queued", "processing"];
/** @type {string[]} */
export const TERMINAL = ["completed", "failed", "cancelled"];
const CALL_TIMEOUT_MS = 120_000;

/**
 * @param {{
 *   auth: import("firebase/auth").Auth,
 *   db: import("firebase/firestore").Firestore,
 *   functions: import("firebase/functions").Functions,
 *   uploadUrl: string,
 * }} firebase  the initialised SDK services, and where the `upload` function answers
 */
export function createClient({ auth, db, functions, uploadUrl }) {
  /**
   * Calls a callable by name; rejects with the SDK's FunctionsError (`code`, `message`,
   * `details`: an `internal` error carries `{incident_id}`).
   * @template {keyof Callables} N
   * @param {N} name
   * @param {NonNullable<Callables[N][0]>} data
   * @returns {Promise<NonNullable<Callables[N][1]>>}
   */
  async function call(name, data) {
    const result = await httpsCallable(functions, name, { timeout: CALL_TIMEOUT_MS })(data);
    return /** @type {NonNullable<Callables[N][1]>} */ (result.data);
  }

  function uid() {
    const user = auth.currentUser;
    if (!user) throw new Error("Sign in first.");
    return user.uid;
  }

  /**
   * Follows one document live.
   * @template T
   * @param {import("firebase/firestore").DocumentReference} ref
   * @param {(data: T | undefined) => void} onData  undefined while (or once) it does not exist
   * @param {OnError} [onError]
   * @returns {Unsubscribe}
   */
  function watchDoc(ref, onData, onError) {
    return onSnapshot(ref, (snap) => onData(/** @type {T | undefined} */ (snap.data())), onError);
  }

  /**
   * Follows a query live, newest state of every document each time.
   * @template T
   * @param {import("firebase/firestore").Query} q
   * @param {(docs: Doc<T>[]) => void} onDocs
   * @param {OnError} [onError]
   * @returns {Unsubscribe}
   */
  function watchQuery(q, onDocs, onError) {
    return onSnapshot(q, (snap) => onDocs(snap.docs.map((d) => ({ id: d.id, data: /** @type {T} */ (d.data()) }))),
      onError);
  }

  return {
    call,

    /** @param {StartJobRequest} request @returns {Promise<string>} the new job's id */
    async startJob(request) {
      return (await call("start_job", request)).job_id;
    },

    /** @param {string} jobId @returns {Promise<string>} the job's status after the request */
    async cancelJob(jobId) {
      return (await call("cancel_job", { job_id: jobId })).status;
    },

    /**
     * jobs/{jobId} live.
     * @param {string} jobId @param {(job: TypedJob | undefined) => void} onJob @param {OnError} [onError]
     */
    watchJob(jobId, onJob, onError) {
      return watchDoc(doc(db, "jobs", jobId), onJob, onError);
    },

    /**
     * jobs/{jobId}/items live.
     * @param {string} jobId @param {(items: Doc<AnyItem>[]) => void} onItems @param {OnError} [onError]
     */
    watchItems(jobId, onItems, onError) {
      return watchQuery(collection(db, "jobs", jobId, "items"), onItems, onError);
    },

    /**
     * My newest jobs live (at most `max`).
     * @param {(jobs: Doc<TypedJob>[]) => void} onJobs @param {OnError} [onError] @param {number} [max]
     */
    watchMyJobs(onJobs, onError, max = 50) {
      const mine = query(collection(db, "jobs"), where("owner_uid", "==", uid()), orderBy("created_at", "desc"),
        limit(max));
      return watchQuery(mine, onJobs, onError);
    },

    /**
     * Everyone's newest jobs live: for admins (the rules refuse this query to anyone else).
     * @param {(jobs: Doc<TypedJob>[]) => void} onJobs @param {OnError} [onError] @param {number} [max]
     */
    watchAllJobs(onJobs, onError, max = 50) {
      return watchQuery(query(collection(db, "jobs"), orderBy("created_at", "desc"), limit(max)), onJobs, onError);
    },

    /**
     * Jobs of one type live, e.g. every media_export for an admin (unordered: sort on the client).
     * @param {TypedJob["type"]} type @param {(jobs: Doc<TypedJob>[]) => void} onJobs
     * @param {OnError} [onError] @param {number} [max]
     */
    watchJobsOfType(type, onJobs, onError, max = 50) {
      return watchQuery(query(collection(db, "jobs"), where("type", "==", type), limit(max)), onJobs, onError);
    },

    /**
     * My own jobs of one type live, e.g. my data exports (unordered: sort on the client).
     * @param {TypedJob["type"]} type @param {(jobs: Doc<TypedJob>[]) => void} onJobs
     * @param {OnError} [onError] @param {number} [max]
     */
    watchMyJobsOfType(type, onJobs, onError, max = 50) {
      const mine = query(collection(db, "jobs"), where("owner_uid", "==", uid()), where("type", "==", type), limit(max));
      return watchQuery(mine, onJobs, onError);
    },

    /**
     * Resolves with the job's document once it reaches a terminal status.
     * @param {string} jobId @returns {Promise<TypedJob>}
     */
    jobFinished(jobId) {
      return new Promise((resolve, reject) => {
        const stop = watchDoc(doc(db, "jobs", jobId), (/** @type {TypedJob | undefined} */ job) => {
          if (job && TERMINAL.includes(job.status)) {
            stop();
            resolve(job);
          }
        }, reject);
      });
    },

    /**
     * POSTs images or ZIP files to the `upload` function, which starts a photo_batch.
     * Rejects with `{code, message}` (the endpoint's `error.status` and message).
     * @param {Iterable<File>} files @param {Partial<PhotoOptions>} [options] @returns {Promise<string>} the job id
     */
    async uploadPhotos(files, options = {}) {
      const user = auth.currentUser;
      if (!user) throw { code: "unauthenticated", message: "Sign in first." };
      const body = new FormData();
      for (const file of files) body.append("file", file, file.name);
      body.append("options", JSON.stringify(options));
      const token = await user.getIdToken();
      const response = await fetch(uploadUrl, { method: "POST", body, headers: { Authorization: `Bearer ${token}` } });
      /** @type {Partial<HttpError> & { job_id?: string }} */
      const reply = await response.json().catch(() => ({ error: { status: String(response.status), message: response.statusText } }));
      if (!response.ok || !reply.job_id) throw { code: reply.error?.status, message: reply.error?.message };
      return reply.job_id;
    },

    /**
     * URLs to GET the Storage objects the caller may read, as {path: url}.
     * @param {string[]} paths @returns {Promise<Record<string, string>>}
     */
    async downloadUrls(paths) {
      if (!paths.length) return {};
      return (await call("download_url", { paths })).urls;
    },

    /** @param {CreateProject} request @returns {Promise<string>} the project id */
    async createProject(request) {
      return (await call("create_project", request)).project_id;
    },

    /** @param {UpdateProject} request */
    async updateProject(request) {
      await call("update_project", request);
    },

    /** @param {string} projectId */
    async deleteProject(projectId) {
      await call("delete_project", { project_id: projectId });
    },

    /** @param {AddScene} request @returns {Promise<string>} the scene id */
    async addScene(request) {
      return (await call("add_scene", request)).scene_id;
    },

    /** @param {UpdateScene} request */
    async updateScene(request) {
      await call("update_scene", request);
    },

    /**
     * Deletes a scene: cancels its jobs, takes it out of the project, deletes its files.
     * @param {string} projectId @param {string} sceneId
     */
    async deleteScene(projectId, sceneId) {
      await call("delete_scene", { project_id: projectId, scene_id: sceneId });
    },

    /** @param {GenerateSceneAsset} request @returns {Promise<string>} the scene_asset job's id */
    async generateSceneAsset(request) {
      return (await call("generate_scene_asset", request)).job_id;
    },

    /**
     * Starts a storyboard_assets job: every missing asset of every scene, made on the server.
     * @param {GenerateStoryboard} request @returns {Promise<string>} the job's id
     */
    async generateStoryboard(request) {
      return (await call("generate_storyboard", request)).job_id;
    },

    /**
     * projects/{projectId} once (e.g. to name a job's project); undefined if missing or not mine.
     * @param {string} projectId @returns {Promise<Project | undefined>}
     */
    async readProject(projectId) {
      return /** @type {Project | undefined} */ ((await getDoc(doc(db, "projects", projectId))).data());
    },

    /**
     * projects/{projectId}/scenes/{sceneId} once.
     * @param {string} projectId @param {string} sceneId @returns {Promise<Scene | undefined>}
     */
    async readScene(projectId, sceneId) {
      return /** @type {Scene | undefined} */ ((await getDoc(doc(db, "projects", projectId, "scenes", sceneId))).data());
    },

    /**
     * My newest projects live.
     * @param {(projects: Doc<Project>[]) => void} onProjects @param {OnError} [onError] @param {number} [max]
     */
    watchMyProjects(onProjects, onError, max = 50) {
      const mine = query(collection(db, "projects"), where("user_id", "==", uid()), orderBy("updated_at", "desc"),
        limit(max));
      return watchQuery(mine, onProjects, onError);
    },

    /** @param {string} projectId @param {(project: Project | undefined) => void} onProject @param {OnError} [onError] */
    watchProject(projectId, onProject, onError) {
      return watchDoc(doc(db, "projects", projectId), onProject, onError);
    },

    /**
     * A project's scenes live, in scene_number order.
     * @param {string} projectId @param {(scenes: Doc<Scene>[]) => void} onScenes @param {OnError} [onError]
     */
    watchScenes(projectId, onScenes, onError) {
      return watchQuery(query(collection(db, "projects", projectId, "scenes"), orderBy("scene_number")), onScenes,
        onError);
    },

    /**
     * A scene's takes live (every asset it was given), oldest first.
     * @param {string} projectId @param {string} sceneId @param {(takes: Doc<Take>[]) => void} onTakes
     * @param {OnError} [onError]
     */
    watchTakes(projectId, sceneId, onTakes, onError) {
      const takes = collection(db, "projects", projectId, "scenes", sceneId, "takes");
      return watchQuery(query(takes, orderBy("created_at")), onTakes, onError);
    },

    /**
     * Makes a take the scene's selected asset of its kind (`assets.<kind>_path` follows it).
     * @param {SelectTake} request @returns {Promise<NonNullable<Contract["callable.select_take.response"]>>}
     */
    async selectTake(request) {
      return call("select_take", request);
    },

    /** @param {string} projectId @param {(moods: Doc<Mood>[]) => void} onMoods @param {OnError} [onError] */
    watchMoods(projectId, onMoods, onError) {
      return watchQuery(collection(db, "projects", projectId, "moods"), onMoods, onError);
    },

    /**
     * Every attempt to tell the owner about a job (webhook, push, email), in order.
     * @param {string} jobId @param {(deliveries: Doc<WebhookDelivery>[]) => void} onDeliveries @param {OnError} [onError]
     */
    watchDeliveries(jobId, onDeliveries, onError) {
      return watchQuery(collection(db, "jobs", jobId, "deliveries"), (/** @type {Doc<WebhookDelivery>[]} */ found) =>
        onDeliveries(found.sort((a, b) => Number(a.id) - Number(b.id))), onError);
    },

    /**
     * My notification defaults (undefined until saved once).
     * @param {(settings: NotificationSettingsDocument | undefined) => void} onSettings @param {OnError} [onError]
     */
    watchNotificationSettings(onSettings, onError) {
      return watchDoc(doc(db, "users", uid(), "settings", "notifications"), onSettings, onError);
    },

    /** @param {NotificationDefaults} settings  defaults for my jobs started without `notify` */
    saveNotificationSettings(settings) {
      return call("set_notification_settings", settings);
    },

    /** My webhook signing secret (`rotate`: replace it first). @param {boolean} [rotate] @returns {Promise<string>} */
    async webhookSecret(rotate = false) {
      return (await call("webhook_secret", { rotate })).secret;
    },

    /**
     * My library videos live, newest first (videos where owner_uid == me).
     * @param {(videos: Doc<Video>[]) => void} onVideos @param {OnError} [onError] @param {number} [max]
     */
    watchMyVideos(onVideos, onError, max = 50) {
      const mine = query(collection(db, "videos"), where("owner_uid", "==", uid()), orderBy("created_at", "desc"),
        limit(max));
      return watchQuery(mine, onVideos, onError);
    },

    /** Deletes a library video: its record and every object (cancels its job if still running). @param {string} videoId */
    async deleteVideo(videoId) {
      await call("delete_video", { video_id: videoId });
    },

    /**
     * A still of a library video at `atSeconds`, `width` px wide (cached by the function).
     * @param {string} videoId @param {number} atSeconds @param {number} width
     * @returns {Promise<Contract["callable.video_thumbnail.response"]>}
     */
    async videoThumbnail(videoId, atSeconds, width) {
      return call("video_thumbnail", { video_id: videoId, at_seconds: atSeconds, width });
    },
  };
}

/** @typedef {ReturnType<typeof createClient>} Client */

/** @typedef {{ path: string, bytes?: number, main: boolean }} ResultFile  one downloadable file of a job */

/**
 * Every Storage file a job's result offers for download: its `*_path` fields (results.zip, an
 * export's index.json, a video's playlists and mobile encode) as the main ones, then each photo
 * output, video rendition, thumbnail and poster, and each export archive.
 * @param {TypedJob["result"] | AnyJob["result"]} result @returns {ResultFile[]}
 */
export function resultFiles(result) {
  if (!result) return [];
  const fields = /** @type {Record<string, unknown>} */ (result);
  /** @type {ResultFile[]} */
  const files = Object.entries(fields)
    .filter(([key, value]) => key.endsWith("_path") && typeof value === "string" && value)
    .map(([, value]) => ({ path: /** @type {string} */ (value), main: true }));
  /** @param {unknown} list @returns {unknown[]} */
  const listed = (list) => (Array.isArray(list) ? list : []);
  for (const path of listed(fields.outputs)) if (typeof path === "string") files.push({ path, main: false });
  for (const rendition of listed(fields.renditions)) {
    const { path } = /** @type {{ path?: string }} */ (rendition);
    if (path) files.push({ path, main: false });
  }
  for (const path of [...listed(fields.thumbnails), fields.poster]) if (typeof path === "string") files.push({ path, main: false });
  for (const archive of listed(fields.archives)) {
    const { path, bytes, parts } = /** @type {{ path?: string, bytes?: number, parts?: unknown }} */ (archive);
    const split = listed(parts).length > 1 ? listed(parts) : [];
    if (path && !split.length) files.push({ path, bytes, main: false });
    for (const part of split) {
      const { path: partPath, archive_bytes } = /** @type {{ path?: string, archive_bytes?: number }} */ (part);
      if (partPath) files.push({ path: partPath, bytes: archive_bytes, main: false });
    }
  }
  for (const part of listed(fields.parts)) {
    const { path, archive_bytes } = /** @type {{ path?: string, archive_bytes?: number }} */ (part);
    if (path) files.push({ path, bytes: archive_bytes, main: true });
  }
  return files;
}

/**
 * Storage paths a job's result offers for download (resultFiles' paths).
 * @param {TypedJob["result"] | AnyJob["result"]} result @returns {string[]}
 */
export function resultPaths(result) {
  return resultFiles(result).map((file) => file.path);
}
