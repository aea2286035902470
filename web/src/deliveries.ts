// Each job card's deliveries: every attempt to tell the owner (webhook, push, email) with its
// status code, time and next attempt, live from jobs/{id}/deliveries. One listener per job that
// asked to be notified, kept while the page shows it (main.ts stops them all on a page change).
import type { WebhookDelivery } from "../../contract/types/mediajobs";
import { client } from "./firebase.js";
import { el, errorBanner, formatDate, timeAgo } from "./ui.js";

type Doc<T> = { id: string; data: T };
type Watched = { list: Doc<WebhookDelivery>[]; node: HTMLElement | null; stop: () => void; error: unknown };
const watched = new Map<string, Watched>();

const CHANNELS: Record<string, string> = { webhook: "Webhook", push: "Push", email: "Email" };

function outcome(delivery: WebhookDelivery): string {
  if (delivery.skipped) return `skipped: ${delivery.skipped}`;
  if (delivery.channel === "push") return `${delivery.sent || 0} device(s) reached${delivery.removed ? `, ${delivery.removed} removed` : ""}`;
  if (delivery.channel === "email") return delivery.sent ? "mail queued" : "no mail";
  return delivery.status_code !== null ? `HTTP ${delivery.status_code}` : "no answer";
}

function render(node: HTMLElement, entry: Watched): void {
  if (entry.error) {
    node.replaceChildren(errorBanner(entry.error, { title: "Deliveries could not be loaded", compact: true }));
    return;
  }
  if (!entry.list.length) {
    node.replaceChildren(el("p", { class: "muted" }, "Notifications: none sent yet."));
    return;
  }
  node.replaceChildren(el("details", { class: "files", open: true },
    el("summary", {}, `Deliveries (${entry.list.length})`),
    el("ul", { class: "delivery-list" }, entry.list.map(({ id, data }) => el("li", {
      class: "delivery", dataset: { n: id, channel: data.channel || "webhook", event: data.event, statusCode: data.status_code ?? "" },
    },
    el("strong", {}, `${CHANNELS[data.channel || "webhook"] || "Webhook"} ${data.event}`),
    ` attempt ${data.attempt}: `, el("span", { class: "delivery-outcome" }, outcome(data)),
    data.latency_ms !== null ? el("span", { class: "muted" }, ` in ${data.latency_ms} ms`) : null,
    " ", timeAgo(data.attempted_at),
    data.next_attempt_at ? el("span", { class: "muted" }, ` · next attempt ${formatDate(data.next_attempt_at)}`) : null,
    data.error ? el("div", { class: "muted" }, data.error) : null)))));
}

/** The live list of a job's deliveries, for its card (a new card takes over the listener). */
export function deliveriesBlock(jobId: string): HTMLElement {
  const node = el("div", { class: "deliveries", dataset: { jobId } });
  let entry = watched.get(jobId);
  if (!entry) {
    const fresh: Watched = { list: [], node: null, stop: () => {}, error: null };
    fresh.stop = client.watchDeliveries(jobId, (list) => {
      fresh.list = list;
      fresh.error = null;
      if (fresh.node) render(fresh.node, fresh);
    }, (error) => {
      fresh.error = error;
      if (fresh.node) render(fresh.node, fresh);
    });
    watched.set(jobId, fresh);
    entry = fresh;
  }
  entry.node = node;
  render(node, entry);
  return node;
}

/** Stops every deliveries listener (on a page change). */
export function stopDeliveries(): void {
  for (const entry of watched.values()) entry.stop();
  watched.clear();
}
