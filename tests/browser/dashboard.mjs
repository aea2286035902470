// Drives the dashboard in headless Chromium (Debian's, through playwright-core) on the local stack.
// Run by tests/browser/test_dashboard.py, which checks what this prints (one JSON line at the end).
//   HOSTING_ORIGIN  the Hosting emulator serving web/dist      PHOTO_ZIP  a ZIP of images to drop
//   ARTIFACTS       folder for screenshots and the download    CHROMIUM_PATH  (default /usr/bin/chromium)
//   USER_EMAIL, USER_PASSWORD, CANCEL_JOB_ID  the first user and a long job of theirs to cancel
//   FAILING_JOB_ID  a job of theirs whose items failed (its card names codes and incident ids)
//   ADMIN_EMAIL, ADMIN_PASSWORD, EXPORT_USER_IDS  an admin and the users they export
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { chromium } from "playwright-core";
import { tour } from "./tour.mjs";

const origin = process.env.HOSTING_ORIGIN;
const artifacts = process.env.ARTIFACTS;
const zipBytes = readFileSync(process.env.PHOTO_ZIP);
const JOB_TIMEOUT = 600_000;
const stamp = Date.now().toString(36);
const report = { steps: [], shots: [], findings: [] };
const screens = join(artifacts, "screens");
/** Screenshots of `pages` in both viewports and themes, and what tour.mjs found wrong on them. */
async function look(page, pages) {
  const { shots, findings } = await tour(page, origin, pages, screens);
  report.shots.push(...shots);
  report.findings.push(...findings);
}
const on = (name) => `#page[data-page=${name}]`;
const step = (name) => { report.steps.push(name); console.error(`dashboard: ${name}`); };

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH || "/usr/bin/chromium",
  headless: true,
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});

async function newPage() {
  const context = await browser.newContext({ acceptDownloads: true, viewport: { width: 1280, height: 1000 } });
  const page = await context.newPage();
  page.on("pageerror", (error) => console.error(`page error: ${error.message}`));
  page.on("console", (message) => {
    if (message.type() === "error") console.error(`page console: ${message.text()}`);
  });
  return page;
}

async function signIn(page, email, password, action = "signin") {
  await page.goto(`${origin}/#/jobs`);
  await page.fill("#signin-form input[name=email]", email);
  await page.fill("#signin-form input[name=password]", password);
  await page.click(`#signin-form button[value=${action}]`);
  await page.waitForSelector("#who-email");
  return page.evaluate(() => document.body.dataset.user);
}

const signUp = (page, email) => signIn(page, email, "password-123", "signup");

const shot = (page, name) => page.screenshot({ path: join(artifacts, `${name}.png`), fullPage: true });

