// Firebase setup: the local emulators when served by `./dev exec` (its Hosting copy carries
// /emulators.json with this run's ports and region), the real project when deployed (Hosting's
// reserved /__/firebase/init.json has the web app's configuration; /deploy.json, written by the
// Hosting predeploy hook from functions/.env*, has the functions' REGION).
import { type FirebaseOptions, initializeApp } from "firebase/app";
import { type Auth, connectAuthEmulator, getAuth } from "firebase/auth";
import { connectFirestoreEmulator, type Firestore, getFirestore } from "firebase/firestore";
import { connectFunctionsEmulator, type Functions, getFunctions } from "firebase/functions";
import { type Client, createClient } from "./client.js";

/** /emulators.json, written by ./dev into its copy of web/dist: this run's emulators. */
export interface Emulators {
  projectId: string;
  storageBucket: string;
  region?: string;
  auth: string;
  firestore: string;
  functions: string;
  storage: string;
}

export let auth: Auth;
export let db: Firestore;
export let functions: Functions;
export let emulators: Emulators | null = null;
export let deployment: { region?: string } | null = null;
export let uploadUrl: string;
/** The typed client of the contract (client.js), ready once setUpFirebase has run. */
export let client: Client;

async function fetchJson<T>(path: string): Promise<T | null> {
  try {
    const response = await fetch(path, { cache: "no-store" });
    const type = response.headers.get("content-type") || "";
    return response.ok && type.includes("json") ? ((await response.json()) as T) : null;
  } catch {
    return null;
  }
}

function hostPort(value: string): [string, number] {
  const [host, port] = value.replace(/^https?:\/\//, "").split(":");
  return [host, Number(port)];
}

export async function setUpFirebase() {
  emulators = await fetchJson<Emulators>("/emulators.json");
  let config: FirebaseOptions | null;
  if (emulators) {
    config = {
      apiKey: "fake-api-key",
      projectId: emulators.projectId,
      authDomain: `${emulators.projectId}.firebaseapp.com`,
      storageBucket: emulators.storageBucket,
    };
  } else {
    config = await fetchJson<FirebaseOptions>("/__/firebase/init.json");
    if (!config) throw new Error("No Firebase configuration: serve this page with Firebase Hosting or ./dev exec.");
    deployment = await fetchJson<{ region?: string }>("/deploy.json");
  }
  const app = initializeApp(config);
  auth = getAuth(app);
  db = getFirestore(app);
  const region = emulators?.region || deployment?.region || "us-central1";
  functions = getFunctions(app, region);
  if (emulators) {
    connectAuthEmulator(auth, `http://${emulators.auth}`, { disableWarnings: true });
    connectFirestoreEmulator(db, ...hostPort(emulators.firestore));
    connectFunctionsEmulator(functions, ...hostPort(emulators.functions));
  }
  // The upload function sits behind a Hosting rewrite (firebase.json), locally and deployed.
  uploadUrl = "/api/upload";
  client = createClient({ auth, db, functions, uploadUrl });
  return { config, emulators };
}

/** URLs the caller may read (download_url checks ownership), as {path: url}. */
export async function urlsFor(paths: string[]): Promise<Record<string, string>> {
  return client.downloadUrls(paths);
}

/** Starts a download of a Storage object in this tab (the page stays; the response is a file). */
export async function download(path: string): Promise<void> {
  const urls = await urlsFor([path]);
  const link = document.createElement("a");
  link.href = urls[path];
  link.download = path.split("/").pop() || "download";
  document.body.append(link);
  link.click();
  link.remove();
}
