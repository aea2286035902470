// Generation takes in headless Chromium: two image takes of one scene with different seeds,
// shown side by side, and the first selected again. Run by tests/browser/test_takes.py, which
// checks Firestore and Storage against what this prints (one JSON line).
//   HOSTING_ORIGIN, ARTIFACTS, CHROMIUM_PATH, USER_EMAIL, USER_PASSWORD, PROJECT_ID, SCENE_ID,
//   GCLOUD_PROJECT, FIRESTORE_EMULATOR_HOST
import { join } from "node:path";
import { chromium } from "playwright-core";
import { tour } from "./tour.mjs";

const origin = process.env.HOSTING_ORIGIN;
const projectId = process.env.PROJECT_ID;
const sceneId = process.env.SCENE_ID;
const TIMEOUT = 180_000;
const report = { steps: [] };
const step = (name) => { report.steps.push(name); console.error(`takes: ${name}`); };
const scene = `[data-open-project="${projectId}"] .scene[data-scene-id="${sceneId}"]`;
const MOVED_ON = "Shot 1, seen from the left";

/** Writes the scene as another client would (the Firestore emulator's REST API, as its owner). */
async function changeScene(fields) {
  const path = `projects/${process.env.GCLOUD_PROJECT}/databases/(default)/documents/projects/${projectId}/scenes/${sceneId}`;
  const mask = Object.keys(fields).map((name) => `updateMask.fieldPaths=${name}`).join("&");
  const body = { fields: Object.fromEntries(Object.entries(fields).map(([name, value]) => [name, { stringValue: value }])) };
  const response = await fetch(`http://${process.env.FIRESTORE_EMULATOR_HOST}/v1/${path}?${mask}`, {
    method: "PATCH", headers: { Authorization: "Bearer owner", "Content-Type": "application/json" }, body: JSON.stringify(body) });
  if (!response.ok) throw new Error(`scene write: ${response.status} ${await response.text()}`);
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH || "/usr/bin/chromium",
  headless: true,
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
try {
  const page = await (await browser.newContext({ viewport: { width: 1280, height: 1200 } })).newPage();
  page.on("pageerror", (error) => console.error(`page error: ${error.message}`));
  await page.goto(`${origin}/#/projects`);
  await page.fill("#signin-form input[name=email]", process.env.USER_EMAIL);
  await page.fill("#signin-form input[name=password]", process.env.USER_PASSWORD);
  await page.click("#signin-form button[value=signin]");
  await page.waitForSelector("#who-email");
  await page.click("#nav a[data-page=projects]");
  await page.click(`#project-list [data-project-id="${projectId}"] button`, { timeout: 60_000 });
  await page.waitForSelector(`${scene} button.generate-image`);
  step("project open");

  const takeCount = (n) => page.waitForFunction(([sel, n]) => {
    const cards = document.querySelectorAll(`${sel} .takes[data-kind=image] .take`);
    return cards.length === n && [...cards].every((card) => card.querySelector(".take-media img")?.naturalWidth > 0);
  }, [scene, n], { timeout: TIMEOUT });
  await page.click(`${scene} .take-settings summary`);
  for (const [index, seed] of [[1, "11"], [2, "22"]]) {
    if (index === 1) {
      await page.fill(`${scene} input.take-seed`, seed);
    } else {
      // The scene changes while its seed is being typed: the field keeps its focus and its text.
      await page.fill(`${scene} input.take-seed`, seed.slice(0, 1));
      await changeScene({ description: MOVED_ON });
      await page.waitForFunction(([sel, text]) => document.querySelector(`${sel} .card-meta`)?.textContent.includes(text),
        [scene, MOVED_ON], { timeout: 60_000 });
      await page.keyboard.type(seed.slice(1));
      report.typed = await page.$eval(`${scene} input.take-seed`, (input) => input.value);
    }
    await page.selectOption(`${scene} select.take-ratio`, "1:1");
    if (index === 1) await page.fill(`${scene} input.take-avoid`, "blur");
    else await page.fill(`${scene} input.take-avoid`, "");
    await page.click(`${scene} button.generate-image`);
    await takeCount(index);
    step(`take ${index} shown`);
  }
  report.takes = await page.$$eval(`${scene} .takes[data-kind=image] .take`, (cards) => cards.map((card) => ({
    id: card.dataset.takeId, path: card.dataset.path, selected: card.classList.contains("selected"),
    text: card.querySelector(".card-meta").textContent, width: card.querySelector(".take-media img").naturalWidth,
    height: card.querySelector(".take-media img").naturalHeight })));
  await page.screenshot({ path: join(process.env.ARTIFACTS, "takes-two.png"), fullPage: true });

  const first = report.takes[0];
  await page.click(`${scene} .take[data-take-id="${first.id}"] button.take-pick`);
  await page.waitForFunction(([sel, id, path]) => document.querySelector(`${sel} .take.selected`)?.dataset.takeId === id
    && document.querySelector(`${sel} .asset-image img`)?.dataset.path === path, [scene, first.id, first.path], { timeout: 60_000 });
  report.selected = await page.$eval(`${scene} .take.selected`, (card) => card.dataset.takeId);
  report.shown_path = await page.$eval(`${scene} .asset-image img`, (img) => img.dataset.path);
  report.pressed = await page.$$eval(`${scene} .take button.take-pick`, (buttons) => buttons.map((b) => b.getAttribute("aria-pressed")));
  await page.screenshot({ path: join(process.env.ARTIFACTS, "takes-first-selected.png"), fullPage: true });
  step("first take selected");

  Object.assign(report, await tour(page, origin, [{ name: "project-takes", ready: `#page[data-page=projects] ${scene} .take.selected .take-media img` }],
    join(process.env.ARTIFACTS, "screens")));
  step("takes looked at");
  report.ok = true;
} catch (error) {
  report.ok = false;
  report.error = String(error?.stack || error);
} finally {
  await browser.close();
}
console.log(JSON.stringify(report));
