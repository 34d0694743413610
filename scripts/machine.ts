/**
 * What this machine lets the bench judge. A goal is a ratio against a peer in
 * another runtime (Go's `gh`, Python), so it also measures the runtimes' own
 * start-up, and where a page fault is slow (a VM with shadow paging: tens of
 * microseconds where usual hardware takes well under one) Deno's start-up
 * weighs more than the peer's. Each whole-process goal is therefore printed
 * beside its floor: the same work in plain Deno with no line of loopauth
 * (an empty module, `scripts/peers/deno_flow.ts`, `scripts/peers/deno_server.ts`).
 * When the floor alone misses the goal, the verdict says so: no change to
 * loopauth can meet that goal on this machine (docs/performance.md).
 * @module
 */

/**
 * The cost of a first-touch page fault here, µs: pages of a fresh buffer
 * written once (each faults) less the same writes again (none fault).
 *
 * @example
 * ```ts ignore
 * import { pageFaultMicros } from "./machine.ts";
 * console.log(`${pageFaultMicros().toFixed(1)} µs per page fault`);
 * ```
 */
export function pageFaultMicros(pages = 8192): number {
  const samples: number[] = [];
  for (let round = 0; round < 3; round++) {
    const started = performance.now();
    const buffer = new Uint8Array(pages * 4096);
    for (let i = 0; i < buffer.length; i += 4096) buffer[i] = 1;
    const touched = performance.now();
    for (let i = 0; i < buffer.length; i += 4096) buffer[i] = 2;
    const again = performance.now();
    samples.push(((touched - started) - (again - touched)) * 1000 / pages);
  }
  return Math.min(...samples);
}

/** The line each whole-process bench prints first. */
export function machineLine(): string {
  return `this machine: a first-touch page fault costs ${
    pageFaultMicros().toFixed(1)
  } µs (usual hardware and VMs: under 1 µs; where it is far more, process start-up dominates every figure)`;
}

/**
 * A goal's floor: the same work in plain Deno, as a figure on the goal's
 * scale. Its best run is the figure (its fastest against the peer's median),
 * so that noise never makes a goal look out of reach.
 */
export interface Floor {
  /** What ran, e.g. "the same flow in plain Deno". */
  name: string;
  /** Its best run's figure, on the same scale as the goal. */
  figure: number;
}

/**
 * "met", "not met", or, when the floor alone misses the goal even at its
 * best, "not met; out of reach on this machine: NAME at its best is already FIGURE".
 *
 * @example
 * ```ts
 * import { verdict } from "./machine.ts";
 * verdict(0.49, 0.5); // "met"
 * verdict(0.9, 0.5, { name: "an empty deno run", figure: 0.65 }, (v) => `${v}×`);
 * // "not met; out of reach on this machine: an empty deno run at its best is already 0.65×"
 * ```
 */
export function verdict(
  figure: number,
  goal: number,
  floor?: Floor,
  format: (value: number) => string = String,
): string {
  if (figure <= goal) return "met";
  if (floor && floor.figure > goal) {
    return `not met; out of reach on this machine: ${floor.name} at its best is already ${
      format(floor.figure)
    }`;
  }
  return "not met";
}
