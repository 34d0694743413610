/**
 * `token --exec-credential` as a kubectl exec credential plugin: a real
 * kubectl (Debian's `kubernetes-client`, `deno task setup`) reads a
 * kubeconfig whose user runs loopauth, and calls a 127.0.0.1 server the test
 * starts, which records the `Authorization` it got. Where no kubectl runs,
 * the output is checked against the published ExecCredential schema and the
 * suite prints `skipped: …` saying so.
 */
import assert from "node:assert/strict";
import { EXIT_CODES } from "../../lib/core/errors.ts";
import { childEnv, loginOnce, MAIN, runCli, runFlags, tempDir, withProvider } from "../helpers.ts";

const V1 = "client.authentication.k8s.io/v1";
const V1BETA1 = "client.authentication.k8s.io/v1beta1";

/** kubectl's client minor version, or why it cannot run. */
async function kubectlMinor(): Promise<number | string> {
  try {
    const { code, stdout } = await new Deno.Command("kubectl", {
      args: ["version", "--client", "-o", "json"],
      env: { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin", HOME: await tempDir("kh") },
      clearEnv: true,
      stdout: "piped",
      stderr: "null",
    }).output();
    if (code !== 0) return `kubectl version exited ${code}`;
    const minor = parseInt(JSON.parse(new TextDecoder().decode(stdout)).clientVersion.minor);
    return Number.isFinite(minor) ? minor : "kubectl named no version";
  } catch (error) {
    return error instanceof Deno.errors.NotFound
      ? "no kubectl (deno task setup installs Debian's kubernetes-client)"
      : `kubectl does not run: ${error}`;
  }
}

const KUBECTL = await kubectlMinor();
/** v1 came with kubectl 1.22; Debian 12's kubernetes-client (1.20) knows v1beta1. */
const VERSION = typeof KUBECTL === "number" && KUBECTL < 22 ? V1BETA1 : V1;
if (typeof KUBECTL === "string") {
  console.log(
    `skipped: kubectl against token --exec-credential (${KUBECTL}); its output is checked against the published ExecCredential schema instead`,
  );
}

/**
 * The published schema of `ExecCredential` (k8s.io/client-go
 * pkg/apis/clientauthentication/v1 and v1beta1 types.go) for a plugin's
 * output with a bearer token: the problems found, none when it conforms.
 */
function execCredentialProblems(value: unknown, apiVersion: string): string[] {
  const problems: string[] = [];
  const object = (v: unknown): v is Record<string, unknown> =>
    typeof v === "object" && v !== null && !Array.isArray(v);
  if (!object(value)) return ["not a JSON object"];
  const known = ["apiVersion", "kind", "spec", "status"];
  for (const key of Object.keys(value)) if (!known.includes(key)) problems.push(`unknown ${key}`);
  if (value.apiVersion !== apiVersion) problems.push(`apiVersion ${value.apiVersion}`);
  if (value.kind !== "ExecCredential") problems.push(`kind ${value.kind}`);
  if (value.spec !== undefined) {
    if (!object(value.spec)) problems.push("spec is no object");
    else if (value.spec.interactive !== undefined && typeof value.spec.interactive !== "boolean") {
      problems.push("spec.interactive is no boolean");
    }
  }
  if (!object(value.status)) return [...problems, "no status"];
  const statusKeys = ["expirationTimestamp", "token", "clientCertificateData", "clientKeyData"];
  for (const key of Object.keys(value.status)) {
    if (!statusKeys.includes(key)) problems.push(`unknown status.${key}`);
  }
  const { token, expirationTimestamp } = value.status;
  if (typeof token !== "string" || token === "") problems.push("status.token is no string");
  // metav1.Time: RFC 3339 (Go's time.RFC3339), UTC as the API server writes it.
  if (
    expirationTimestamp !== undefined &&
    !(typeof expirationTimestamp === "string" &&
      /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/.test(expirationTimestamp))
  ) problems.push(`status.expirationTimestamp ${expirationTimestamp}`);
  return problems;
}

const TLS = new URL("../fixtures/tls/", import.meta.url);

/**
 * A tiny API server on https://127.0.0.1 (the test CA's certificate: kubectl
 * sends no credential over plain http): records each request's Authorization.
 */
function apiServer() {
  const seen: (string | null)[] = [];
  const tls = {
    cert: Deno.readTextFileSync(new URL("server.pem", TLS)),
    key: Deno.readTextFileSync(new URL("server.key", TLS)),
  };
  const options = { hostname: "127.0.0.1", port: 0, onListen() {}, ...tls };
  const server = Deno.serve(options, (request) => {
    seen.push(request.headers.get("authorization"));
    if (request.headers.get("authorization") === null) {
      return Response.json({ kind: "Status", code: 401 }, { status: 401 });
    }
    return Response.json({
      kind: "APIVersions",
      versions: ["v1"],
      serverAddressByClientCIDRs: [{ clientCIDR: "0.0.0.0/0", serverAddress: "127.0.0.1:6443" }],
    });
  });
  return { server, seen, url: `https://127.0.0.1:${server.addr.port}` };
}

/** A kubeconfig whose user is loopauth's exec plugin for `host`. */
function kubeconfig(
  server: string,
  configHome: string,
  host: string,
  apiVersion: string,
  env: Record<string, string> = {},
): string {
  const command = [
    Deno.execPath(),
    "run",
    ...runFlags(`${configHome}/loopauth`),
    MAIN,
    "token",
    "--hostname",
    host,
    "--exec-credential",
  ];
  // JSON is YAML: no quoting rules to get wrong.
  return JSON.stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [{
      name: "dev",
      cluster: {
        server,
        "certificate-authority-data": btoa(Deno.readTextFileSync(new URL("ca.pem", TLS))),
      },
    }],
    users: [{
      name: "loopauth",
      user: {
        exec: {
          apiVersion,
          command: command[0],
          args: command.slice(1),
          env: Object.entries(childEnv(configHome, env)).map(([name, value]) => ({ name, value })),
          ...(apiVersion === V1 ? { interactiveMode: "Never" } : {}),
          provideClusterInfo: false,
        },
      },
    }],
    contexts: [{ name: "dev", context: { cluster: "dev", user: "loopauth" } }],
    "current-context": "dev",
  });
}

