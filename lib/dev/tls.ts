/**
 * The built-in provider's TLS certificate, made at start by `openssl` (the
 * well-kept tool for it, installed nearly everywhere): a CA of its own that
 * may vouch only for 127.0.0.1 and localhost (X.509 name constraints), and a
 * server certificate it signed. The CA's key is deleted once the server
 * certificate is signed, so nothing else can ever be signed by the CA a
 * client was told to trust.
 * @module
 */

/** The server's certificate and key (PEM) and the CA file clients trust. */
export interface DevCertificate {
  cert: string;
  key: string;
  /** The CA certificate's PEM file (`SSL_CERT_FILE`, `DENO_CERT`, `NODE_EXTRA_CA_CERTS`). */
  caFile: string;
}

/** How long the certificates are valid, in days. */
const DAYS = "7";

/**
 * Makes a CA and a server certificate for 127.0.0.1 in `dir` (synchronously:
 * the server needs them before it listens).
 *
 * @example
 * ```ts ignore
 * import { makeCertificate } from "./tls.ts";
 * const dir = Deno.makeTempDirSync();
 * const { cert, key, caFile } = makeCertificate(dir);
 * Deno.serve({ hostname: "127.0.0.1", port: 0, cert, key }, () => new Response("ok"));
 * console.log(`trust ${caFile}`);
 * ```
 */
export function makeCertificate(dir: string): DevCertificate {
  const caKey = `${dir}/ca-key.pem`;
  const caFile = `${dir}/ca.pem`;
  const keyFile = `${dir}/key.pem`;
  const certFile = `${dir}/cert.pem`;
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", DAYS];
  try {
    openssl([
      "req",
      "-x509",
      ...ec,
      "-keyout",
      caKey,
      "-out",
      caFile,
      "-subj",
      "/CN=loopauth dev-server CA",
      "-addext",
      "basicConstraints=critical,CA:TRUE,pathlen:0",
      "-addext",
      "keyUsage=critical,keyCertSign",
      "-addext",
      "nameConstraints=critical,permitted;IP:127.0.0.1/255.255.255.255,permitted;DNS:localhost",
    ]);
    openssl([
      "req",
      "-x509",
      ...ec,
      "-CA",
      caFile,
      "-CAkey",
      caKey,
      "-keyout",
      keyFile,
      "-out",
      certFile,
      "-subj",
      "/CN=127.0.0.1",
      "-addext",
      "subjectAltName=IP:127.0.0.1,DNS:localhost",
      "-addext",
      "basicConstraints=critical,CA:FALSE",
      "-addext",
      "keyUsage=critical,digitalSignature",
      "-addext",
      "extendedKeyUsage=serverAuth",
    ]);
    return {
      cert: Deno.readTextFileSync(certFile),
      key: Deno.readTextFileSync(keyFile),
      caFile,
    };
  } finally {
    for (const file of [caKey, keyFile, certFile]) {
      try {
        Deno.removeSync(file);
      } catch { /* not made */ }
    }
  }
}

function openssl(args: string[]): void {
  let output: Deno.CommandOutput;
  try {
    output = new Deno.Command("openssl", { args, stdin: "null", stdout: "null", stderr: "piped" })
      .outputSync();
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new Error(
        "https needs openssl to make its certificate: install it (Debian: apt install openssl)",
        { cause: error },
      );
    }
    throw error;
  }
  if (!output.success) {
    const line = new TextDecoder().decode(output.stderr).split("\n").find((l) => l.trim()) ?? "";
    throw new Error(`openssl ${args[0]} failed (exit ${output.code}): ${line.trim()}`);
  }
}
