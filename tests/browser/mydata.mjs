// "Your data" in headless Chromium: a user starts a my_data export, follows it to the end,
// sees until when it is kept and downloads the archive.
// Run by tests/browser/test_my_data_page.py, which checks what this prints (one JSON line).
//   HOSTING_ORIGIN, ARTIFACTS, CHROMIUM_PATH, USER_EMAIL, USER_PASSWORD
import { join } from "node:path";
import { chromium } from "playwright-core";
import { tour } from "./tour.mjs";

const origin = process.env.HOSTING_ORIGIN;
const artifacts = process.env.ARTIFACTS;
const report = { steps: [], shots: [], findings: [] };
const step = (name) => { report.steps.push(name); console.error(`your data: ${name}`); };

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
  await page.goto(`${origin}/#/jobs`);
  await page.fill("#signin-form input[name=email]", process.env.USER_EMAIL);
  await page.fill("#signin-form input[name=password]", process.env.USER_PASSWORD);
  await page.click("#signin-form button[value=signin]");
  await page.waitForSelector("#who-email");
  await page.click("#nav a[data-page=data]");
  await page.waitForSelector("#page[data-page=data] .empty-state");
  report.first_run = await page.$eval("#page[data-page=data] .empty-state", (node) => node.textContent);
  await page.click("#mydata-start");
  await page.waitForSelector("#mydata-job .job[data-status=completed]", { timeout: 240_000 });
  await page.waitForSelector("#mydata-archive .part-downloads button", { timeout: 30_000 });
  step("data export done");
  report.job_id = await page.$eval("#mydata-job .job", (job) => job.dataset.jobId);
  report.summary = await page.$eval("#mydata-archive", (node) => node.textContent);
  report.buttons = await page.$$eval("#mydata-archive .part-downloads button", (buttons) => buttons.map((b) => ({ text: b.textContent, path: b.dataset.path })));
  report.expires = await page.$eval("#mydata-archive time.expires", (time) => time.getAttribute("datetime"));
  await page.screenshot({ path: join(artifacts, "9-your-data.png"), fullPage: true });
  const [download] = await Promise.all([
    page.waitForEvent("download", { timeout: 60_000 }),
    page.click("#mydata-archive .part-downloads button"),
  ]);
  report.download_path = join(artifacts, "my-data.zip");
  await download.saveAs(report.download_path);
  step("archive downloaded");
  const look = await tour(page, origin, [{ name: "your-data", hash: "#/data", ready: "#page[data-page=data] #mydata-archive .part-downloads" }],
    join(artifacts, "screens"));
  report.shots.push(...look.shots);
  report.findings.push(...look.findings);
  step("page looked at");
  report.ok = true;
} catch (error) {
  report.ok = false;
  report.error = String(error?.stack || error);
} finally {
  await browser.close();
}
console.log(JSON.stringify(report));
