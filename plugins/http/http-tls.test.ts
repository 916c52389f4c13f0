import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TLSSocket } from "node:tls";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NonRetryableError, pluginSdk } from "../../plugin-sdk/index.js";
import { runPlugin } from "../../plugin-sdk/testing.js";
import type { HttpConfig, HttpTlsConfig } from "./http-config.js";
import { httpPlugin } from "./http-plugin.js";
import {
  type LoopbackServer,
  type Route,
  startLoopbackServer,
} from "./loopback-server.js";

const run = promisify(execFile);
const http = httpPlugin(pluginSdk);

let dir: string;
/** Paths of the PEM files made for the test. */
const pem = (name: string) => join(dir, name);

/**
 * A CA, a server certificate for the name deerflow.test (not for
 * 127.0.0.1, so the server name setting is what makes it match) and a
 * client certificate, all made by openssl in a temporary directory.
 */
async function makeCertificates(): Promise<void> {
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"];
  const openssl = (...args: string[]) => run("openssl", args, { cwd: dir });
  await openssl(
    ...["req", "-x509", ...ec, "-nodes", "-days", "2"],
    ...[
      "-keyout",
      "ca.key",
      "-out",
      "ca.pem",
      "-subj",
      "/CN=Deer Flow Test CA",
    ],
    ...["-addext", "basicConstraints=critical,CA:TRUE"],
    ...["-addext", "keyUsage=critical,keyCertSign,cRLSign"],
  );
  const leaf = async (name: string, cn: string, extensions: string) => {
    await writeFile(pem(`${name}.ext`), extensions);
    await openssl(
      ...["req", ...ec, "-nodes", "-keyout", `${name}.key`],
      ...["-out", `${name}.csr`, "-subj", `/CN=${cn}`],
    );
    await openssl(
      ...["x509", "-req", "-in", `${name}.csr`, "-days", "2"],
      ...["-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial"],
      ...["-out", `${name}.pem`, "-extfile", `${name}.ext`],
    );
  };
  await leaf(
    "server",
    "deerflow.test",
    "subjectAltName=DNS:deerflow.test\nextendedKeyUsage=serverAuth\n",
  );
  await leaf("client", "deerflow-agent", "extendedKeyUsage=clientAuth\n");
}

let server: LoopbackServer;
let mutual: LoopbackServer;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "deerflow-http-tls-"));
  await makeCertificates();
  const cert = await readFile(pem("server.pem"), "utf8");
  const key = await readFile(pem("server.key"), "utf8");
  const ca = await readFile(pem("ca.pem"), "utf8");
  const hello: Record<string, Route> = {
    "/hello": (_req, res) => {
      res.setHeader("content-type", "application/json");
      res.end('{"hello":"tls"}');
    },
  };
  server = await startLoopbackServer(hello, { cert, key });
  mutual = await startLoopbackServer(
    {
      "/whoami": (req, res) => {
        const peer = (req.socket as TLSSocket).getPeerCertificate();
        res.end(String(peer.subject?.CN ?? ""));
      },
    },
    { cert, key, ca, requestCert: true },
  );
}, 60_000);

afterAll(async () => {
  await Promise.all([server?.close(), mutual?.close()]);
  await rm(dir, { recursive: true, force: true });
});

function get(base: string, path: string, tls?: HttpTlsConfig) {
  const config: HttpConfig = { url: base + path, ...(tls ? { tls } : {}) };
  return runPlugin(http, { config });
}

describe("http plugin TLS", () => {
  it("trusts a CA file and checks the certificate against server_name", async () => {
    const result = await get(server.base, "/hello", {
      ca: pem("ca.pem"),
      server_name: "deerflow.test",
    });
    expect(result.outcome).toBe("success");
    expect(result.output.body).toEqual({ hello: "tls" });
  });

  it("takes the CA as PEM text too", async () => {
    const result = await get(server.base, "/hello", {
      ca: await readFile(pem("ca.pem"), "utf8"),
      server_name: "deerflow.test",
    });
    expect(result.outcome).toBe("success");
  });

  it("refuses a certificate for another name, without retries", async () => {
    const result = await get(server.base, "/hello", { ca: pem("ca.pem") });
    expect(result.error).toBeInstanceOf(NonRetryableError);
    expect(result.error?.message).toMatch(
      /^TLS: the server's certificate was rejected \(ERR_TLS_CERT_ALTNAME_INVALID/,
    );
  });

  it("refuses a certificate from a CA it was not given", async () => {
    const result = await get(server.base, "/hello", {
      server_name: "deerflow.test",
    });
    expect(result.error).toBeInstanceOf(NonRetryableError);
    expect(result.error?.message).toMatch(
      /certificate was rejected \((UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT_LOCALLY)/,
    );
  });

  it("accepts any certificate with insecure_skip_verify, and warns", async () => {
    const result = await get(server.base, "/hello", {
      insecure_skip_verify: true,
    });
    expect(result.outcome).toBe("success");
    expect(result.lines).toContainEqual(
      expect.objectContaining({
        level: "warn",
        message: "tls.insecure_skip_verify is set: certificates unchecked",
      }),
    );
  });

  it("presents a client certificate for mutual TLS", async () => {
    const trust = { ca: pem("ca.pem"), server_name: "deerflow.test" };
    const refused = await get(mutual.base, "/whoami", trust);
    expect(refused.outcome).toBe("failed");
    expect(refused.error?.message).toMatch(/^request failed: /);
    const result = await get(mutual.base, "/whoami", {
      ...trust,
      cert: pem("client.pem"),
      key: pem("client.key"),
    });
    expect(result.outcome).toBe("success");
    expect(result.output.body).toBe("deerflow-agent");
  });

  it("names the TLS field that cannot be used", async () => {
    const missing = await get(server.base, "/hello", {
      ca: join(dir, "nope.pem"),
    });
    expect(missing.error).toBeInstanceOf(NonRetryableError);
    expect(missing.error?.message).toMatch(
      /^config\.tls\.ca: is neither PEM text nor a readable file \(.*nope\.pem: ENOENT\)$/,
    );
    const notPem = await get(server.base, "/hello", {
      ca: pem("server.ext"),
    });
    expect(notPem.error?.message).toMatch(
      /^config\.tls\.ca: the file .* holds no PEM block$/,
    );
    const mismatched = await get(mutual.base, "/whoami", {
      cert: pem("client.pem"),
      key: pem("server.key"),
    });
    expect(mismatched.error).toBeInstanceOf(NonRetryableError);
    expect(mismatched.error?.message).toMatch(
      /^config\.tls\.cert: cannot be used: /,
    );
    const lonely = await get(server.base, "/hello", {
      cert: pem("client.pem"),
    });
    expect(lonely.error?.message).toBe(
      "config.tls.key: is required: cert and key go together",
    );
  });
});
