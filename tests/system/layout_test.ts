/** The development map (docs/development.md) is the real tree: every folder it names exists, and none is missing. */
import assert from "node:assert/strict";
import { ROOT } from "../helpers.ts";

/** The folders of the map in docs/development.md's "The tree" (`lib/cli/`, `tests/unit/`, …). */
async function mappedFolders(): Promise<Set<string>> {
  const doc = await Deno.readTextFile(`${ROOT}/docs/development.md`);
  assert.ok(doc.includes("## The tree"), "docs/development.md has the tree");
  const section = doc.slice(doc.indexOf("## The tree"));
  const map = /```\n([^]*?)```/.exec(section)?.[1] ?? "";
  return new Set(
    map.split("\n").map((line) => line.split(/\s+/)[0]).filter((path) => path.endsWith("/")),
  );
}

/** The folders that must be in the map: those of lib/, tests/ and scripts/, one level down. */
async function realFolders(): Promise<Set<string>> {
  const folders = new Set<string>();
  for (const top of ["lib", "tests", "scripts"]) {
    for await (const entry of Deno.readDir(`${ROOT}/${top}`)) {
      if (entry.isDirectory) folders.add(`${top}/${entry.name}/`);
    }
  }
  return folders;
}

Deno.test("the development map names every folder of lib/, tests/ and scripts/, and only those", async () => {
  const mapped = await mappedFolders();
  const real = await realFolders();
  for (const folder of mapped) {
    const exists = await Deno.stat(`${ROOT}/${folder}`).then((s) => s.isDirectory, () => false);
    assert.ok(exists, `docs/development.md maps ${folder}, which does not exist`);
  }
  for (const folder of real) {
    assert.ok(mapped.has(folder), `docs/development.md's map misses ${folder}`);
  }
});
