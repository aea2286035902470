// A client written from contract/ alone (CONTRACT.md and contract/types; nothing of web/, no
// Firebase SDK): plain HTTP against the local stack. tests/integration/test_contract_client.py
// compiles it with the pinned tsc and runs it with node:
//
//   node client.js IMAGE_PATH     (env: FIREBASE_AUTH_EMULATOR_HOST, FIRESTORE_EMULATOR_HOST,
//                                  FUNCTIONS_ORIGIN, GCLOUD_PROJECT, set by ./dev exec)
//
// It signs up in the Auth emulator, uploads one image to `POST /upload` with photo options (a
// photo_batch job starts), watches jobs/{job_id} (Firestore REST, under firestore.rules) until
// `completed`, asks `download_url` for its first output and downloads it. It prints one JSON
// line: what it saw, for the test to check.
import { readFileSync } from "node:fs";
import type {
  DownloadUrlRequest,
  DownloadUrlResponse,
  HttpError,
  JobIdResponse,
  PhotoBatchItem,
  PhotoBatchJob,
  PhotoOptions,
} from "../../contract/types/mediajobs";

const env = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set (run under ./dev exec)`);
  return value;
};
const FUNCTIONS_ORIGIN = env("FUNCTIONS_ORIGIN").replace(/\/$/, "");
const PROJECT = env("GCLOUD_PROJECT");
const TERMINAL: PhotoBatchJob["status"][] = ["completed", "failed", "cancelled"];

interface Session { uid: string; idToken: string }

async function signUp(email: string, password: string): Promise<Session> {
  const url = `http://${env("FIREBASE_AUTH_EMULATOR_HOST")}/identitytoolkit.googleapis.com/v1/accounts:signUp?key=fake-api-key`;
  const answer = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ email, password, returnSecureToken: true }),
  });
  const body = (await answer.json()) as { localId: string; idToken: string };
  if (!answer.ok) throw new Error(`sign-up failed: ${JSON.stringify(body)}`);
  return { uid: body.localId, idToken: body.idToken };
}

