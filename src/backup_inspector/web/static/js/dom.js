// Small DOM helpers. Text always goes in through textContent, never innerHTML:
// backup names, file names and file contents come from backups and are untrusted.

import { ICON_PATHS } from "../icons/mdi-icons.js";

const SVG_NS = "http://www.w3.org/2000/svg";

/** Create an element with attributes, properties and children. */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "class") element.className = value;
    else if (name === "text") element.textContent = value;
    else if (name === "dataset") Object.assign(element.dataset, value);
    else if (name.startsWith("on") && typeof value === "function") {
      element.addEventListener(name.slice(2), value);
    } else if (value === true) element.setAttribute(name, "");
    else element.setAttribute(name, String(value));
  }
  appendChildren(element, children);
  return element;
}

/** Append strings (as text) and nodes, skipping null and false. */
export function appendChildren(element, children) {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** An inline Material Design Icon, hidden from screen readers. */
export function icon(name, extraClass = "") {
  const svg = document.createElementNS(SVG_NS, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("focusable", "false");
  svg.setAttribute("class", `icon ${extraClass}`.trim());
  svg.setAttribute("data-icon-name", name); // which icon, for tests (not data-icon: that marks placeholders)
  const path = document.createElementNS(SVG_NS, "path");
  path.setAttribute("d", ICON_PATHS[name] || ICON_PATHS.helpCircle);
  svg.append(path);
  return svg;
}

/** Fill every [data-icon] placeholder in the static page with its icon. */
export function renderStaticIcons(root = document) {
  for (const holder of root.querySelectorAll("[data-icon]")) {
    if (!holder.querySelector("svg")) holder.prepend(icon(holder.dataset.icon));
  }
}

/** Replace all children of `element`. */
export function replaceChildren(element, ...children) {
  element.replaceChildren();
  appendChildren(element, children);
}

/** document.getElementById that fails loudly when the page and the code disagree. */
export function byId(id) {
  const element = document.getElementById(id);
  if (!element) throw new Error(`missing element #${id}`);
  return element;
}

/** Set a progress bar (a .progress element with role=progressbar) to a percent or "unknown". */
export function setProgress(bar, percent, label) {
  const fill = bar.querySelector(".progress-fill");
  if (percent === null || percent === undefined) {
    bar.removeAttribute("aria-valuenow");
    bar.classList.add("indeterminate");
    fill.style.width = "100%";
  } else {
    const clamped = Math.max(0, Math.min(100, percent));
    bar.classList.remove("indeterminate");
    bar.setAttribute("aria-valuenow", String(Math.round(clamped)));
    fill.style.width = `${clamped}%`;
  }
  if (label) bar.setAttribute("aria-valuetext", label);
}

/** A new progress bar element. */
export function progressBar(labelText, testId) {
  return h(
    "div",
    {
      class: "progress",
      role: "progressbar",
      "aria-label": labelText,
      "aria-valuemin": 0,
      "aria-valuemax": 100,
      "data-testid": testId,
    },
    h("div", { class: "progress-fill" }),
  );
}
