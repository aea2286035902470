// The dashboard: sign-in, then one page at a time (hash routes), each driven by listeners.
import { createUserWithEmailAndPassword, onAuthStateChanged, signInWithEmailAndPassword, signOut } from "firebase/auth";
import { auth, emulators, setUpFirebase } from "./firebase.js";
import { el, errorText } from "./ui.js";
import * as jobs from "./jobs.js";
import * as photos from "./photos.js";
import * as projects from "./projects.js";
import * as exporter from "./exporter.js";
import * as video from "./video.js";

const PAGES = { jobs, photos, projects, export: exporter, video };
const $ = (id) => document.getElementById(id);
let unmount = () => {};
let isAdmin = false;

function route() {
  unmount();
  unmount = () => {};
  const user = auth.currentUser;
  $("signin").hidden = !!user;
  $("nav").hidden = !user;
  $("page").hidden = !user;
  if (!user) return;
  let name = location.hash.replace(/^#\//, "").split("/")[0] || "jobs"; // #/video/<job id> names a job
  if (!PAGES[name] || (name === "export" && !isAdmin)) name = "jobs";
  for (const link of document.querySelectorAll("#nav a")) link.classList.toggle("active", link.dataset.page === name);
  $("page").dataset.page = name;
  unmount = PAGES[name].mount($("page")) || (() => {});
}

async function main() {
  await setUpFirebase();
  $("env").className = "muted";
  $("env").textContent = emulators ? `local emulators (project ${emulators.projectId})` : "";
  $("signin-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = new FormData(event.target);
    const signUp = event.submitter?.value === "signup";
    $("signin-error").textContent = "";
    try {
      const fn = signUp ? createUserWithEmailAndPassword : signInWithEmailAndPassword;
      await fn(auth, form.get("email"), form.get("password"));
    } catch (error) {
      $("signin-error").textContent = errorText(error);
    }
  });
  window.addEventListener("hashchange", route);
  onAuthStateChanged(auth, async (user) => {
    isAdmin = user ? (await user.getIdTokenResult()).claims.admin === true : false;
    $("nav-export").hidden = !isAdmin;
    $("who").replaceChildren(...(user ? [el("span", { id: "who-email" }, user.email), isAdmin ? el("span", { class: "badge" }, " admin") : "",
      el("button", { type: "button", id: "signout", onclick: () => signOut(auth) }, "Sign out")] : []));
    document.body.dataset.user = user ? user.uid : "";
    route();
  });
}

main().catch((error) => {
  document.body.append(el("p", { class: "error" }, `The dashboard could not start: ${errorText(error)}`));
});
