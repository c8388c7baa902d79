// The UI's server-sent events client (`api.stream` and its parser) without a browser: node's
// own fetch types stand in, with a stubbed fetch whose body arrives in chunks cut at awkward
// places (inside a line, between "\r" and "\n", inside a multi-byte character).

import { test } from "node:test";
import assert from "node:assert/strict";

globalThis.localStorage = { getItem: () => "t0ken", setItem() {}, removeItem() {} };
const { ApiError, sseParser, stream } = await import("../public/js/api.js");

/** A stubbed fetch answering `status` with these byte chunks, recording the request. */
function answer(chunks, { status = 200, type = "text/event-stream" } = {}) {
  const seen = {};
  globalThis.fetch = async (url, init) => {
    Object.assign(seen, { url, init });
    const encoder = new TextEncoder();
    const body = new ReadableStream({
      start(controller) {
        for (const c of chunks) controller.enqueue(typeof c === "string" ? encoder.encode(c) : c);
        controller.close();
      },
    });
    return new Response(body, { status, headers: { "Content-Type": type } });
  };
  return seen;
}

test("the parser joins chunks cut anywhere and ends events at blank lines", () => {
  const got = [];
  const p = sseParser((data, name) => got.push([data, name]));
  for (const c of ["data: {\"a\"", ":1}\r", "\n\r\n: a comment\n", "event: x\ndata: one\ndata:two\n\n", "data: last"]) p.push(c);
  assert.deepEqual(got, [['{"a":1}', ""], ["one\ntwo", "x"]]);
  p.end();
  assert.deepEqual(got.at(-1), ["last", ""]);
});

test("stream posts JSON with the token and hands over each event's object in order", async () => {
  const euro = new TextEncoder().encode('data: {"type":"token","content":"5 €"}\n\n');
  const cut = euro.indexOf(0xe2) + 1; // inside the euro sign's three bytes
  const seen = answer([euro.slice(0, cut), euro.slice(cut), 'data: {"type":"token","content":" more"}\n', "\n", 'data: {"type":"done","message":{"id":"m1"}}\n\n']);
  const events = [];
  const result = await stream("/chat/execute", { session_id: "s" }, (e) => events.push(e));
  assert.equal(result, null);
  assert.equal(seen.url, "/api/chat/execute");
  assert.equal(seen.init.method, "POST");
  assert.equal(seen.init.headers.Accept, "text/event-stream");
  assert.equal(seen.init.headers.Authorization, "Bearer t0ken");
  assert.deepEqual(JSON.parse(seen.init.body), { session_id: "s" });
  assert.deepEqual(events, [{ type: "token", content: "5 €" }, { type: "token", content: " more" }, { type: "done", message: { id: "m1" } }]);
});

test("data lines of one event that are each JSON are read one by one", async () => {
  answer(['data: {"type":"token","content":"a"}\ndata: {"type":"token","content":"b"}\n\n']);
  const events = [];
  await stream("/x", {}, (e) => events.push(e.content));
  assert.deepEqual(events, ["a", "b"]);
});

test("an error status becomes an ApiError with the server's detail", async () => {
  answer(['{"detail":"Choose a default chat model in Settings"}'], { status: 400, type: "application/json" });
  await assert.rejects(stream("/x", {}, () => {}), (e) => e instanceof ApiError && e.status === 400 && /default chat model/.test(e.message));
});

test("a plain JSON answer is returned as is", async () => {
  answer(['{"session_id":"s","messages":[]}'], { type: "application/json" });
  assert.deepEqual(await stream("/x", {}, () => assert.fail("no events")), { session_id: "s", messages: [] });
});

test("aborting stops the stream with an AbortError", async () => {
  globalThis.fetch = async (url, init) => {
    const body = new ReadableStream({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('data: {"type":"token","content":"a"}\n\n'));
        init.signal.addEventListener("abort", () => controller.error(init.signal.reason));
      },
    });
    return new Response(body, { headers: { "Content-Type": "text/event-stream" } });
  };
  const controller = new AbortController();
  const events = [];
  const done = stream("/x", {}, (e) => {
    events.push(e);
    controller.abort();
  }, { signal: controller.signal });
  await assert.rejects(done, (e) => e.name === "AbortError");
  assert.equal(events.length, 1);
});
