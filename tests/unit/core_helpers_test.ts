import assert from "node:assert/strict";
import { constantTimeEqual } from "../../lib/core/constant_time.ts";
import { isRecord, parseJsonObject } from "../../lib/core/json.ts";
import { asReason } from "../../lib/core/text.ts";

Deno.test("constantTimeEqual: equal only for the same bytes and length", () => {
  assert.equal(constantTimeEqual("abc", "abc"), true);
  assert.equal(constantTimeEqual("", ""), true);
  assert.equal(constantTimeEqual("abc", "abd"), false);
  assert.equal(constantTimeEqual("abc", "abcd"), false);
  assert.equal(constantTimeEqual("abcd", "abc"), false);
  // A prefix of the other (what the agent's old compare wrapped around) is never equal.
  assert.equal(constantTimeEqual("ab", "abab"), false);
  assert.equal(constantTimeEqual("", "a"), false);
  assert.equal(constantTimeEqual("é", "e"), false);
});

Deno.test("isRecord and parseJsonObject: objects only", () => {
  assert.equal(isRecord({}), true);
  for (const value of [null, [], "x", 1, undefined]) assert.equal(isRecord(value), false);
  assert.deepEqual(parseJsonObject('{"a":1}'), { a: 1 });
  for (const text of ["[1]", "null", '"x"', "{", "", "<html>"]) {
    assert.equal(parseJsonObject(text), undefined, text);
  }
});

Deno.test("asReason: an error's or a string's message with its first letter in lower case", () => {
  assert.equal(asReason(new Error("Cannot reach github.com")), "cannot reach github.com");
  assert.equal(asReason("No answer"), "no answer");
  assert.equal(asReason(""), "");
  assert.equal(asReason(42), "42");
});