try {
  // User 1: upload a ZIP by dropping it, watch the batch, see the gallery, download results.zip.
  const page = await newPage();
  await page.goto(`${origin}/#/jobs`);
  await look(page, [{ name: "signin", ready: "#signin-form" }]);
  step("sign-in page looked at");
  report.uid = await signIn(page, process.env.USER_EMAIL, process.env.USER_PASSWORD);
  step("signed in");
  report.export_nav_hidden = await page.isHidden("#nav-export");

  // The long job the test started for this user: cancelled from its card on the Jobs page.
  const running = `#job-list .job[data-job-id="${process.env.CANCEL_JOB_ID}"]`;
  await page.click(`${running} button.cancel`, { timeout: 60_000 });
  await page.waitForSelector(`${running}[data-status=cancelled]`, { timeout: 120_000 });
  await shot(page, "0-jobs-cancelled");
  step("long job cancelled from the Jobs page");
  await page.evaluate(() => { window.__loadMarker = "first-load"; });
  await page.click("#nav a[data-page=photos]");
  await page.waitForSelector("#photo-drop");
  await page.evaluate((base64) => {
    const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
    const transfer = new DataTransfer();
    transfer.items.add(new File([bytes], "photos.zip", { type: "application/zip" }));
    const drop = document.getElementById("photo-drop");
    drop.dispatchEvent(new DragEvent("dragover", { bubbles: true, cancelable: true, dataTransfer: transfer }));
    drop.dispatchEvent(new DragEvent("drop", { bubbles: true, cancelable: true, dataTransfer: transfer }));
  }, zipBytes.toString("base64"));
  await page.waitForSelector("#photo-files li");
  // Record every state of the job card the listener renders (status and percent).
  await page.evaluate(() => {
    window.__progress = [];
    const box = document.getElementById("photo-job");
    new MutationObserver(() => {
      const card = box.querySelector(".job");
      if (card) window.__progress.push([card.dataset.status, Number(card.dataset.percent)]);
    }).observe(box, { childList: true, subtree: true });
  });
  await page.click("#photo-upload");
  await page.waitForSelector("#photo-job .job", { timeout: 60_000 });
  report.photo_job_id = await page.getAttribute("#photo-job .job", "data-job-id");
  step(`upload answered, job ${report.photo_job_id}`);
  await shot(page, "1-photos-started");
  await page.waitForSelector("#photo-job .job:is([data-status=completed],[data-status=failed],[data-status=cancelled])",
    { timeout: JOB_TIMEOUT });
  report.photo_status = await page.getAttribute("#photo-job .job", "data-status");
  report.progress = await page.evaluate(() => window.__progress);
  report.bar_width = await page.$eval("#photo-job .bar > div", (bar) => bar.style.width);
  step(`photo job ${report.photo_status}`);
  await page.waitForFunction(() => {
    const images = [...document.querySelectorAll("#photo-gallery img")];
    return images.length >= 6 && images.every((img) => img.complete && img.naturalWidth > 0);
  }, null, { timeout: 60_000 });
  report.gallery = await page.$$eval("#photo-gallery figure", (figures) => figures.map((f) => ({
    output: f.dataset.output,
    before: f.querySelector("img.before").naturalWidth,
    after: f.querySelector("img.after").naturalWidth,
  })));
  await shot(page, "2-photos-gallery");
  const [download] = await Promise.all([
    page.waitForEvent("download", { timeout: 60_000 }),
    page.click('#photo-job button.download[data-path$="results.zip"]'),
  ]);
  report.download_name = download.suggestedFilename();
  report.download_path = join(artifacts, "results.zip");
  await download.saveAs(report.download_path);
  step("results.zip downloaded");

  // The same page, still never reloaded: a project with one scene whose image is generated.
  await page.click("#nav a[data-page=projects]");
  await page.fill("#project-form input[name=name]", `Browser project ${stamp}`);
  await page.fill("#project-form input[name=title]", "Launch");
  await page.fill("#project-form input[name=brand_name]", "Fizz");
  await page.fill("#project-form input[name=product_description]", "sparkling water");
  await page.click("#project-create");
  await page.waitForSelector("[data-open-project]");
  report.project_id = await page.getAttribute("[data-open-project]", "data-open-project");
  await page.fill("#scene-form input[name=title]", "Sunrise run");
  await page.fill("#scene-form input[name=description]", "A runner at the beach at sunrise");
  await page.click("#scene-add");
  await page.waitForSelector(".scene");
  step(`project ${report.project_id} with a scene`);
  await page.click(".scene button.generate-image");
  await page.waitForFunction(() => {
    const img = document.querySelector(".scene .asset-image img");
    return img && img.complete && img.naturalWidth > 0;
  }, null, { timeout: JOB_TIMEOUT });
  report.scene_image = await page.$eval(".scene .asset-image img", (img) => ({
    width: img.naturalWidth, height: img.naturalHeight, path: img.dataset.path,
  }));
  await shot(page, "3-project-scene-image");
  step("scene image shown");

  await page.click("#nav a[data-page=jobs]");
  await page.waitForFunction(() => document.querySelectorAll("#job-list .job").length >= 2, null, { timeout: 30_000 });
  report.my_jobs = await page.$$eval("#job-list .job", (cards) => cards.map((c) => c.dataset.jobId));
  report.load_marker = await page.evaluate(() => window.__loadMarker);
  report.navigations = await page.evaluate(() => performance.getEntriesByType("navigation").length);
  await shot(page, "4-jobs");
  await look(page, [
    { name: "jobs", hash: "#/jobs", ready: `${on("jobs")} #job-list .job` },
    { name: "photos", hash: "#/photos", ready: `${on("photos")} #photo-gallery figure img.after` },
    { name: "projects", hash: `#/projects/${report.project_id}`, ready: `${on("projects")} .scene .asset-image img` },
  ]);
  await page.evaluate(() => { location.hash = "#/photos"; });
  await page.click(`${on("photos")} #photo-gallery .photo button.view`);
  await look(page, [{ name: "photo-viewer", ready: "dialog.viewer[open] .viewer-pane img" }]);
  await page.keyboard.press("Escape");
  await page.waitForSelector("dialog.viewer", { state: "detached" });
  step("user's pages looked at");
  await page.evaluate(() => { location.hash = "#/jobs"; });
  report.failing_card = await page.textContent(`#job-list .job[data-job-id="${process.env.FAILING_JOB_ID}"]`, { timeout: 30_000 });
  // On a phone the navigation folds behind the Menu button.
  await page.setViewportSize({ width: 390, height: 844 });
  report.menu = [];
  for (const theme of ["light", "dark"]) {
    await page.emulateMedia({ colorScheme: theme });
    const folded = await page.isHidden("#nav a[data-page=photos]");
    await page.click("#nav-toggle");
    await page.waitForSelector("#nav a[data-page=photos]", { state: "visible" });
    await page.screenshot({ path: join(screens, `menu-phone-${theme}.png`) });
    report.menu.push({ folded, links: await page.$$eval("#nav a", (links) => links.filter((a) => a.checkVisibility()).length) });
    await page.click("#nav-toggle");
  }
  await page.emulateMedia({ colorScheme: "light" });
  await page.setViewportSize({ width: 1280, height: 1000 });

  // The project edited, a second scene added, the first one renamed and moved down, then deleted.
  await page.evaluate((hash) => { location.hash = hash; }, `#/projects/${report.project_id}`);
  await page.waitForSelector(`${on("projects")} .scene`);
  await page.fill("#scene-form input[name=title]", "Finale");
  await page.click("#scene-add");
  await page.waitForFunction(() => document.querySelectorAll("#scenes .scene").length === 2);
  await page.click("#project-edit");
  await page.fill("#project-edit-form input[name=name]", `Renamed project ${stamp}`);
  await page.fill("#project-edit-form textarea[name=description]", "A morning run ad");
  await page.fill("#project-edit-form textarea[name=additional_notes]", "Keep it under 10 seconds");
  await page.click("#project-save");
  await page.waitForFunction((name) => document.querySelector("[data-open-project] h3")?.textContent === name,
    `Renamed project ${stamp}`, { timeout: 30_000 });
  report.project_header = await page.textContent("[data-open-project] .card-head");
  report.project_brief = await page.textContent("[data-open-project] .brief");
  await page.click("#scenes .scene:first-child button.scene-edit-open");
  await page.fill("#scenes .scene:first-child .scene-edit-form input[name=title]", "Sunrise sprint");
  await page.click("#scenes .scene:first-child button.scene-save");
  await page.waitForFunction(() => document.querySelector("#scenes .scene:first-child h4")?.textContent.includes("Sunrise sprint"),
    null, { timeout: 30_000 });
  await page.click("#scenes .scene:first-child button.scene-down");
  await page.waitForFunction(() => [...document.querySelectorAll("#scenes .scene h4")].map((h) => h.textContent).join("|")
    === "1. Finale|2. Sunrise sprint", null, { timeout: 30_000 }).catch(() => {}); // the test says what it saw
  report.scene_titles = await page.$$eval("#scenes .scene h4", (titles) => titles.map((t) => t.textContent));
  step("project edited, scene renamed and reordered");
  // The last scene deleted (delete_scene, confirmed next to the scene).
  const doomedScene = await page.$eval("#scenes .scene:last-child", (scene) => scene.dataset.sceneId);
  await page.click("#scenes .scene:last-child button.scene-delete");
  await page.click("#scenes .scene:last-child button.scene-delete-confirm");
  await page.waitForFunction((id) => !document.querySelector(`#scenes .scene[data-scene-id="${id}"]`), doomedScene,
    { timeout: 60_000 });
  report.deleted_scene = doomedScene;
  report.scene_titles_after_delete = await page.$$eval("#scenes .scene h4", (titles) => titles.map((t) => t.textContent));
  step("scene deleted");
  await page.click("#project-delete");
  await page.click("#project-delete-confirm");
  await page.waitForSelector("[data-open-project]", { state: "detached", timeout: 60_000 });
  await page.waitForSelector(`#project-list [data-project-id="${report.project_id}"]`, { state: "detached", timeout: 30_000 });
  step("project deleted");
  await page.context().close();

  // User 2, in a fresh browser context: sees none of user 1's jobs.
  const other = await newPage();
  report.other_uid = await signUp(other, `browser-other-${stamp}@example.com`);
  await other.waitForSelector("#job-list .empty, #job-list .job");
  report.other_jobs = await other.$$eval("#job-list .job", (cards) => cards.map((c) => c.dataset.jobId));
  report.other_empty_text = await other.textContent("#job-list");
  await shot(other, "5-other-user-jobs");
  await look(other, [
    { name: "jobs-first-run", hash: "#/jobs", ready: `${on("jobs")} #job-list .empty` },
    { name: "photos-first-run", hash: "#/photos", ready: `${on("photos")} .empty-state` },
    { name: "projects-first-run", hash: "#/projects", ready: `${on("projects")} #project-list .empty-state` },
  ]);
  step("second user checked");
  await other.context().close();

  // An admin exports two seeded users from the Export page and downloads one archive.
  const admin = await newPage();
  await signIn(admin, process.env.ADMIN_EMAIL, process.env.ADMIN_PASSWORD);
  await admin.click("#nav a[data-page=export]");
  await admin.fill("#export-users", process.env.EXPORT_USER_IDS);
  await admin.click("#export-start");
  // A big user's row shows its bytes while it is archived (item.fraction, written about once a second).
  report.export_partial_bar = await admin.waitForFunction(() => [...document.querySelectorAll(
    "#export-users-table tr[data-status=running] [role=progressbar]")].map((bar) => Number(bar.getAttribute("aria-valuenow")))
    .find((value) => value > 0 && value < 100), null, { timeout: 120_000, polling: 50 }).then((handle) => handle.jsonValue())
    .catch(() => null);
  await admin.waitForSelector("#export-job .job[data-status=completed]", { timeout: 240_000 });
  await admin.waitForFunction((count) => document.querySelectorAll("#export-users-table tr[data-status=done] button").length === count,
    process.env.EXPORT_USER_IDS.split(",").length, { timeout: 30_000 });
  report.export_rows = await admin.$$eval("#export-users-table tr[data-status]", (rows) => rows.map((r) => r.dataset.status));
  await shot(admin, "6-admin-export");
  const [archive] = await Promise.all([
    admin.waitForEvent("download", { timeout: 60_000 }),
    admin.click("#export-users-table tr[data-status=done] button"),
  ]);
  report.export_download_path = join(artifacts, "export-archive.zip");
  await archive.saveAs(report.export_download_path);
  step("admin export downloaded");
  // An admin sees everyone's jobs on the Jobs page (Mine / Everyone's).
  await admin.click("#nav a[data-page=jobs]");
  await admin.click("#job-scope input[value=everyone]");
  await admin.waitForSelector(`#job-list .job[data-job-id="${report.photo_job_id}"]`, { timeout: 30_000 });
  report.admin_sees_others = true;
  await look(admin, [{ name: "export", hash: "#/export", ready: `${on("export")} #export-users-table tr[data-status=done]` }]);
  await admin.context().close();
  report.ok = true;
} catch (error) {
  report.ok = false;
  report.error = String(error?.stack || error);
  for (const context of browser.contexts()) {
    for (const page of context.pages()) await shot(page, `failure-${report.steps.length}`).catch(() => {});
  }
} finally {
  await browser.close();
}
console.log(JSON.stringify(report));
