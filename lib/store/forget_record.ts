/**
 * Forgetting a keyed record of the config file (a resource account, a
 * registration) and then its secret, under the config directory's lock.
 * @module
 */
import { type Config, readConfig, writeConfig } from "./config.ts";

/** The keyed sections of the config file besides `hosts`. */
export type ConfigSection = "resources" | "registrations";

/** A record of a {@linkcode ConfigSection}. */
export type SectionRecord<S extends ConfigSection> = NonNullable<Config[S]>[string];

/** Options of {@linkcode forgetRecord}. */
export interface ForgetRecordOptions<S extends ConfigSection> {
  /** The config directory. */
  dir: string;
  /** Forget the record only if this says so (default: whatever it is). */
  only?: (record: SectionRecord<S>) => boolean;
  /** Forgets the record's secret, once the record is gone from the config file. */
  forgetSecret: (record: SectionRecord<S>) => Promise<unknown>;
}

/**
 * Under the lock: removes the record `key` of the config's `section`, writes
 * the file, then forgets the record's secret; true when there was a record
 * that `only` (if given) accepts (nothing is written or forgotten otherwise).
 *
 * @example
 * ```ts ignore
 * import { forgetRecord } from "./forget_record.ts";
 * await forgetRecord("resources", "https://mcp.example.com/mcp", {
 *   dir: "/tmp/loopauth",
 *   forgetSecret: async (record) => console.log(record.storage),
 * });
 * ```
 */
export async function forgetRecord<S extends ConfigSection>(
  section: S,
  key: string,
  options: ForgetRecordOptions<S>,
): Promise<boolean> {
  // The lock, only for writes: a read loads none of its code.
  const { withLock } = await import("./lock.ts");
  return await withLock(options.dir, async () => {
    const config = readConfig(options.dir);
    const records = config[section] as Record<string, SectionRecord<S>> | undefined;
    if (!records || !Object.hasOwn(records, key)) return false;
    const removed = records[key];
    if (options.only && !options.only(removed)) return false;
    delete records[key];
    await writeConfig(config, options.dir);
    await options.forgetSecret(removed);
    return true;
  });
}