Deno.test("token --exec-credential: an ExecCredential of the published schema, with the token's expiry; --json names the token", async () => {
  await withProvider(async (provider, configHome) => {
    assert.equal((await loginOnce(provider, configHome, "--storage", "file")).code, 0);
    const host = ["--hostname", provider.origin];
    const json = await runCli(["token", ...host, "--json"], { configHome });
    assert.equal(json.code, 0, json.stderr);
    const info = JSON.parse(json.stdout);
    assert.deepEqual(Object.keys(info).sort(), [
      "expiresAt",
      "host",
      "login",
      "scopes",
      "source",
      "token",
      "tokenType",
    ]);
    assert.equal(info.host, provider.origin);
    assert.equal(info.login, "octocat");
    assert.equal(info.tokenType, "bearer");
    assert.equal(info.source, "file");
    assert.ok(Array.isArray(info.scopes));
    assert.ok(Date.parse(info.expiresAt) > Date.now(), info.expiresAt);
    assert.equal(info.token, (await runCli(["token", ...host], { configHome })).stdout.trim());

    for (
      const [version, env] of [[V1, {}], [V1, { KUBERNETES_EXEC_INFO: `{"apiVersion":"${V1}"}` }], [
        V1BETA1,
        { KUBERNETES_EXEC_INFO: `{"apiVersion":"${V1BETA1}","kind":"ExecCredential","spec":{}}` },
      ]] as const
    ) {
      const run = await runCli(["token", ...host, "--exec-credential"], { configHome, env });
      assert.equal(run.code, 0, run.stderr);
      const credential = JSON.parse(run.stdout);
      assert.deepEqual(execCredentialProblems(credential, version), []);
      assert.equal(credential.status.token, info.token);
      // The token's expiry, in whole seconds (never later than the token's).
      const expires = Date.parse(credential.status.expirationTimestamp);
      assert.ok(
        expires <= Date.parse(info.expiresAt) && expires > Date.parse(info.expiresAt) - 1000,
      );
    }

    const unknown = await runCli(["token", ...host, "--exec-credential"], {
      configHome,
      env: { KUBERNETES_EXEC_INFO: '{"apiVersion":"client.authentication.k8s.io/v1alpha1"}' },
    });
    assert.equal(unknown.code, EXIT_CODES.usage);
    assert.equal(
      unknown.stderr,
      `Error: KUBERNETES_EXEC_INFO asks for no ExecCredential version loopauth knows: set the exec plugin's apiVersion in the kubeconfig to ${V1} or ${V1BETA1}`,
    );
    const both = await runCli(["token", ...host, "--json", "--exec-credential"], { configHome });
    assert.equal(both.code, EXIT_CODES.usage);
    assert.equal(both.stderr, "Error: Give --json or --exec-credential, not both");
    // A token from the environment: no login or scopes known, and no expiry.
    const env = await runCli(["token", ...host, "--json"], {
      configHome,
      env: { LOOPAUTH_TOKEN: "env_token_1" },
    });
    assert.deepEqual(JSON.parse(env.stdout), {
      host: provider.origin,
      login: null,
      token: "env_token_1",
      tokenType: "bearer",
      expiresAt: null,
      scopes: null,
      source: "env",
      variable: "LOOPAUTH_TOKEN",
    });
    const envCredential = await runCli(["token", ...host, "--exec-credential"], {
      configHome,
      env: { LOOPAUTH_TOKEN: "env_token_1" },
    });
    assert.deepEqual(JSON.parse(envCredential.stdout).status, { token: "env_token_1" });
  }, { expiringTokens: { accessTtl: 3600, refreshTtl: 7200 } });
});

