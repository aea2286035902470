// The Video page in headless Chromium (Debian's, through playwright-core) on the local stack.
// Run by tests/browser/test_video_page.py, which checks what this prints (one JSON line at the end).
//   HOSTING_ORIGIN  the Hosting emulator serving web/dist   VIDEO_FILE  the clip to upload
//   ARTIFACTS       folder for screenshots                  CHROMIUM_PATH  (default /usr/bin/chromium)
//   USER_EMAIL, USER_PASSWORD  the user who uploads
import { join } from "node:path";
import { chromium } from "playwright-core";
import { tour } from "./tour.mjs";

const origin = process.env.HOSTING_ORIGIN;
const artifacts = process.env.ARTIFACTS;
const JOB_TIMEOUT = 600_000;
const report = { steps: [], players: {} };
const step = (name) => { report.steps.push(name); console.error(`video page: ${name}`); };

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH || "/usr/bin/chromium",
  headless: true,
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--autoplay-policy=no-user-gesture-required"],
});
const shot = (page, name) => page.screenshot({ path: join(artifacts, `${name}.png`), fullPage: true });

/** Waits until `engine` plays past 2 s; if this Chromium cannot decode H.264 through MSE,
 * until it buffered 2 s of every track instead (video.buffered is what all SourceBuffers hold). */
async function watch(page, engine, canDecode) {
  await page.waitForFunction((wanted) => window.__videoPlayer?.engine === wanted, engine, { timeout: 60_000 });
  await page.waitForFunction((decode) => {
    const video = document.getElementById("video-player");
    const buffered = video.buffered.length ? video.buffered.end(video.buffered.length - 1) : 0;
    return decode ? video.currentTime > 2 : buffered >= 2;
  }, canDecode, { timeout: 120_000 });
  return page.evaluate(() => {
    const video = document.getElementById("video-player");
    const ranges = [...Array(video.buffered.length).keys()].map((i) => [video.buffered.start(i), video.buffered.end(i)]);
    return { currentTime: video.currentTime, buffered: ranges, width: video.videoWidth, height: video.videoHeight,
      url: window.__videoPlayer.url, error: video.error?.message || null };
  });
}

try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 1100 } });
  const page = await context.newPage();
  page.on("pageerror", (error) => console.error(`page error: ${error.message}`));
  page.on("console", (message) => {
    if (message.type() === "error") console.error(`page console: ${message.text()}`);
  });
  await page.goto(`${origin}/#/video`);
  await page.fill("#signin-form input[name=email]", process.env.USER_EMAIL);
  await page.fill("#signin-form input[name=password]", process.env.USER_PASSWORD);
  await page.click("#signin-form button[value=signin]");
  await page.waitForSelector("#video-input");
  step("signed in, on the Video page");
  report.can_decode_h264 = await page.evaluate(() => window.MediaSource?.isTypeSupported('video/mp4; codecs="avc1.64001f"')
    && window.MediaSource.isTypeSupported('audio/mp4; codecs="mp4a.40.2"'));
  await page.evaluate(() => {
    window.__loadMarker = "first-load";
    window.__uploaded = [];
    window.__progress = [];
    new MutationObserver(() => {
      const bar = document.getElementById("video-upload-progress");
      window.__uploaded.push(Number(bar.dataset.percent));
    }).observe(document.getElementById("video-upload-progress"), { attributes: true });
    const box = document.getElementById("video-job");
    new MutationObserver(() => {
      const card = box.querySelector(".job");
      if (card) window.__progress.push([card.dataset.status, Number(card.dataset.percent)]);
    }).observe(box, { childList: true, subtree: true });
  });
  await page.setInputFiles("#video-input", process.env.VIDEO_FILE);
  await page.click("#video-upload");
  await page.waitForSelector("#video-job .job", { timeout: 120_000 });
  report.job_id = await page.getAttribute("#video-job .job", "data-job-id");
  report.uploaded = await page.evaluate(() => window.__uploaded);
  step(`uploaded, job ${report.job_id}`);
  await page.waitForSelector("#video-job .job:is([data-status=completed],[data-status=failed],[data-status=cancelled])",
    { timeout: JOB_TIMEOUT });
  report.status = await page.getAttribute("#video-job .job", "data-status");
  report.progress = await page.evaluate(() => window.__progress);
  step(`job ${report.status}`);
  await page.waitForFunction(() => {
    const images = [...document.querySelectorAll("#video-thumbs img")];
    return images.length >= 4 && images.every((img) => img.complete && img.naturalWidth > 0);
  }, null, { timeout: 60_000 });
  report.thumbnails = await page.$$eval("#video-thumbs img", (images) => images.map((i) => [i.naturalWidth, i.naturalHeight]));
  step("thumbnails shown");

  report.players.hls = await watch(page, "hls", report.can_decode_h264);
  await shot(page, "video-1-hls");
  step(`HLS at ${report.players.hls.currentTime.toFixed(2)} s`);
  await page.click("#play-dash");
  report.players.dash = await watch(page, "dash", report.can_decode_h264);
  await shot(page, "video-2-dash");
  step(`DASH at ${report.players.dash.currentTime.toFixed(2)} s`);
  report.load_marker = await page.evaluate(() => window.__loadMarker);
  report.navigations = await page.evaluate(() => performance.getEntriesByType("navigation").length);
  Object.assign(report, await tour(page, origin, [{ name: "video", hash: `#/video/${report.job_id}`,
    ready: "#page[data-page=video] #video-thumbs img" }], join(artifacts, "screens")));
  step("video page looked at");
  report.ok = true;
} catch (error) {
  report.ok = false;
  report.error = String(error?.stack || error);
  for (const context of browser.contexts()) {
    for (const page of context.pages()) await shot(page, `video-failure-${report.steps.length}`).catch(() => {});
  }
} finally {
  await browser.close();
}
console.log(JSON.stringify(report));
