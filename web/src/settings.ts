// Settings: notification defaults for my jobs that pass no `notify` (a webhook URL, push, email),
// saved through `set_notification_settings`, and the webhook signing secret to verify deliveries.
import type { NotificationSettingsDocument } from "../../contract/types/mediajobs";
import { client } from "./firebase.js";
import { action, check, el, errorBanner, field, pageHead } from "./ui.js";

export function mount(page: HTMLElement): () => void {
  const webhook = el("input", { type: "url", name: "webhook", id: "settings-webhook", placeholder: "https://example.com/hooks/jobs", autocomplete: "url" });
  const push = el("input", { type: "checkbox", name: "push", id: "settings-push" });
  const email = el("input", { type: "checkbox", name: "email", id: "settings-email" });
  const status = el("div", { id: "settings-status", "aria-live": "polite" });
  const secret = el("code", { id: "settings-secret", class: "secret" }, "hidden");

  const show = (saved: NotificationSettingsDocument | undefined) => {
    if (document.activeElement && page.contains(document.activeElement) && document.activeElement !== document.body) return;
    webhook.value = saved?.webhook || "";
    push.checked = !!saved?.push;
    email.checked = !!saved?.email;
  };
  const stop = client.watchNotificationSettings(show,
    (error) => status.replaceChildren(errorBanner(error, { title: "Your settings could not be loaded", compact: true })));

  const form = el("form", { class: "card form-stack", id: "settings-form" },
    el("h3", {}, "Tell me when a job ends"),
    el("p", { class: "muted" }, "These apply to every job you start without its own notification choice."),
    field("Webhook URL", webhook, "An https address that receives a signed POST (Standard Webhooks) when a job completes, fails or is cancelled. Leave empty for none."),
    check("Push notification to my registered devices", push),
    check("Email to my verified address", email),
    el("div", { class: "form-actions" }, el("button", { type: "submit", class: "primary", id: "settings-save" }, "Save")),
    status);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const button = form.querySelector("button[type=submit]") as HTMLButtonElement;
    button.disabled = true;
    status.replaceChildren();
    try {
      const saved = await client.saveNotificationSettings({ webhook: webhook.value.trim() || null, push: push.checked, email: email.checked });
      status.replaceChildren(el("p", { class: "muted", role: "status" },
        saved.webhook || saved.push || saved.email ? "Saved. New jobs will tell you as chosen." : "Saved. New jobs will not notify you."));
    } catch (error) {
      status.replaceChildren(errorBanner(error, { title: "The settings were not saved", compact: true }));
    } finally {
      button.disabled = false;
    }
  });

  const signing = el("section", { class: "card form-stack", id: "settings-signing" },
    el("h3", {}, "Webhook signing secret"),
    el("p", { class: "muted" }, "Verify each delivery with any Standard Webhooks library and this secret. Rotating it signs every later delivery with a new one."),
    el("p", {}, secret),
    el("div", { class: "actions" },
      action("Show secret", async () => { secret.textContent = await client.webhookSecret(); }, { id: "settings-show-secret" }),
      action("Rotate secret", async () => { secret.textContent = await client.webhookSecret(true); }, { class: "danger" })));

  page.replaceChildren(pageHead("Settings", "How your jobs tell you they are done while you are elsewhere."), form, signing);
  return () => stop();
}
