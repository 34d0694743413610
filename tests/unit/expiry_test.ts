/** `describeExpiry`: how `status` shows an expiry to people. */
import assert from "node:assert/strict";
import { describeExpiry } from "../../lib/core/expiry.ts";

Deno.test("describeExpiry: the two largest units, then the minute in UTC; past times say ago", () => {
  const now = Date.parse("2026-12-06T13:40:30Z");
  const cases: [string, string][] = [
    ["2026-12-06T21:40:00Z", "expires in 7h 59m (2026-12-06 21:40 UTC)"],
    ["2026-12-06T14:40:30Z", "expires in 1h (2026-12-06 14:40 UTC)"],
    ["2026-12-06T13:41:10Z", "expires in 40s (2026-12-06 13:41 UTC)"],
    ["2027-06-06T13:40:30Z", "expires in 182d (2027-06-06 13:40 UTC)"],
    ["2026-12-08T16:00:30Z", "expires in 2d 2h (2026-12-08 16:00 UTC)"],
    ["2026-12-06T13:37:30Z", "expired 3m ago (2026-12-06 13:37 UTC)"],
    ["2026-12-06T13:40:30Z", "expired 0s ago (2026-12-06 13:40 UTC)"],
    ["no time\x1b[2J", "expires no time [2J"],
  ];
  for (const [time, shown] of cases) assert.equal(describeExpiry(time, now), shown, time);
});
