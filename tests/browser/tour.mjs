// Looks at pages as people would, after real jobs: each page at 1280x800 and 390x844, in the
// light and the dark theme, screenshotted, and checked for
//   - horizontal overflow at phone width (the document wider than the window),
//   - controls whose boxes overlap one another's,
//   - internals in the rendered text (raw JSON, Firestore timestamps, job type names, `*_path`
//     fields, byte counts not in KB/MB),
//   - axe-core violations of impact serious or critical (colour contrast included).
// Used by dashboard.mjs, moods.mjs and video_page.mjs; their Python tests assert the findings are empty.
import { createRequire } from "node:module";
import { mkdirSync } from "node:fs";
import { join } from "node:path";

const require = createRequire(import.meta.url);
const AXE = require.resolve("axe-core/axe.min.js");

export const VIEWPORTS = [["desktop", { width: 1280, height: 800 }], ["phone", { width: 390, height: 844 }]];
export const THEMES = ["light", "dark"];

const INTERNALS = [
  [/\{\s*"[\w-]+"\s*:/, "raw JSON"],
  [/firestore\/timestamp|"?nanoseconds"?\s*:/i, "a Firestore timestamp"],
  [/\b(photo_batch|media_export|video_process|scene_asset|mood_board|storyboard_assets|selftest|active_job|storyboard_job)\b/, "an internal type name"],
  [/\b\w+_(path|paths|id|ids)\b/, "a field name"],
  [/\b\d[\d,.\s]*\s*bytes\b/i, "an unformatted byte count"],
  [/\b\d{5,}\s*B\b/, "an unformatted byte count"],
  [/\[object Object\]|undefined|NaN/, "a rendering slip"],
];

/** Everything people can read on the page: its text, and the values of text inputs. */
function pageText() {
  return document.body.innerText;
}

/** Controls whose boxes overlap (neither containing the other in the DOM), at this viewport. */
function overlaps() {
  const visible = (node) => {
    const box = node.getBoundingClientRect();
    const style = getComputedStyle(node);
    return box.width > 2 && box.height > 2 && style.visibility !== "hidden" && node.checkVisibility({ contentVisibilityAuto: true, visibilityProperty: true });
  };
  // With a modal open only its controls can be reached; the page behind it is inert.
  const root = document.querySelector("dialog[open]") || document;
  const controls = [...root.querySelectorAll("button, a[href], input:not([type=hidden]), select, textarea, label.button, summary")]
    .filter(visible).filter((node) => !node.matches(".visually-hidden"));
  const found = [];
  const name = (node) => `${node.tagName.toLowerCase()}${node.id ? `#${node.id}` : ""}${node.className && typeof node.className === "string" ? `.${node.className.trim().split(/\s+/).join(".")}` : ""} "${(node.innerText || node.value || node.getAttribute("aria-label") || "").trim().slice(0, 30)}"`;
  for (let i = 0; i < controls.length; i += 1) {
    const a = controls[i].getBoundingClientRect();
    for (let j = i + 1; j < controls.length; j += 1) {
      const b = controls[j].getBoundingClientRect();
      if (controls[i].contains(controls[j]) || controls[j].contains(controls[i])) continue;
      const x = Math.min(a.right, b.right) - Math.max(a.left, b.left);
      const y = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
      if (x > 1 && y > 1) found.push(`${name(controls[i])} overlaps ${name(controls[j])}`);
    }
  }
  return found.slice(0, 10);
}

/** Tap targets smaller than 44x44 CSS px among buttons and links (inline text links excepted). */
function smallTargets() {
  return [...(document.querySelector("dialog[open]") || document).querySelectorAll("button, a.button, #nav a, label.button, select, input:not([type=checkbox]):not([type=radio]):not([type=range]):not([type=hidden])")]
    .filter((node) => {
      const box = node.getBoundingClientRect();
      return box.width > 2 && box.height > 2 && node.checkVisibility({ contentVisibilityAuto: true }) && !node.matches(".visually-hidden")
        && (box.height < 43.5 || box.width < 43.5);
    })
    .map((node) => `${node.tagName.toLowerCase()}${node.id ? `#${node.id}` : ""} "${(node.innerText || "").trim().slice(0, 30)}" ${Math.round(node.getBoundingClientRect().width)}x${Math.round(node.getBoundingClientRect().height)}`)
    .slice(0, 10);
}

async function settle(page) {
  await page.waitForFunction(() => [...document.images].every((img) => img.complete), null, { timeout: 20_000 }).catch(() => {});
  await page.waitForTimeout(400);
}

/**
 * Shows each of `pages` ({name, hash, ready}) in every viewport and theme; screenshots go to
 * `dir` as `<name>-<viewport>-<theme>.png`. `page` must be signed in already (or be meant not to).
 * Returns {shots, findings: [{page, viewport, theme, kind, detail}]}.
 */
export async function tour(page, origin, pages, dir) {
  mkdirSync(dir, { recursive: true });
  const findings = [];
  const shots = [];
  const found = (where, kind, detail) => findings.push({ ...where, kind, detail });
  const original = page.viewportSize();
  for (const theme of THEMES) {
    await page.emulateMedia({ colorScheme: theme, reducedMotion: "reduce" });
    for (const [viewport, size] of VIEWPORTS) {
      await page.setViewportSize(size);
      for (const { name, hash, ready } of pages) {
        const where = { page: name, viewport, theme };
        if (hash !== undefined) {
          await page.evaluate((target) => { if (location.hash !== target) location.hash = target; }, hash);
        }
        await page.waitForSelector(ready, { timeout: 60_000 });
        await settle(page);
        const width = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, inner: window.innerWidth }));
        if (width.scroll > width.inner) found(where, "horizontal overflow", `${width.scroll}px wide in a ${width.inner}px window`);
        for (const detail of await page.evaluate(overlaps)) found(where, "overlap", detail);
        if (viewport === "phone") for (const detail of await page.evaluate(smallTargets)) found(where, "tap target under 44px", detail);
        const text = await page.evaluate(pageText);
        for (const [pattern, what] of INTERNALS) {
          const match = text.match(pattern);
          if (match) found(where, "internals shown", `${what}: …${text.slice(Math.max(0, match.index - 40), match.index + 60)}…`);
        }
        await page.addScriptTag({ path: AXE });
        const violations = await page.evaluate(async () => {
          const result = await window.axe.run(document, { resultTypes: ["violations"] });
          return result.violations.filter((v) => v.impact === "serious" || v.impact === "critical")
            .map((v) => `${v.impact} ${v.id}: ${v.help} (${v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join(", ")})`);
        });
        for (const detail of violations) found(where, "axe", detail);
        const file = join(dir, `${name}-${viewport}-${theme}.png`);
        await page.screenshot({ path: file, fullPage: true });
        shots.push(file);
      }
    }
  }
  await page.emulateMedia({ colorScheme: "light", reducedMotion: "no-preference" });
  if (original) await page.setViewportSize(original);
  return { shots, findings };
}
