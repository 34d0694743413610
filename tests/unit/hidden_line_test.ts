import assert from "node:assert/strict";
import { hiddenLineEditor, readHiddenLine } from "../../lib/platform/hidden_line.ts";
import { LoopauthError } from "../../lib/core/errors.ts";

const bytes = (text: string) => new TextEncoder().encode(text);
const BACKSPACE = "\x7f";

/** A terminal that gives `chunks` one read at a time, then end of file, and records its modes. */
function fakeTerminal(chunks: string[]) {
  const modes: boolean[] = [];
  const written: string[] = [];
  let next = 0;
  return {
    modes,
    written,
    stdin: {
      read(buffer: Uint8Array): Promise<number | null> {
        if (next >= chunks.length) return Promise.resolve(null);
        const chunk = bytes(chunks[next++]);
        buffer.set(chunk);
        return Promise.resolve(chunk.length);
      },
      setRaw(mode: boolean) {
        modes.push(mode);
      },
    },
    stderr: {
      writeSync(data: Uint8Array) {
        written.push(new TextDecoder().decode(data));
        return data.length;
      },
    },
  };
}

Deno.test("Backspace removes a whole two-byte character (é), not half of it", () => {
  const editor = hiddenLineEditor();
  assert.equal(editor.feed(bytes(`abé${BACKSPACE}`)), undefined);
  assert.equal(editor.feed(bytes("c\r")), "abc");
});

Deno.test("Backspace removes a whole four-byte emoji, and two remove two code points", () => {
  const editor = hiddenLineEditor();
  assert.equal(editor.feed(bytes(`x😀é${BACKSPACE}${BACKSPACE}y\n`)), "xy");
});

Deno.test("Backspace on an empty line removes nothing and breaks nothing", () => {
  const editor = hiddenLineEditor();
  assert.equal(editor.feed(bytes(`${BACKSPACE}${BACKSPACE}ok\r`)), "ok");
});

Deno.test("a multi-byte character split across two reads is kept whole", () => {
  const editor = hiddenLineEditor();
  const e = bytes("é");
  assert.equal(editor.feed(e.subarray(0, 1)), undefined);
  assert.equal(editor.feed(e.subarray(1)), undefined);
  assert.equal(editor.feed(bytes("\r")), "é");
});

Deno.test("Ctrl-D on an empty line ends the input with a cancelled error", () => {
  const editor = hiddenLineEditor();
  assert.throws(() => editor.feed(bytes("\x04")), (error: unknown) => {
    assert.ok(error instanceof LoopauthError);
    assert.equal(error.code, "cancelled");
    assert.equal(error.message, "Cancelled: the input ended (Ctrl-D) before a line");
    return true;
  });
});

Deno.test("Ctrl-D after something was typed is ignored; Ctrl-C cancels", () => {
  const editor = hiddenLineEditor();
  assert.equal(editor.feed(bytes("ab\x04c\r")), "abc");
  assert.throws(() => hiddenLineEditor().feed(bytes("ab\x03")), /^LoopauthError: Cancelled$/);
});

Deno.test("readHiddenLine: prompt on stderr, raw mode on then off, no echo of the secret", async () => {
  const terminal = fakeTerminal(["s3cr", `et!${BACKSPACE}\r`]);
  const line = await readHiddenLine("Passphrase: ", terminal);
  assert.equal(line, "s3cret");
  assert.deepEqual(terminal.modes, [true, false]);
  assert.deepEqual(terminal.written, ["Passphrase: ", "\n"]);
});

Deno.test("readHiddenLine: Ctrl-D on an empty line rejects, and the terminal mode is restored", async () => {
  const terminal = fakeTerminal(["\x04"]);
  await assert.rejects(readHiddenLine("Client secret: ", terminal), /Ctrl-D/);
  assert.deepEqual(terminal.modes, [true, false]);
});

Deno.test("readHiddenLine: the end of input after a partial line returns it; before one rejects", async () => {
  assert.equal(await readHiddenLine("> ", fakeTerminal(["abc"])), "abc");
  await assert.rejects(readHiddenLine("> ", fakeTerminal([])), /Ctrl-D/);
});
