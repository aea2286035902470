// Small DOM helpers and formatting: the pages build their markup with these, never with
// innerHTML of data, and show people dates, sizes and errors the way these format them.
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (key === "dataset") Object.assign(node.dataset, value);
    else node.setAttribute(key, value === true ? "" : value);
  }
  node.append(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
  return node;
}

export function progressBar(percent, label = "Progress") {
  return el("div", { class: "bar", role: "progressbar", "aria-label": label, "aria-valuenow": percent, "aria-valuemin": 0,
    "aria-valuemax": 100 }, el("div", { style: `width: ${percent}%` }));
}

/** 1536 -> "1.5 KB", 3_400_000 -> "3.2 MB" (binary units, as file managers show them). */
export function formatBytes(bytes) {
  const n = Number(bytes) || 0;
  if (n < 1024) return `${n} B`;
  const units = ["KB", "MB", "GB", "TB"];
  let value = n / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value >= 100 ? Math.round(value) : value.toFixed(1)} ${units[unit]}`;
}

/** A Firestore Timestamp, an RFC 3339 string or a Date as a Date (null if none). */
export function toDate(value) {
  if (!value) return null;
  if (typeof value.toDate === "function") return value.toDate();
  const date = value instanceof Date ? value : new Date(value);
  return Number.isNaN(date.getTime()) ? null : date;
}

export function formatDate(value) {
  const date = toDate(value);
  return date ? date.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" }) : "";
}

const RELATIVE_STEPS = [["second", 60], ["minute", 60], ["hour", 24], ["day", 7], ["week", 4.35], ["month", 12], ["year", Infinity]];

export function relativeTime(value, now = Date.now()) {
  const date = toDate(value);
  if (!date) return "";
  let amount = (date.getTime() - now) / 1000;
  if (Math.abs(amount) < 45) return "just now";
  const format = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });
  for (const [unit, size] of RELATIVE_STEPS) {
    if (Math.abs(amount) < size) return format.format(Math.round(amount), unit);
    amount /= size;
  }
  return "";
}

/** "5 minutes ago", with the local date and time as its tooltip and machine-readable value. */
export function timeAgo(value) {
  const date = toDate(value);
  if (!date) return null;
  return el("time", { datetime: date.toISOString(), title: formatDate(date) }, relativeTime(date));
}

export function duration(seconds) {
  const s = Math.max(0, Math.round(Number(seconds) || 0));
  return s < 60 ? `${s} s` : `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, "0")} s`;
}

/** A secondary, copyable id: "ID a1b2c3 [Copy]". */
export function copyableId(id, label = "ID") {
  const button = el("button", { type: "button", class: "link copy", "aria-label": `Copy ${label.toLowerCase()} ${id}`,
    onclick: async () => {
      try {
        await navigator.clipboard.writeText(id);
        button.textContent = "Copied";
      } catch {
        getSelection()?.selectAllChildren(code);
        button.textContent = "Selected";
      }
      setTimeout(() => { button.textContent = "Copy"; }, 1500);
    } }, "Copy");
  const code = el("code", {}, id);
  return el("span", { class: "id" }, `${label} `, code, button);
}

/** An error's code without the SDK's prefix ("functions/internal" -> "internal"). */
export function errorCode(error) {
  return String(error?.code || "error").replace(/^(functions|auth|firestore|storage)\//, "");
}

/** The incident id of an unexpected failure: a callable's details, or a job or item error's field. */
export function incidentId(error) {
  return error?.incident_id || error?.details?.incident_id || null;
}

const WHAT_TO_DO = {
  "internal": "Try again. If it keeps failing, report it with the incident id.",
  "unavailable": "The service is busy or unreachable; try again in a minute.",
  "unauthenticated": "Sign in again.",
  "permission-denied": "This account may not do that; ask an admin if you need it.",
  "not-found": "It may have been deleted, or it belongs to another account.",
  "resource-exhausted": "A limit was reached; try again later or with less at once.",
  "deadline-exceeded": "It took too long; try again, perhaps with less at once.",
  "invalid-argument": "Check what you entered and try again.",
  "failed-precondition": "Wait for the running work to finish, then try again.",
};

export function errorText(error) {
  if (!error?.message) return String(error);
  const incident = incidentId(error);
  return `${errorCode(error)}: ${error.message}${incident && !error.message.includes(incident) ? ` (incident ${incident})` : ""}`;
}

/** A banner naming what failed, its code and incident id, and what to do about it. */
export function errorBanner(error, { title = "Something went wrong", compact = false } = {}) {
  const code = errorCode(error);
  const incident = incidentId(error);
  const message = error?.message || String(error);
  return el("div", { class: `banner error${compact ? " compact" : ""}`, role: "alert", dataset: { code } },
    el("strong", {}, title),
    el("p", {}, message),
    el("p", { class: "banner-meta" }, el("span", {}, "Code ", el("code", {}, code)),
      incident ? copyableId(incident, "Incident") : null),
    WHAT_TO_DO[code] ? el("p", { class: "banner-hint" }, WHAT_TO_DO[code]) : null);
}

/** What a page shows before there is anything: a title, a sentence and optional actions. */
export function emptyState(title, text, ...actions) {
  return el("div", { class: "empty-state empty" }, el("p", { class: "empty-title" }, title), el("p", {}, text),
    actions.length ? el("div", { class: "actions" }, ...actions) : null);
}

/** A page's heading and a sentence on what the page is for. */
export function pageHead(title, lede) {
  return el("div", { class: "page-head" }, el("h2", {}, title), lede ? el("p", { class: "lede" }, lede) : null);
}

/** A field with its label above it. */
export function field(label, control, hint) {
  return el("label", { class: "field" }, el("span", { class: "field-label" }, label), control,
    hint ? el("span", { class: "field-hint" }, hint) : null);
}

/** A checkbox (or radio) with its label beside it, as a 44 px tall row. */
export function check(label, input) {
  return el("label", { class: "check" }, input, el("span", {}, label));
}

/** Runs an async click handler with the button disabled, showing a failure next to it. */
export function action(label, handler, attrs = {}) {
  const note = el("div", { class: "action-error", "aria-live": "polite" });
  const button = el("button", {
    type: "button",
    ...attrs,
    onclick: async () => {
      button.disabled = true;
      note.replaceChildren();
      try {
        await handler();
      } catch (error) {
        note.replaceChildren(errorBanner(error, { title: `${label} failed`, compact: true }));
      } finally {
        button.disabled = false;
      }
    },
  }, label);
  return el("span", { class: "action" }, button, note);
}
