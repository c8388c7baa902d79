// Log in and register. The password rules are the API's; it checks them, we only say them.

import { api } from "../api.js";
import { announce, el, field, submitting } from "../dom.js";

function authForm(ctx, { title, register }) {
  const email = el("input", { type: "email", name: "email", required: true, autocomplete: "email" });
  const password = el("input", {
    type: "password",
    name: "password",
    required: true,
    minlength: register ? 8 : undefined,
    autocomplete: register ? "new-password" : "current-password",
  });
  const name = el("input", { type: "text", name: "display_name", autocomplete: "name", maxlength: 100 });
  const form = el(
    "form",
    { class: "stack", novalidate: false },
    field("Email", email),
    register ? field("Display name (optional)", name) : null,
    field("Password", password, register ? "8–128 characters with an upper-case letter, a lower-case letter, a digit and a symbol." : null),
    el("button", { type: "submit" }, register ? "Create account" : "Log in"),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    submitting(form, async () => {
      const body = { email: email.value.trim(), password: password.value };
      if (register && name.value.trim()) body.display_name = name.value.trim();
      const result = await api(register ? "/auth/register" : "/auth/login", { method: "POST", body });
      ctx.setUser(result.user, result.access_token);
      announce(register ? "Account created" : "Logged in");
      ctx.navigate("/notebooks", { replace: true });
    });
  });
  return el(
    "section",
    { class: "card auth", "aria-labelledby": "auth-title" },
    el("h1", { id: "auth-title" }, title),
    form,
    el(
      "p",
      { class: "muted" },
      register ? ["Already have an account? ", el("a", { href: "/login" }, "Log in")] : ["New here? ", el("a", { href: "/register" }, "Create an account")],
    ),
  );
}

export async function loginView(ctx) {
  return authForm(ctx, { title: "Log in to ephitup", register: false });
}

export async function registerView(ctx) {
  return authForm(ctx, { title: "Create your account", register: true });
}
