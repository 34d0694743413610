/** README's development map is the real tree: every folder it names exists, and none is missing. */
import assert from "node:assert/strict";
import { ROOT } from "../helpers.ts";

/** The folders of the map in README's Development section (`lib/cli/`, `tests/unit/`, …). */
async function mappedFolders(): Promise<Set<string>> {
  const readme = await Deno.readTextFile(`${ROOT}/README.md`);
  const section = readme.slice(readme.indexOf("## Development"));
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

Deno.test("README's development map names every folder of lib/, tests/ and scripts/, and only those", async () => {
  const mapped = await mappedFolders();
  const real = await realFolders();
  for (const folder of mapped) {
    const exists = await Deno.stat(`${ROOT}/${folder}`).then((s) => s.isDirectory, () => false);
    assert.ok(exists, `README maps ${folder}, which does not exist`);
  }
  for (const folder of real) assert.ok(mapped.has(folder), `README's map misses ${folder}`);
});
