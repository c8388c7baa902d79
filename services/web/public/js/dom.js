// Small DOM helpers: build elements without innerHTML (no injection from data), announce
// status to screen readers, show errors, and format dates.

/** el("button", {class: "x", onclick}, "text", child...) */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") node.addEventListener(key.slice(2), value);
    else if (key === "class") node.className = value;
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (value === true) node.setAttribute(key, "");
    else node.setAttribute(key, String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

let uid = 0;
/** A labelled form field: label, control, optional hint (linked with aria-describedby). */
export function field(label, control, hint) {
  const id = control.id || `f${++uid}`;
  control.id = id;
  const parts = [el("label", { for: id }, label)];
  if (hint) {
    const hintId = `${id}-hint`;
    control.setAttribute("aria-describedby", hintId);
    parts.push(control, el("span", { class: "hint", id: hintId }, hint));
  } else parts.push(control);
  return el("div", { class: "field" }, parts);
}

let statusTimer;
/** A short polite announcement (also visible as a toast). */
export function announce(message) {
  const status = document.getElementById("status");
  status.textContent = message;
  status.classList.add("show");
  clearTimeout(statusTimer);
  statusTimer = setTimeout(() => status.classList.remove("show"), 3000);
}

/** An error for the whole page (role=alert), with a dismiss button. */
export function showError(error) {
  const alert = document.getElementById("alert");
  const message = error && error.message ? error.message : String(error);
  alert.replaceChildren(
    el("span", {}, message),
    el("button", { type: "button", class: "link", onclick: () => clearError() }, "Dismiss"),
  );
  alert.hidden = false;
}

export function clearError() {
  const alert = document.getElementById("alert");
  alert.hidden = true;
  alert.replaceChildren();
}

/**
 * Runs `action` for a form submit: disables the submit button, shows the error inside the
 * form (role=alert) on failure, and keeps the user's input.
 */
export async function submitting(form, action) {
  const button = form.querySelector("button[type=submit]");
  let error = form.querySelector(".error");
  if (!error) {
    error = el("p", { class: "error", role: "alert" });
    form.append(error);
  }
  error.textContent = "";
  if (button) button.disabled = true;
  form.setAttribute("aria-busy", "true");
  try {
    await action();
  } catch (e) {
    error.textContent = e.message || String(e);
  } finally {
    if (button) button.disabled = false;
    form.removeAttribute("aria-busy");
  }
}

export function when(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? String(iso) : d.toLocaleString();
}

export function badge(status) {
  const s = status || "unknown";
  return el("span", { class: `badge ${s}` }, s);
}
