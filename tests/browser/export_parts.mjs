// A split export on the Export page in headless Chromium: started with a 64 MB part size,
// followed to the end, one download per part and the date the archive is deleted.
// Run by tests/browser/test_export_parts.py, which checks what this prints (one JSON line).
//   HOSTING_ORIGIN, ARTIFACTS, CHROMIUM_PATH, ADMIN_EMAIL, ADMIN_PASSWORD, EXPORT_USER_ID
import { join } from "node:path";
import { chromium } from "playwright-core";
import { tour } from "./tour.mjs";

const origin = process.env.HOSTING_ORIGIN;
const artifacts = process.env.ARTIFACTS;
const report = { steps: [], shots: [], findings: [] };
const step = (name) => { report.steps.push(name); console.error(`export parts: ${name}`); };
const row = "#export-users-table tr[data-status=done]";

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH || "/usr/bin/chromium",
  headless: true,
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
try {
  const context = await browser.newContext({ acceptDownloads: true, viewport: { width: 1280, height: 1000 } });
  const page = await context.newPage();
  page.on("pageerror", (error) => console.error(`page error: ${error.message}`));
  await page.goto(`${origin}/#/export`);
  await page.fill("#signin-form input[name=email]", process.env.ADMIN_EMAIL);
  await page.fill("#signin-form input[name=password]", process.env.ADMIN_PASSWORD);
  await page.click("#signin-form button[value=signin]");
  await page.waitForSelector("#who-email");
  await page.click("#nav a[data-page=export]");
  await page.fill("#export-users", process.env.EXPORT_USER_ID);
  await page.fill("#export-part-mb", "64");
  // The page may first show an earlier export (another test's, in a shared stack): wait for ours.
  const earlier = await page.$eval("#export-job .job", (job) => job.dataset.jobId).catch(() => null);
  await page.click("#export-start");
  await page.waitForFunction((before) => {
    const job = document.querySelector("#export-job .job");
    return job && job.dataset.jobId !== before && job.dataset.status === "completed";
  }, earlier, { timeout: 300_000 });
  await page.waitForSelector(`${row} .part-downloads button`, { timeout: 30_000 });
  step("split export done");
  report.job_id = await page.$eval("#export-job .job", (job) => job.dataset.jobId);
  report.buttons = await page.$$eval(`${row} .part-downloads button`, (buttons) => buttons.map((b) => ({ text: b.textContent, path: b.dataset.path })));
  report.expires = await page.$eval(`${row} time.expires`, (time) => ({ text: time.textContent, datetime: time.getAttribute("datetime") }));
  await page.screenshot({ path: join(artifacts, "8-export-parts.png"), fullPage: true });
  const [download] = await Promise.all([
    page.waitForEvent("download", { timeout: 60_000 }),
    page.click(`${row} .part-downloads button:nth-child(2)`),
  ]);
  report.download_path = join(artifacts, "export-part-2.zip");
  await download.saveAs(report.download_path);
  step("part 2 downloaded");
  const look = await tour(page, origin, [{ name: "export-parts", hash: "#/export", ready: `#page[data-page=export] ${row} .part-downloads` }],
    join(artifacts, "screens"));
  report.shots.push(...look.shots);
  report.findings.push(...look.findings);
  step("export page looked at");
  report.ok = true;
} catch (error) {
  report.ok = false;
  report.error = String(error?.stack || error);
} finally {
  await browser.close();
}
console.log(JSON.stringify(report));