Deno.test({
  name:
    "kubectl runs token --exec-credential as its exec plugin and sends the token to the cluster",
  ignore: typeof KUBECTL === "string",
  async fn() {
    await withProvider(async (provider, configHome) => {
      assert.equal((await loginOnce(provider, configHome, "--storage", "file")).code, 0);
      const token = (await runCli(["token", "--hostname", provider.origin], { configHome }))
        .stdout.trim();
      const api = apiServer();
      try {
        const home = await tempDir("kube");
        const path = `${home}/kubeconfig`;
        await Deno.writeTextFile(path, kubeconfig(api.url, configHome, provider.origin, VERSION), {
          mode: 0o600,
        });
        const kubectl = (args: string[], config = path) =>
          new Deno.Command("kubectl", {
            args: ["--kubeconfig", config, ...args],
            env: { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin", HOME: home },
            clearEnv: true,
            stdin: "null",
            stdout: "piped",
            stderr: "piped",
          }).output().then(({ code, stdout, stderr }) => ({
            code,
            stdout: new TextDecoder().decode(stdout),
            stderr: new TextDecoder().decode(stderr),
          }));
        const view = await kubectl(["config", "view", "--raw", "-o", "json"]);
        assert.equal(view.code, 0, view.stderr);
        assert.equal(JSON.parse(view.stdout).users[0].user.exec.apiVersion, VERSION);
        const got = await kubectl(["get", "--raw", "/api"]);
        assert.equal(got.code, 0, got.stderr);
        assert.equal(JSON.parse(got.stdout).kind, "APIVersions");
        // Every request kubectl made carried the token the plugin printed.
        assert.ok(api.seen.length >= 1);
        assert.deepEqual(api.seen, api.seen.map(() => `Bearer ${token}`));
        assert.ok(!got.stderr.includes(token), "kubectl printed no token");

        // An account that is not logged in: loopauth's one line reaches kubectl's stderr, and
        // kubectl sends nothing with a credential.
        const seen = api.seen.length;
        const nobody = `${home}/nobody`;
        await Deno.writeTextFile(
          nobody,
          kubeconfig(api.url, configHome, provider.origin, VERSION, { LOOPAUTH_USER: "nobody" }),
          { mode: 0o600 },
        );
        const refused = await kubectl(["get", "--raw", "/api"], nobody);
        assert.notEqual(refused.code, 0);
        assert.match(
          refused.stderr,
          /^Error: LOOPAUTH_USER names nobody, who is not logged in to http:\/\/127\.0\.0\.1:\d+: set LOOPAUTH_USER to octocat, or unset LOOPAUTH_USER$/m,
        );
        assert.ok(api.seen.slice(seen).every((auth) => auth === null), "no credential was sent");
      } finally {
        await api.server.shutdown();
      }
    }, { expiringTokens: { accessTtl: 3600, refreshTtl: 7200 } });
  },
});
