// The UI's reading of paginated lists (`api.pager`, `api.allPages`) without a browser: a
// stubbed fetch answers pages of a fake list newest first, the way GET /api/notes and
// GET /api/sources do (`limit`, default 50; `offset`), and records the pages asked for.

import { test } from "node:test";
import assert from "node:assert/strict";

globalThis.localStorage = { getItem: () => "t0ken", setItem() {}, removeItem() {} };
const { PAGE, PAGE_MAX, allPages, pager } = await import("../public/js/api.js");

/** A stubbed API holding `items` (a mutable list, newest first); answers the asked slice. */
function serve(items) {
  const asked = [];
  globalThis.fetch = async (url, init) => {
    const u = new URL(url, "http://ui.test");
    const limit = Number(u.searchParams.get("limit") ?? PAGE);
    const offset = Number(u.searchParams.get("offset") ?? 0);
    asked.push({ path: u.pathname, notebook: u.searchParams.get("notebook_id"), limit, offset, auth: init.headers.Authorization });
    return new Response(JSON.stringify(items.slice(offset, offset + limit)), { status: 200, headers: { "Content-Type": "application/json" } });
  };
  return asked;
}

const notes = (n, from = 0) => Array.from({ length: n }, (_, i) => ({ id: `note:${from + i}` }));

test("the pager reads the default page, then the next ones, until a page comes back short", async () => {
  const asked = serve(notes(55));
  const pages = pager("/notes?notebook_id=notebook%3Aa");
  assert.equal(pages.done, false);
  const first = await pages.next();
  assert.deepEqual(first.map((n) => n.id), notes(50).map((n) => n.id));
  assert.equal(pages.done, false, "a full page may have more after it");
  const second = await pages.next();
  assert.deepEqual(second.map((n) => n.id), notes(5, 50).map((n) => n.id), "the next page, in order");
  assert.equal(pages.done, true);
  assert.deepEqual(asked.map((a) => [a.path, a.notebook, a.limit, a.offset, a.auth]), [
    ["/api/notes", "notebook:a", 50, 0, "Bearer t0ken"],
    ["/api/notes", "notebook:a", 50, 50, "Bearer t0ken"],
  ]);
});

test("a list of exactly one page ends with an empty page", async () => {
  serve(notes(50));
  const pages = pager("/sources?notebook_id=x");
  assert.equal((await pages.next()).length, 50);
  assert.equal(pages.done, false);
  assert.deepEqual(await pages.next(), []);
  assert.equal(pages.done, true);
});

test("items added at the top or removed move the next page's offset", async () => {
  const items = notes(60);
  const asked = serve(items);
  const pages = pager("/notes", { limit: 20 });
  await pages.next();
  items.unshift({ id: "note:new" }); // made in the view: now first on the server too
  pages.shift(1);
  items.splice(3, 1); // deleted in the view
  pages.shift(-1);
  const next = await pages.next();
  assert.equal(asked.at(-1).offset, 20);
  assert.equal(asked.at(-1).path, "/api/notes", "a path without a query gets one");
  assert.deepEqual(next.map((n) => n.id), notes(20, 20).map((n) => n.id), "neither repeated nor skipped");
  pages.shift(-1000);
  assert.equal(pages.offset, 0, "never below zero");
});

test("allPages reads every item in the largest pages", async () => {
  const asked = serve(notes(1001));
  const all = await allPages("/notes?notebook_id=x");
  assert.equal(all.length, 1001);
  assert.deepEqual(all.map((n) => n.id), notes(1001).map((n) => n.id));
  assert.deepEqual(asked.map((a) => [a.limit, a.offset]), [[PAGE_MAX, 0], [PAGE_MAX, 500], [PAGE_MAX, 1000]]);
});
