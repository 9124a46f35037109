// A self-signed CA with a server certificate (for 127.0.0.1 and localhost) and a client
// certificate, made with the openssl CLI in a temporary folder for tests of HTTPS and mutual TLS.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

export interface TestPki {
  dir: string;
  /** PEM texts. */
  ca: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  /** A second CA that signed nothing here: trusting it alone must fail verification. */
  otherCa: string;
  /** The same as files (tls-config's cert/key/ca properties take paths). */
  files: { ca: string; serverCert: string; serverKey: string; clientCert: string; clientKey: string };
  cleanup(): void;
}

function openssl(dir: string, args: string[]): void {
  execFileSync("openssl", args, { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
}

/** Issues `name`'s key and certificate signed by the CA in `dir`, with `extensions` (an openssl extfile section). */
function issue(dir: string, name: string, subject: string, extensions: string): void {
  writeFileSync(path.join(dir, `${name}.ext`), extensions);
  openssl(dir, ["req", "-newkey", "rsa:2048", "-nodes", "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", subject]);
  openssl(dir, [
    "x509",
    "-req",
    "-in",
    `${name}.csr`,
    "-CA",
    "ca.crt",
    "-CAkey",
    "ca.key",
    "-CAcreateserial",
    "-out",
    `${name}.crt`,
    "-days",
    "2",
    "-sha256",
    "-extfile",
    `${name}.ext`,
  ]);
}

/** A self-signed CA: `name`.key and `name`.crt. */
function makeCa(dir: string, name: string, subject: string): void {
  openssl(dir, [
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-keyout",
    `${name}.key`,
    "-out",
    `${name}.crt`,
    "-days",
    "2",
    "-subj",
    subject,
  ]);
}

export function makeTestPki(): TestPki {
  const dir = mkdtempSync(path.join(tmpdir(), "cb-pki-"));
  makeCa(dir, "ca", "/CN=callback test CA");
  makeCa(dir, "other-ca", "/CN=another test CA");
  issue(dir, "server", "/CN=localhost", "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n");
  issue(dir, "client", "/CN=agent platform", "extendedKeyUsage=clientAuth\n");
  const files = {
    ca: path.join(dir, "ca.crt"),
    serverCert: path.join(dir, "server.crt"),
    serverKey: path.join(dir, "server.key"),
    clientCert: path.join(dir, "client.crt"),
    clientKey: path.join(dir, "client.key"),
  };
  const read = (file: string): string => readFileSync(file, "utf8");
  return {
    dir,
    ca: read(files.ca),
    serverCert: read(files.serverCert),
    serverKey: read(files.serverKey),
    clientCert: read(files.clientCert),
    clientKey: read(files.clientKey),
    otherCa: read(path.join(dir, "other-ca.crt")),
    files,
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
