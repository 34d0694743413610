/**
 * `main.ts` as the CLI runs it, then one more stderr line with this
 * process's step counts (lib/core/step_counts.ts): `steps {"host_resolved":1,…}`.
 * A CLI test counts a run's steps with it (`Cli`'s `command` option).
 * @module
 */
import { main } from "../../main.ts";
import { stepCounts } from "../../lib/core/step_counts.ts";

const code = await main(Deno.args);
console.error(`steps ${JSON.stringify(stepCounts())}`);
Deno.exit(code);
