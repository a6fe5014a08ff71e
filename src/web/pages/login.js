// Sign in: paste a relengd token (any role; reader is enough). It stays in this tab's session storage only.
import { ApiError, forgetToken, get, storeToken } from "../api.js";
import { h, replaceContent } from "../dom.js";

/** Where to go after signing in: only a dashboard route, never another site. */
function safeNext(next) {
  return typeof next === "string" && next.startsWith("#/") && !next.startsWith("#/login") ? next : "#/";
}

export async function renderLogin(ctx) {
  ctx.setTitle("Sign in");
  const next = safeNext(ctx.query.get("next"));
  const reason = ctx.query.get("reason");
  const feedback = h("div", { id: "token-feedback", "aria-live": "polite" });
  const onsubmit = async (event) => {
    event.preventDefault();
    const token = String(new FormData(event.currentTarget).get("token") ?? "").trim();
    if (!token) {
      replaceContent(feedback, h("p", { class: "alert", role: "alert" }, "Paste a token first."));
      event.currentTarget.querySelector("input")?.focus();
      return;
    }
    try {
      // Checked before it is kept: a token the server refuses is said so here, not on every page.
      await get("/api/v1/overview", {}, { token });
      storeToken(token);
      ctx.sessionChanged();
      ctx.announce("Signed in");
      location.hash = next;
    } catch (err) {
      forgetToken();
      ctx.sessionChanged();
      const text = err instanceof ApiError ? `The server refused this token: ${err.message}` : `Could not reach the server: ${err.message}`;
      replaceContent(feedback, h("p", { class: "alert", role: "alert" }, text));
    }
  };
  return h(
    "div",
    { class: "narrow" },
    h("h1", { tabindex: "-1" }, "Sign in"),
    reason ? h("p", { class: "alert", role: "alert" }, `This server needs a token to read: ${reason}`) : null,
    h(
      "form",
      { onsubmit, class: "stack" },
      h("label", { for: "token" }, "Access token"),
      h("input", { id: "token", name: "token", type: "password", autocomplete: "off", spellcheck: "false", required: true, "aria-describedby": "token-help" }),
      h(
        "p",
        { id: "token-help", class: "hint" },
        "A token with the reader role is enough. On the server's host: ",
        h("code", {}, "relengd token issue --subject you --role reader --ttl 12h"),
        ". It is kept in this tab only and forgotten when the tab closes.",
      ),
      h("button", { type: "submit" }, "Use this token"),
    ),
    feedback,
  );
}
