// The mood board in headless Chromium: generate moods, pick one, run the whole storyboard.
// Run by tests/browser/test_moods.py, which checks Firestore and what this prints (one JSON line).
//   HOSTING_ORIGIN, ARTIFACTS, CHROMIUM_PATH, USER_EMAIL, USER_PASSWORD, PROJECT_ID
import { join } from "node:path";
import { chromium } from "playwright-core";
import { tour } from "./tour.mjs";

const origin = process.env.HOSTING_ORIGIN;
const projectId = process.env.PROJECT_ID;
const TIMEOUT = 180_000;
const report = { steps: [] };
const step = (name) => { report.steps.push(name); console.error(`moods: ${name}`); };

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
  await page.waitForSelector(`[data-open-project="${projectId}"] #moods-generate`);
  step("project open");

  await page.click("#moods-generate");
  // Four cards with their images loaded (or failed): an <img> in the page is not yet a picture.
  await page.waitForFunction(() => {
    const images = [...document.querySelectorAll("#mood-board .mood .mood-image img")];
    return images.length === 4 && images.every((img) => img.complete);
  }, null, { timeout: TIMEOUT });
  report.moods = await page.$$eval("#mood-board .mood", (cards) => cards.map((card) => ({
    id: card.dataset.moodId, swatches: card.querySelectorAll(".swatch").length,
    image: card.querySelector(".mood-image img")?.naturalWidth || 0 })));
  step("mood board shown");

  const chosen = report.moods[1].id;
  await page.click(`#mood-board .mood[data-mood-id="${chosen}"] button.mood-pick`);
  await page.waitForSelector(`#mood-board .mood.selected[data-mood-id="${chosen}"]`, { timeout: 60_000 });
  report.chosen = chosen;
  step("mood picked");

  await page.evaluate(() => {
    window.__storyboard = [];
    const box = document.querySelector(".storyboard-job");
    new MutationObserver(() => window.__storyboard.push(box.dataset.status)).observe(box, { attributes: true, childList: true });
  });
  await page.click("#storyboard-generate");
  await page.waitForFunction(() => ["completed", "failed", "cancelled"].includes(document.querySelector(".storyboard-job").dataset.status)
    || document.querySelector("#storyboard-generate + .action-error")?.textContent, null, { timeout: TIMEOUT });
  report.storyboard_states = await page.evaluate(() => window.__storyboard);
  report.storyboard_text = await page.evaluate(() => document.querySelector(".storyboard-job").textContent);
  report.storyboard_error = await page.evaluate(() => document.querySelector("#storyboard-generate + .action-error")?.textContent || "");
  await page.screenshot({ path: join(process.env.ARTIFACTS, "7-mood-board-storyboard.png"), fullPage: true });
  step("whole storyboard generated");
  Object.assign(report, await tour(page, origin, [{ name: "project-moods",
    ready: `#page[data-page=projects] [data-open-project="${projectId}"] #mood-board .mood .mood-image img` }],
  join(process.env.ARTIFACTS, "screens")));
  step("mood board looked at");
  report.ok = report.storyboard_states.at(-1) === "completed";
} catch (error) {
  report.ok = false;
  report.error = String(error?.stack || error);
} finally {
  await browser.close();
}
console.log(JSON.stringify(report));
