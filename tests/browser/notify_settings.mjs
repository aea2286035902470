// The Settings page and job deliveries in headless Chromium (Debian's, through playwright-core)
// on the local stack. Run by tests/browser/test_notify_settings.py, which checks what this prints
// (one JSON line at the end).
//   HOSTING_ORIGIN  the Hosting emulator serving web/dist   WEBHOOK_URL  the test's receiver
//   ARTIFACTS       folder for screenshots                  PHOTO_FILE   a PNG to upload
//   CHROMIUM_PATH   (default /usr/bin/chromium)             USER_EMAIL, USER_PASSWORD  the user
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { chromium } from "playwright-core";
import { tour } from "./tour.mjs";

const origin = process.env.HOSTING_ORIGIN;
const artifacts = process.env.ARTIFACTS;
const report = { steps: [] };
const step = (name) => { report.steps.push(name); console.error(`notify settings: ${name}`); };

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH || "/usr/bin/chromium",
  headless: true,
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
const shot = (page, name) => page.screenshot({ path: join(artifacts, `${name}.png`), fullPage: true });

try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 1000 } });
  const page = await context.newPage();
  page.on("pageerror", (error) => console.error(`page error: ${error.message}`));
  page.on("console", (message) => {
    if (message.type() === "error") console.error(`page console: ${message.text()}`);
  });
  await page.goto(`${origin}/#/settings`);
  await page.fill("#signin-form input[name=email]", process.env.USER_EMAIL);
  await page.fill("#signin-form input[name=password]", process.env.USER_PASSWORD);
  await page.click("#signin-form button[value=signin]");
  await page.waitForSelector("#settings-form");
  step("signed in, on the Settings page");

  // A refused URL is explained next to the form, and nothing is saved.
  await page.fill("#settings-webhook", "https://169.254.169.254/latest/");
  await page.click("#settings-save");
  await page.waitForSelector("#settings-status .banner");
  report.refusal = await page.innerText("#settings-status");
  step("metadata address refused");

  await page.fill("#settings-webhook", process.env.WEBHOOK_URL);
  await page.check("#settings-email");
  await page.click("#settings-save");
  await page.waitForSelector("#settings-status [role=status]");
  report.saved = await page.innerText("#settings-status");
  step("defaults saved");

  // Saved for real: a fresh page load shows them from Firestore.
  await page.reload();
  await page.waitForFunction((url) => document.getElementById("settings-webhook")?.value === url, process.env.WEBHOOK_URL,
    { timeout: 30_000 });
  report.reloaded = await page.evaluate(() => ({
    webhook: document.getElementById("settings-webhook").value,
    push: document.getElementById("settings-push").checked,
    email: document.getElementById("settings-email").checked,
  }));
  await page.click("#settings-show-secret");
  await page.waitForFunction(() => document.getElementById("settings-secret")?.textContent.startsWith("whsec_"));
  report.secret = await page.innerText("#settings-secret");
  await shot(page, "notify-1-settings");
  step("defaults shown after a reload");

  // A job started from the dashboard, with no notify of its own: the defaults apply.
  await page.click("#nav a[data-page=photos]");
  await page.waitForSelector("#photo-drop");
  await page.evaluate((base64) => {
    const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
    const transfer = new DataTransfer();
    transfer.items.add(new File([bytes], "notify.png", { type: "image/png" }));
    const drop = document.getElementById("photo-drop");
    drop.dispatchEvent(new DragEvent("dragover", { bubbles: true, cancelable: true, dataTransfer: transfer }));
    drop.dispatchEvent(new DragEvent("drop", { bubbles: true, cancelable: true, dataTransfer: transfer }));
  }, readFileSync(process.env.PHOTO_FILE).toString("base64"));
  await page.waitForSelector("#photo-files li");
  await page.click("#photo-upload");
  await page.waitForSelector("#photo-job .job", { timeout: 60_000 });
  report.job_id = await page.getAttribute("#photo-job .job", "data-job-id");
  step(`photo job ${report.job_id} started`);
  await page.waitForSelector("#photo-job .job:is([data-status=completed],[data-status=failed],[data-status=cancelled])",
    { timeout: 300_000 });
  report.status = await page.getAttribute("#photo-job .job", "data-status");
  step(`photo job ${report.status}`);

  // Its card on the Jobs page lists the deliveries, live: the webhook's 500, then its 200.
  await page.click("#nav a[data-page=jobs]");
  const card = `#job-list .job[data-job-id="${report.job_id}"]`;
  await page.waitForSelector(`${card} .delivery[data-channel=webhook][data-status-code="200"]`, { timeout: 120_000 });
  await page.waitForSelector(`${card} .delivery[data-channel=email]`, { timeout: 60_000 });
  report.deliveries = await page.$$eval(`${card} .delivery`, (rows) => rows.map((row) => ({
    n: row.dataset.n, channel: row.dataset.channel, event: row.dataset.event, status_code: row.dataset.statusCode,
    text: row.innerText,
  })));
  await shot(page, "notify-2-job-deliveries");
  step("the card lists the deliveries");

  Object.assign(report, await tour(page, origin, [
    { name: "settings", hash: "#/settings", ready: "#page[data-page=settings] #settings-form" },
    { name: "jobs-deliveries", hash: "#/jobs", ready: `#page[data-page=jobs] ${card} .delivery` },
  ], join(artifacts, "screens")));
  step("pages looked at");
  report.ok = true;
} catch (error) {
  report.ok = false;
  report.error = String(error?.stack || error);
  for (const context of browser.contexts()) {
    for (const page of context.pages()) await shot(page, `notify-failure-${report.steps.length}`).catch(() => {});
  }
} finally {
  await browser.close();
}
console.log(JSON.stringify(report));
