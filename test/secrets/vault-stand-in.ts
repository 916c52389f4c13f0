import { randomUUID } from "node:crypto";
import {
  createServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from "node:http";
import type { AddressInfo } from "node:net";

/** One request the stand-in received. */
export interface VaultRequest {
  method: string;
  /** The raw path, still percent-encoded. */
  path: string;
  token: string | undefined;
  namespace: string | undefined;
}

export interface VaultStandInOptions {
  token: string;
  /** When set, requests must carry this X-Vault-Namespace. */
  namespace?: string;
  /** Secrets by "mount/path": the KV v2 data map. */
  secrets: Record<string, Record<string, unknown>>;
}

/** A running stand-in for Vault's KV version 2 HTTP API. */
export interface VaultStandIn {
  addr: string;
  requests: VaultRequest[];
  /** Paths ("mount/path") whose requests are never answered. */
  hang: Set<string>;
  close(): Promise<void>;
}

/**
 * A stand-in for HashiCorp Vault's KV version 2 read API, on loopback:
 * `GET /v1/{mount}/data/{path}` with X-Vault-Token answers
 * `{ data: { data, metadata } }` as Vault does, 404 with `{"errors":[]}`
 * for a path with no secret, and 403 `permission denied` for a wrong
 * token (or namespace). Only the read of the latest version is spoken.
 */
export async function startVaultStandIn(
  options: VaultStandInOptions,
): Promise<VaultStandIn> {
  const requests: VaultRequest[] = [];
  const hang = new Set<string>();
  const hanging = new Set<ServerResponse>();
  const server: Server = createServer((req, res) => {
    const request = record(req);
    requests.push(request);
    const match = /^\/v1\/(.+?)\/data\/(.+)$/.exec(request.path);
    const where = match
      ? `${decodePath(match[1] ?? "")}/${decodePath(match[2] ?? "")}`
      : "";
    if (hang.has(where)) {
      hanging.add(res);
      return;
    }
    if (
      request.token !== options.token ||
      (options.namespace !== undefined &&
        request.namespace !== options.namespace)
    ) {
      return send(res, 403, { errors: ["permission denied"] });
    }
    const data = options.secrets[where];
    if (req.method !== "GET" || !match || data === undefined) {
      return send(res, 404, { errors: [] });
    }
    send(res, 200, kvResponse(data));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    addr: `http://127.0.0.1:${port}`,
    requests,
    hang,
    async close() {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function record(req: IncomingMessage): VaultRequest {
  const header = (name: string) => {
    const value = req.headers[name];
    return Array.isArray(value) ? value[0] : value;
  };
  return {
    method: req.method ?? "",
    path: req.url ?? "",
    token: header("x-vault-token"),
    namespace: header("x-vault-namespace"),
  };
}

function decodePath(path: string): string {
  return path.split("/").map(decodeURIComponent).join("/");
}

function kvResponse(data: Record<string, unknown>) {
  return {
    request_id: randomUUID(),
    lease_id: "",
    renewable: false,
    lease_duration: 0,
    data: {
      data,
      metadata: {
        created_time: new Date().toISOString(),
        custom_metadata: null,
        deletion_time: "",
        destroyed: false,
        version: 1,
      },
    },
    wrap_info: null,
    warnings: null,
    auth: null,
  };
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}
