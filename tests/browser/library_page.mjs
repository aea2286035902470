// The Library page in headless Chromium (Debian's, through playwright-core) on the local stack.
// Run by tests/browser/test_library_page.py, which checks what this prints (one JSON line at the end).
//   HOSTING_ORIGIN  the Hosting emulator serving web/dist   VIDEO_ID  a ready library video with captions
//   ARTIFACTS       folder for screenshots                  CHROMIUM_PATH  (default /usr/bin/chromium)
//   USER_EMAIL, USER_PASSWORD  its owner
import { join } from "node:path";
import { chromium } from "playwright-core";
import { tour } from "./tour.mjs";

const origin = process.env.HOSTING_ORIGIN;
const artifacts = process.env.ARTIFACTS;
const videoId = process.env.VIDEO_ID;
const report = { steps: [] };
const step = (name) => { report.steps.push(name); console.error(`library page: ${name}`); };
const card = `#library-videos [data-video-id="${videoId}"]`;

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH || "/usr/bin/chromium",
  headless: true,
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--autoplay-policy=no-user-gesture-required"],
});
const shot = (page, name) => page.screenshot({ path: join(artifacts, `${name}.png`), fullPage: true });

try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 1100 } });
  const page = await context.newPage();
  page.on("pageerror", (error) => console.error(`page error: ${error.message}`));
  page.on("console", (message) => {
    if (message.type() === "error") console.error(`page console: ${message.text()}`);
  });
  page.on("response", (response) => {
    if (response.status() >= 400) console.error(`page got ${response.status()} for ${response.url()}`);
  });
  await page.goto(`${origin}/#/library`);
  await page.fill("#signin-form input[name=email]", process.env.USER_EMAIL);
  await page.fill("#signin-form input[name=password]", process.env.USER_PASSWORD);
  await page.click("#signin-form button[value=signin]");
  await page.waitForSelector(`${card}[data-status=ready]`, { timeout: 60_000 });
  step("signed in, the video listed");
  report.can_decode_h264 = await page.evaluate(() => window.MediaSource?.isTypeSupported('video/mp4; codecs="avc1.64001f"'));

  await page.click(`${card} [data-action=play]`);
  await page.waitForFunction(() => window.__videoPlayer?.engine === "hls", null, { timeout: 60_000 });
  // Playing, with a caption track showing whose cues are loaded; paused at 2 s, its cue is on screen.
  const tracks = () => page.evaluate(() => [...document.getElementById("library-player").textTracks]
    .map((t) => ({ kind: t.kind, language: t.language, mode: t.mode, cues: t.cues?.length ?? null })));
  try {
    await page.waitForFunction(() => {
      const video = document.getElementById("library-player");
      return video.currentTime > 1 && [...video.textTracks].some((t) => t.mode === "showing" && t.cues?.length);
    }, null, { timeout: 120_000 });
  } catch (error) {
    console.error(`text tracks: ${JSON.stringify(await tracks())}`);
    throw error;
  }
  await page.evaluate(() => {
    const video = document.getElementById("library-player");
    video.pause();
    video.currentTime = 2;
  });
  await page.waitForFunction(() => [...document.getElementById("library-player").textTracks]
    .some((t) => t.mode === "showing" && t.activeCues?.length), null, { timeout: 30_000 });
  report.player = await page.evaluate(() => {
    const video = document.getElementById("library-player");
    const track = [...video.textTracks].find((t) => t.mode === "showing");
    return { currentTime: video.currentTime, width: video.videoWidth, url: window.__videoPlayer.url,
      track: { language: track.language, label: track.label, cues: [...track.cues].map((c) => c.text),
        active: [...track.activeCues].map((c) => c.text) },
      offered: [...document.querySelectorAll("#library-captions option")].map((o) => [o.value, o.textContent]),
      chosen: document.getElementById("library-captions").value };
  });
  step(`playing at ${report.player.currentTime.toFixed(2)} s, captions ${report.player.track.language}`);

  // Pointing at 78% of the timeline (inside a tile, not at its edge) shows the sprite's tile for that time.
  const scrub = await page.locator("#library-scrub").boundingBox();
  await page.mouse.move(scrub.x + scrub.width * 0.78, scrub.y + scrub.height / 2);
  await page.waitForSelector("#library-preview:not([hidden])", { timeout: 10_000 });
  report.preview = await page.evaluate(async () => {
    const tile = document.querySelector("#library-preview .scrub-tile");
    const style = getComputedStyle(tile);
    const url = /url\("?(.*?)"?\)/.exec(style.backgroundImage)?.[1] || "";
    const image = new Image();
    image.src = url;
    await image.decode();
    return { url, xywh: tile.dataset.xywh, at: Number(tile.dataset.at), position: style.backgroundPosition, width: tile.offsetWidth,
      time: document.querySelector("#library-preview .scrub-time").textContent,
      sprite: [image.naturalWidth, image.naturalHeight] };
  });
  await shot(page, "library-1-playing");
  step(`seek preview ${report.preview.xywh}`);
  await page.mouse.move(0, 0);

  Object.assign(report, await tour(page, origin, [{ name: "library", hash: "#/library",
    ready: `#page[data-page=library] ${card}` }], join(artifacts, "screens")));
  step("library page looked at");

  await page.goto(`${origin}/#/library`);
  await page.waitForSelector(`${card}[data-status=ready]`, { timeout: 60_000 });
  await page.click(`${card} [data-action=delete]`);
  await page.click(`${card} [data-action=confirm-delete]`);
  await page.waitForSelector(card, { state: "detached", timeout: 120_000 });
  await shot(page, "library-2-deleted");
  report.left = await page.$$eval("#library-videos [data-video-id]", (cards) => cards.map((c) => c.dataset.videoId));
  step("deleted");
  report.ok = true;
} catch (error) {
  report.ok = false;
  report.error = String(error?.stack || error);
  for (const context of browser.contexts()) {
    for (const page of context.pages()) await shot(page, `library-failure-${report.steps.length}`).catch(() => {});
  }
} finally {
  await browser.close();
}
console.log(JSON.stringify(report));
