// The dashboard: sign-in, then one page at a time (hash routes, `#/<page>/<id>` opens one job or
// project there), each driven by listeners.
import { createUserWithEmailAndPassword, onAuthStateChanged, signInWithEmailAndPassword, signOut } from "firebase/auth";
import { auth, emulators, setUpFirebase } from "./firebase.js";
import { el, errorBanner } from "./ui.js";
import * as jobs from "./jobs.js";
import * as photos from "./photos.js";
import * as projects from "./projects.js";
import * as exporter from "./exporter.js";
import * as mydata from "./mydata.js";
import * as video from "./video.js";
import * as settings from "./settings.js";
import * as library from "./library.js";
import { stopDeliveries } from "./deliveries.js";

/** A page: mount(page, id) renders into `page` (id: the `#/<page>/<id>` part) and returns its unmount. */
type Page = { mount: (page: HTMLElement, id: string | null) => (() => void) | void };
const PAGES: Record<string, Page> = { jobs, photos, projects, export: exporter, video, settings, data: mydata, library };
const $ = (id: string): HTMLElement => {
  const node = document.getElementById(id);
  if (!node) throw new Error(`index.html has no #${id}`);
  return node;
};
let unmount = () => {};
let isAdmin = false;

function setMenu(open: boolean) {
  $("site-header").classList.toggle("open", open);
  $("nav-toggle").setAttribute("aria-expanded", String(open));
}

function route() {
  unmount();
  stopDeliveries();
  unmount = () => {};
  setMenu(false);
  const user = auth.currentUser;
  $("signin").hidden = !!user;
  $("nav").hidden = !user;
  $("nav-toggle").hidden = !user;
  $("page").hidden = !user;
  if (!user) return;
  const [first, id] = location.hash.replace(/^#\//, "").split("/");
  let name = first || "jobs";
  if (!PAGES[name] || (name === "export" && !isAdmin)) name = "jobs";
  for (const link of document.querySelectorAll<HTMLAnchorElement>("#nav a")) {
    const active = link.dataset.page === name;
    link.classList.toggle("active", active);
    if (active) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  $("page").dataset.page = name;
  unmount = PAGES[name].mount($("page"), id || null) || (() => {});
}

async function main() {
  await setUpFirebase();
  $("env").textContent = emulators ? `Running on the local emulators (project ${emulators.projectId}).` : "";
  $("signin-hint").textContent = emulators
    ? "New here? Enter any email and a password, then Create account. After make demo, demo@example.com / demo-password also works."
    : "New here? Enter your email and a password, then Create account.";
  $("nav-toggle").addEventListener("click", () => setMenu(!$("site-header").classList.contains("open")));
  $("signin-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = new FormData(event.target as HTMLFormElement);
    const signUp = ((event as SubmitEvent).submitter as HTMLButtonElement | null)?.value === "signup";
    $("signin-error").replaceChildren();
    try {
      const fn = signUp ? createUserWithEmailAndPassword : signInWithEmailAndPassword;
      await fn(auth, String(form.get("email")), String(form.get("password")));
    } catch (error) {
      $("signin-error").replaceChildren(errorBanner(error, { title: signUp ? "Could not create the account" : "Could not sign in" }));
    }
  });
  window.addEventListener("hashchange", route);
  onAuthStateChanged(auth, async (user) => {
    isAdmin = user ? (await user.getIdTokenResult()).claims.admin === true : false;
    jobs.session.admin = isAdmin;
    $("nav-export").hidden = !isAdmin;
    $("who").replaceChildren(...(user ? [el("span", { id: "who-email" }, user.email),
      isAdmin ? el("span", { class: "badge" }, "admin") : "",
      el("button", { type: "button", id: "signout", class: "secondary", onclick: () => signOut(auth) }, "Sign out")] : []));
    document.body.dataset.user = user ? user.uid : "";
    route();
  });
}

main().catch((error) => {
  (document.querySelector("main") || document.body).prepend(errorBanner(error, { title: "The dashboard could not start" }));
});
