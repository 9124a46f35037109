// Certificates made for a test run with the openssl CLI: a CA, a server certificate for
// 127.0.0.1 / localhost signed by it, and a client certificate for mutual TLS.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

export interface TestCerts {
  /** Folder holding the PEM files (ca.pem, server.pem, server-key.pem, client.pem, client-key.pem). */
  dir: string;
  ca: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  /** A second CA that signed nothing here: trusting it alone must fail verification. */
  otherCa: string;
  remove(): void;
}

function openssl(dir: string, args: string[]): void {
  execFileSync("openssl", args, { cwd: dir, stdio: "pipe" });
}

function makeCa(dir: string, name: string): void {
  openssl(dir, [
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-days",
    "2",
    "-subj",
    `/CN=${name}`,
    "-keyout",
    `${name}-key.pem`,
    "-out",
    `${name}.pem`,
  ]);
}

function makeSigned(dir: string, name: string, ca: string, extensions: string): void {
  writeFileSync(path.join(dir, `${name}.ext`), extensions);
  openssl(dir, ["req", "-newkey", "rsa:2048", "-nodes", "-subj", `/CN=${name}`, "-keyout", `${name}-key.pem`, "-out", `${name}.csr`]);
  openssl(dir, [
    "x509",
    "-req",
    "-in",
    `${name}.csr`,
    "-CA",
    `${ca}.pem`,
    "-CAkey",
    `${ca}-key.pem`,
    "-CAcreateserial",
    "-days",
    "2",
    "-extfile",
    `${name}.ext`,
    "-out",
    `${name}.pem`,
  ]);
}

export function makeTestCerts(): TestCerts {
  const dir = mkdtempSync(path.join(tmpdir(), "agent-callback-certs-"));
  makeCa(dir, "ca");
  makeCa(dir, "other-ca");
  makeSigned(dir, "server", "ca", "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n");
  makeSigned(dir, "client", "ca", "extendedKeyUsage=clientAuth\n");
  const read = (file: string): string => readFileSync(path.join(dir, file), "utf8");
  return {
    dir,
    ca: read("ca.pem"),
    serverCert: read("server.pem"),
    serverKey: read("server-key.pem"),
    clientCert: read("client.pem"),
    clientKey: read("client-key.pem"),
    otherCa: read("other-ca.pem"),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
