import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Files of a throwaway certificate authority and a server certificate it signed. */
export interface TlsFiles {
  dir: string;
  caFile: string;
  certFile: string;
  keyFile: string;
}

/**
 * A throwaway CA and a certificate for `localhost` (and 127.0.0.1), made with the openssl CLI,
 * for a TLS redis-server in tests. Clients trust the CA through NODE_EXTRA_CA_CERTS.
 */
export function makeTlsCertificates(): TlsFiles {
  const dir = mkdtempSync(join(tmpdir(), "notify-tls-"));
  const path = (name: string) => join(dir, name);
  const openssl = (...args: string[]) => execFileSync("openssl", args, { stdio: "pipe" });

  openssl(
    ...["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"],
    ...["-subj", "/CN=notify test CA", "-keyout", path("ca.key"), "-out", path("ca.pem")],
  );
  openssl(
    ...["req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost"],
    ...["-keyout", path("server.key"), "-out", path("server.csr")],
  );
  writeFileSync(path("san.ext"), "subjectAltName=DNS:localhost,IP:127.0.0.1\n");
  openssl(
    ...["x509", "-req", "-in", path("server.csr"), "-CA", path("ca.pem"), "-CAkey", path("ca.key")],
    ...["-CAcreateserial", "-days", "1", "-extfile", path("san.ext"), "-out", path("server.pem")],
  );
  return { dir, caFile: path("ca.pem"), certFile: path("server.pem"), keyFile: path("server.key") };
}
