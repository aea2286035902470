// Small DOM helpers and formatting: the pages build their markup with these, never with
// innerHTML of data, and show people dates, sizes and errors the way these format them.
/** What el() accepts as children: nodes, text, and nothing (null, undefined, false), nested. */
export type Child = Node | string | number | null | undefined | false | Child[];
/** Attributes; `on<event>` keys add listeners, `dataset` sets data-*, true/false/null toggle. */
export type Attrs = Record<string, unknown>;
/** Something that failed, as the SDKs, the upload endpoint and job documents describe it. */
export interface Failure {
  code?: string;
  message?: string;
  incident_id?: string | null;
  details?: unknown;
}

export function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on")) node.addEventListener(key.slice(2), value as EventListener);
    else if (key === "dataset") Object.assign(node.dataset, value);
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  const flat = (children as Child[]).flat(Infinity as 1) as (Node | string | number | null | undefined | false)[];
  node.append(...flat.filter((c): c is Node | string | number => c !== null && c !== undefined && c !== false)
    .map((c) => (typeof c === "number" ? String(c) : c)));
  return node;
}

export function progressBar(percent: number, label = "Progress"): HTMLDivElement {
  return el("div", { class: "bar", role: "progressbar", "aria-label": label, "aria-valuenow": percent, "aria-valuemin": 0,
    "aria-valuemax": 100 }, el("div", { style: `width: ${percent}%` }));
}

/** 1536 -> "1.5 KB", 3_400_000 -> "3.2 MB" (binary units, as file managers show them). */
export function formatBytes(bytes: unknown): string {
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
export function toDate(value: unknown): Date | null {
  if (!value) return null;
  const stamp = value as { toDate?: () => Date };
  if (typeof stamp.toDate === "function") return stamp.toDate();
  const date = value instanceof Date ? value : new Date(value as string | number);
  return Number.isNaN(date.getTime()) ? null : date;
}

export function formatDate(value: unknown): string {
  const date = toDate(value);
  return date ? date.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" }) : "";
}

const RELATIVE_STEPS: [Intl.RelativeTimeFormatUnit, number][] = [["second", 60], ["minute", 60], ["hour", 24], ["day", 7], ["week", 4.35], ["month", 12], ["year", Infinity]];

export function relativeTime(value: unknown, now = Date.now()): string {
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
export function timeAgo(value: unknown): HTMLTimeElement | null {
  const date = toDate(value);
  if (!date) return null;
  return el("time", { datetime: date.toISOString(), title: formatDate(date) }, relativeTime(date));
}

export function duration(seconds: unknown): string {
  const s = Math.max(0, Math.round(Number(seconds) || 0));
  return s < 60 ? `${s} s` : `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, "0")} s`;
}

/** A secondary, copyable id: "ID a1b2c3 [Copy]". */
export function copyableId(id: string, label = "ID"): HTMLSpanElement {
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
export function errorCode(error: Failure | null | undefined): string {
  return String(error?.code || "error").replace(/^(functions|auth|firestore|storage)\//, "");
}

/** The incident id of an unexpected failure: a callable's details, or a job or item error's field. */
export function incidentId(error: Failure | null | undefined): string | null {
  const details = error?.details as { incident_id?: string } | null | undefined;
  return error?.incident_id || details?.incident_id || null;
}

const WHAT_TO_DO: Record<string, string> = {
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

export function errorText(error: unknown): string {
  const failure = error as Failure | null | undefined;
  if (!failure?.message) return String(error);
  return failureText({ ...failure, message: failure.message });
}

function failureText(error: Failure & { message: string }): string {
  const incident = incidentId(error);
  return `${errorCode(error)}: ${error.message}${incident && !error.message.includes(incident) ? ` (incident ${incident})` : ""}`;
}

/** A banner naming what failed, its code and incident id, and what to do about it. */
export function errorBanner(error: unknown, { title = "Something went wrong", compact = false } = {}): HTMLDivElement {
  const failure = (error && typeof error === "object" ? error : { message: String(error) }) as Failure;
  const code = errorCode(failure);
  const incident = incidentId(failure);
  const message = failure.message || String(error);
  return el("div", { class: `banner error${compact ? " compact" : ""}`, role: "alert", dataset: { code } },
    el("strong", {}, title),
    el("p", {}, message),
    el("p", { class: "banner-meta" }, el("span", {}, "Code ", el("code", {}, code)),
      incident ? copyableId(incident, "Incident") : null),
    WHAT_TO_DO[code] ? el("p", { class: "banner-hint" }, WHAT_TO_DO[code]) : null);
}

/** What a page shows before there is anything: a title, a sentence and optional actions. */
export function emptyState(title: string, text: string, ...actions: Node[]): HTMLDivElement {
  return el("div", { class: "empty-state empty" }, el("p", { class: "empty-title" }, title), el("p", {}, text),
    actions.length ? el("div", { class: "actions" }, ...actions) : null);
}

/** A page's heading and a sentence on what the page is for. */
export function pageHead(title: string, lede?: string): HTMLDivElement {
  return el("div", { class: "page-head" }, el("h2", {}, title), lede ? el("p", { class: "lede" }, lede) : null);
}

/** A field with its label above it. */
export function field(label: string, control: HTMLElement, hint?: string): HTMLLabelElement {
  return el("label", { class: "field" }, el("span", { class: "field-label" }, label), control,
    hint ? el("span", { class: "field-hint" }, hint) : null);
}

/** A checkbox (or radio) with its label beside it, as a 44 px tall row. */
export function check(label: string, input: HTMLInputElement): HTMLLabelElement {
  return el("label", { class: "check" }, input, el("span", {}, label));
}

/** Puts `nodes` into `parent` in this order, touching the DOM only when they are not there
 * already: re-inserting a node blurs the field a user is typing in inside it. */
export function placeInOrder(parent: HTMLElement, nodes: HTMLElement[]): void {
  const same = nodes.length === parent.children.length && nodes.every((node, index) => parent.children[index] === node);
  if (!same) parent.replaceChildren(...nodes);
}

/** Runs an async click handler with the button disabled, showing a failure next to it. */
export function action(label: string, handler: () => Promise<unknown>, attrs: Attrs = {}): HTMLSpanElement {
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
