// Search matches carry `<mark>`/`</mark>` around the matched words in otherwise plain,
// unescaped user text: the UI must make <mark> elements of the markers and text of the rest.
// A minimal stand-in for the DOM (what dom.js's `el` uses) is enough to check that.

import { test } from "node:test";
import assert from "node:assert/strict";

class FakeNode {}
class FakeText extends FakeNode {
  constructor(data) {
    super();
    this.data = data;
  }
}
class FakeElement extends FakeNode {
  constructor(tag) {
    super();
    this.tag = tag;
    this.children = [];
  }
  append(...children) {
    for (const c of children) this.children.push(c instanceof FakeNode ? c : new FakeText(String(c)));
  }
  setAttribute() {}
  addEventListener() {}
}
globalThis.Node = FakeNode;
globalThis.document = { createElement: (tag) => new FakeElement(tag), createTextNode: (data) => new FakeText(data) };
const { highlighted } = await import("../public/js/views/search.js");

/** The nodes as [kind, text] pairs: "text" for text nodes, the tag for elements. */
const shape = (nodes) => nodes.map((n) => (n instanceof FakeText ? ["text", n.data] : [n.tag, n.children.map((c) => c.data).join("")]));

test("markers become mark elements around the matched words", () => {
  assert.deepEqual(shape(highlighted("The <mark>heliotrope</mark> turns to the <mark>sun</mark>.")), [
    ["text", "The "],
    ["mark", "heliotrope"],
    ["text", " turns to the "],
    ["mark", "sun"],
    ["text", "."],
  ]);
});

test("markup in the user's text stays text", () => {
  assert.deepEqual(shape(highlighted('<img src=x onerror="alert(1)"> & <mark><b>bold</b></mark>')), [
    ["text", '<img src=x onerror="alert(1)"> & '],
    ["mark", "<b>bold</b>"],
  ]);
});

test("text without markers, unbalanced markers and nothing at all", () => {
  assert.deepEqual(shape(highlighted("plain")), [["text", "plain"]]);
  assert.deepEqual(shape(highlighted("a <mark>b")), [["text", "a "], ["mark", "b"]]);
  assert.deepEqual(shape(highlighted("a</mark> b")), [["text", "a"], ["text", " b"]]);
  assert.deepEqual(highlighted(null), []);
});
