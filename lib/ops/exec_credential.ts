/**
 * Kubernetes' `ExecCredential`: what a kubectl exec credential plugin prints
 * (client.authentication.k8s.io), so that a stored account works as
 * kubectl's user, as kubelogin does.
 * @module
 */
import { LoopauthError } from "../core/errors.ts";
import type { TokenInfo } from "./token.ts";

/** The API versions of `ExecCredential` loopauth answers, newest first. */
export const EXEC_CREDENTIAL_VERSIONS: readonly string[] = [
  "client.authentication.k8s.io/v1",
  "client.authentication.k8s.io/v1beta1",
];

/** An `ExecCredential` object as kubectl reads it from a plugin's stdout. */
export interface ExecCredential {
  /** One of {@linkcode EXEC_CREDENTIAL_VERSIONS}: the one the kubeconfig names. */
  apiVersion: string;
  /** Always `ExecCredential`. */
  kind: "ExecCredential";
  /** The request as loopauth answered it: never interactive (it prompts for nothing). */
  spec: { interactive: false };
  /** The credential. */
  status: {
    /** The bearer token kubectl sends (`Authorization: Bearer …`). */
    token: string;
    /** RFC 3339 time the token expires, when it does: kubectl asks again after it. */
    expirationTimestamp?: string;
  };
}

/**
 * The `apiVersion` of kubectl's request, read from the JSON it passes in
 * `KUBERNETES_EXEC_INFO` (`undefined`: run by hand, so the newest); one
 * loopauth does not answer, or text that is no such JSON, is a `usage`
 * error naming the variable.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { execInfoVersion } from "./exec_credential.ts";
 * const info = '{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1beta1","spec":{}}';
 * assert.equal(execInfoVersion(info), "client.authentication.k8s.io/v1beta1");
 * assert.equal(execInfoVersion(undefined), "client.authentication.k8s.io/v1");
 * ```
 */
export function execInfoVersion(info: string | undefined): string {
  if (info === undefined || info.trim() === "") return EXEC_CREDENTIAL_VERSIONS[0];
  let version: unknown;
  try {
    version = JSON.parse(info)?.apiVersion;
  } catch {
    version = undefined;
  }
  if (typeof version === "string" && EXEC_CREDENTIAL_VERSIONS.includes(version)) return version;
  throw new LoopauthError(
    "usage",
    `KUBERNETES_EXEC_INFO asks for no ExecCredential version loopauth knows: set the exec plugin's apiVersion in the kubeconfig to ${
      EXEC_CREDENTIAL_VERSIONS.join(" or ")
    }`,
  );
}

/**
 * The `ExecCredential` of a token: its `expirationTimestamp` is the token's
 * expiry in RFC 3339 seconds (Go's `metav1.Time`), absent for a token that
 * does not expire, so kubectl caches it as long as it is valid and asks
 * loopauth again after that (which refreshes it).
 *
 * @throws {LoopauthError} as `getToken` does, and `usage` for a malformed `KUBERNETES_EXEC_INFO`
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { execCredential } from "./exec_credential.ts";
 * const credential = execCredential(
 *   { token: "gho_abc", expiresAt: "2026-01-02T03:04:05.678Z" },
 *   "client.authentication.k8s.io/v1",
 * );
 * assert.equal(credential.status.expirationTimestamp, "2026-01-02T03:04:05Z");
 * ```
 */
export function execCredential(
  info: Pick<TokenInfo, "token" | "expiresAt">,
  apiVersion: string = EXEC_CREDENTIAL_VERSIONS[0],
): ExecCredential {
  const expires = info.expiresAt === null ? undefined : new Date(info.expiresAt);
  return {
    apiVersion,
    kind: "ExecCredential",
    spec: { interactive: false },
    status: {
      token: info.token,
      ...(expires && Number.isFinite(expires.getTime())
        ? { expirationTimestamp: expires.toISOString().replace(/\.\d+Z$/, "Z") }
        : {}),
    },
  };
}