/** A callable by the Firebase callable protocol: {data} in, {result} or {error} out. */
async function callable<Req, Res>(session: Session, name: string, data: Req): Promise<Res> {
  const answer = await fetch(`${FUNCTIONS_ORIGIN}/${name}`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${session.idToken}` },
    body: JSON.stringify({ data }),
  });
  const body = (await answer.json()) as { result?: Res; error?: { status: string; message: string } };
  if (body.error || body.result === undefined) throw new Error(`${name}: ${JSON.stringify(body.error)}`);
  return body.result;
}

async function uploadPhotos(session: Session, file: string, options: PhotoOptions): Promise<string> {
  const form = new FormData();
  form.append("file", new Blob([readFileSync(file)], { type: "image/png" }), "contract-client.png");
  form.append("options", JSON.stringify(options));
  const answer = await fetch(`${FUNCTIONS_ORIGIN}/upload`, {
    method: "POST",
    headers: { authorization: `Bearer ${session.idToken}` },
    body: form,
  });
  if (answer.status !== 202) {
    const problem = (await answer.json()) as HttpError;
    throw new Error(`upload: ${answer.status} ${problem.error.status}: ${problem.error.message}`);
  }
  return ((await answer.json()) as JobIdResponse).job_id;
}

type FirestoreValue = Record<string, unknown>;

/** A Firestore REST value as the JSON the contract's schemas describe. */
function plain(value: FirestoreValue): unknown {
  if ("nullValue" in value) return null;
  if ("booleanValue" in value) return value.booleanValue;
  if ("integerValue" in value) return Number(value.integerValue);
  if ("doubleValue" in value) return Number(value.doubleValue);
  if ("stringValue" in value) return value.stringValue;
  if ("timestampValue" in value) return value.timestampValue;
  if ("arrayValue" in value) {
    const values = ((value.arrayValue as { values?: FirestoreValue[] }).values || []);
    return values.map(plain);
  }
  if ("mapValue" in value) return fields((value.mapValue as { fields?: Record<string, FirestoreValue> }).fields || {});
  throw new Error(`unexpected Firestore value ${JSON.stringify(value)}`);
}

function fields(map: Record<string, FirestoreValue>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(map).map(([key, value]) => [key, plain(value)]));
}

async function readDocument<T>(session: Session, path: string): Promise<T | null> {
  const url = `http://${env("FIRESTORE_EMULATOR_HOST")}/v1/projects/${PROJECT}/databases/(default)/documents/${path}`;
  const answer = await fetch(url, { headers: { authorization: `Bearer ${session.idToken}` } });
  if (answer.status === 404) return null;
  const body = (await answer.json()) as { fields?: Record<string, FirestoreValue>; error?: unknown };
  if (!answer.ok) throw new Error(`read ${path}: ${answer.status} ${JSON.stringify(body.error)}`);
  return fields(body.fields || {}) as T;
}

async function listItems(session: Session, jobId: string): Promise<PhotoBatchItem[]> {
  const url = `http://${env("FIRESTORE_EMULATOR_HOST")}/v1/projects/${PROJECT}/databases/(default)/documents/jobs/${jobId}/items`;
  const answer = await fetch(url, { headers: { authorization: `Bearer ${session.idToken}` } });
  const body = (await answer.json()) as { documents?: { fields?: Record<string, FirestoreValue> }[]; error?: unknown };
  if (!answer.ok) throw new Error(`list items: ${answer.status} ${JSON.stringify(body.error)}`);
  return (body.documents || []).map((doc) => fields(doc.fields || {}) as unknown as PhotoBatchItem);
}

async function watchJob(session: Session, jobId: string, timeoutMs: number): Promise<{ job: PhotoBatchJob; statuses: string[] }> {
  const statuses: string[] = [];
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const job = await readDocument<PhotoBatchJob>(session, `jobs/${jobId}`);
    if (job && statuses[statuses.length - 1] !== job.status) statuses.push(job.status);
    if (job && TERMINAL.includes(job.status)) return { job, statuses };
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error(`job ${jobId} did not end within ${timeoutMs} ms (statuses ${statuses.join(" -> ")})`);
}

/** width and height from a PNG's IHDR chunk, or null when the bytes are not a PNG. */
function pngSize(bytes: Uint8Array): { width: number; height: number } | null {
  const signature = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  if (bytes.length < 24 || signature.some((byte, i) => bytes[i] !== byte)) return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return { width: view.getUint32(16), height: view.getUint32(20) };
}

async function main(): Promise<void> {
  const image = process.argv[2];
  if (!image) throw new Error("usage: node client.js IMAGE_PATH");
  const session = await signUp(`contract-client-${Date.now()}@example.com`, "password-123");
  const options: PhotoOptions = { remove_bg: false, size: 512, output_format: "png" };
  const jobId = await uploadPhotos(session, image, options);
  const { job, statuses } = await watchJob(session, jobId, 240_000);
  if (job.status !== "completed" || !job.result || !("outputs" in job.result)) {
    throw new Error(`job ${jobId} ended ${job.status}: ${JSON.stringify(job.error)}`);
  }
  const [output] = job.result.outputs;
  const [item] = await listItems(session, jobId);
  const request: DownloadUrlRequest = { paths: [output] };
  const { urls, expires_in } = await callable<DownloadUrlRequest, DownloadUrlResponse>(session, "download_url", request);
  const download = await fetch(urls[output]);
  const bytes = new Uint8Array(await download.arrayBuffer());
  console.log(JSON.stringify({
    uid: session.uid, job_id: jobId, statuses, output, expires_in, http_status: download.status,
    bytes: bytes.length, png: pngSize(bytes), item_status: item?.status, item_result_width: item?.result?.width,
  }));
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.stack : String(error));
  process.exit(1);
});
