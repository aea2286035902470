// Small DOM helpers: the pages build their markup with these, never with innerHTML of data.
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

export function progressBar(percent) {
  return el("div", { class: "bar", role: "progressbar", "aria-valuenow": percent, "aria-valuemin": 0, "aria-valuemax": 100 },
    el("div", { style: `width: ${percent}%` }));
}

export function errorText(error) {
  return error?.message ? `${error.code || "error"}: ${error.message}` : String(error);
}

/** Runs an async click handler with the button disabled, showing a failure next to it. */
export function action(label, handler, attrs = {}) {
  const note = el("span", { class: "error" });
  const button = el("button", {
    type: "button",
    ...attrs,
    onclick: async () => {
      button.disabled = true;
      note.textContent = "";
      try {
        await handler();
      } catch (error) {
        note.textContent = errorText(error);
      } finally {
        button.disabled = false;
      }
    },
  }, label);
  return el("span", {}, button, note);
}
