import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

/** One request the stand-in received. */
export interface KubernetesRequest {
  method: string;
  path: string;
  authorization: string | undefined;
}

export interface KubernetesStandInOptions {
  /** The bearer token the API accepts. */
  token: string;
  /** Secrets by "namespace/name": their data, as plain text. */
  secrets: Record<string, Record<string, string>>;
}

/** A running stand-in for the Kubernetes core/v1 Secret API. */
export interface KubernetesStandIn {
  server: string;
  requests: KubernetesRequest[];
  /** Secrets ("namespace/name") whose reads are never answered. */
  hang: Set<string>;
  /** Writes a kubeconfig that points at the stand-in with `token`. */
  writeKubeconfig(path: string, token?: string): Promise<void>;
  close(): Promise<void>;
}

/**
 * A stand-in for the Kubernetes API server's Secret read, on loopback
 * over HTTPS with its own certificate authority (a self-signed
 * certificate for 127.0.0.1, made with openssl), as a cluster's API
 * server is reached: `GET /api/v1/namespaces/{ns}/secrets/{name}` with a
 * bearer token answers a v1 Secret whose `data` values are base64; a
 * missing Secret is a 404 Status (reason NotFound), a wrong token a 401
 * Status, as the real server answers them.
 */
export async function startKubernetesStandIn(
  options: KubernetesStandInOptions,
): Promise<KubernetesStandIn> {
  const tls = await selfSignedCertificate();
  const requests: KubernetesRequest[] = [];
  const hang = new Set<string>();
  const hanging = new Set<ServerResponse>();
  const server: Server = createServer(tls, (req, res) => {
    const request: KubernetesRequest = {
      method: req.method ?? "",
      path: req.url ?? "",
      authorization: header(req, "authorization"),
    };
    requests.push(request);
    if (request.authorization !== `Bearer ${options.token}`) {
      return send(res, 401, status(401, "Unauthorized", "Unauthorized"));
    }
    const path = new URL(request.path, "http://stand-in").pathname;
    const match = /^\/api\/v1\/namespaces\/([^/]+)\/secrets\/([^/]+)$/.exec(
      path,
    );
    const namespace = decodeURIComponent(match?.[1] ?? "");
    const name = decodeURIComponent(match?.[2] ?? "");
    if (hang.has(`${namespace}/${name}`)) {
      hanging.add(res);
      return;
    }
    const data = options.secrets[`${namespace}/${name}`];
    if (req.method !== "GET" || !match || data === undefined) {
      return send(
        res,
        404,
        status(404, "NotFound", `secrets "${name}" not found`, name),
      );
    }
    send(res, 200, secretObject(namespace, name, data));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const url = `https://127.0.0.1:${port}`;
  return {
    server: url,
    requests,
    hang,
    writeKubeconfig: (path, token = options.token) =>
      writeFile(path, kubeconfig(url, tls.cert, token), { mode: 0o600 }),
    async close() {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function secretObject(
  namespace: string,
  name: string,
  data: Record<string, string>,
) {
  return {
    kind: "Secret",
    apiVersion: "v1",
    metadata: {
      name,
      namespace,
      uid: "0b9e8f2a-0000-4000-8000-000000000001",
      resourceVersion: "1",
      creationTimestamp: "2026-01-01T00:00:00Z",
    },
    type: "Opaque",
    data: Object.fromEntries(
      Object.entries(data).map(([key, value]) => [
        key,
        Buffer.from(value, "utf8").toString("base64"),
      ]),
    ),
  };
}

function status(code: number, reason: string, message: string, name = "") {
  return {
    kind: "Status",
    apiVersion: "v1",
    metadata: {},
    status: "Failure",
    message,
    reason,
    details: name ? { name, kind: "secrets" } : undefined,
    code,
  };
}

/** A key and a self-signed certificate for 127.0.0.1, as PEM. */
async function selfSignedCertificate(): Promise<{ key: string; cert: string }> {
  const dir = await mkdtemp(join(tmpdir(), "deerflow-k8s-tls-"));
  try {
    await promisify(execFile)(
      "openssl",
      [
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-keyout",
        join(dir, "key.pem"),
        "-out",
        join(dir, "cert.pem"),
        "-days",
        "1",
        "-subj",
        "/CN=127.0.0.1",
        "-addext",
        "subjectAltName=IP:127.0.0.1",
      ],
      { timeout: 60_000 },
    );
    return {
      key: await readFile(join(dir, "key.pem"), "utf8"),
      cert: await readFile(join(dir, "cert.pem"), "utf8"),
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function kubeconfig(server: string, ca: string, token: string): string {
  return [
    "apiVersion: v1",
    "kind: Config",
    "clusters:",
    "  - name: stand-in",
    "    cluster:",
    `      server: ${server}`,
    `      certificate-authority-data: ${Buffer.from(ca).toString("base64")}`,
    "users:",
    "  - name: reader",
    "    user:",
    `      token: ${token}`,
    "contexts:",
    "  - name: stand-in",
    "    context:",
    "      cluster: stand-in",
    "      user: reader",
    "current-context: stand-in",
    "",
  ].join("\n");
}

function send(res: ServerResponse, code: number, body: unknown): void {
  res.writeHead(code, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}
