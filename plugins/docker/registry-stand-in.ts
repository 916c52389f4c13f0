/**
 * A stand-in for a Docker registry, for tests: no registry is reachable
 * here, and tests may aim at nothing but loopback. It speaks the part of
 * the Registry HTTP API v2 that `docker pull` uses (the version check,
 * manifests by tag or digest, blobs by digest) over plain HTTP on
 * 127.0.0.1, which the engine treats as an insecure registry by default.
 * It serves one image made from a root filesystem tarball, and answers
 * everything else with the registry's own "unknown" errors. It can also
 * hang every blob download, to test a pull that is cancelled.
 */
import { createHash, randomUUID } from "node:crypto";
import { readFile } from "node:fs/promises";
import {
  createServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from "node:http";
import type { AddressInfo } from "node:net";
import { gzipSync } from "node:zlib";

const MANIFEST_TYPE = "application/vnd.docker.distribution.manifest.v2+json";
const CONFIG_TYPE = "application/vnd.docker.container.image.v1+json";
const LAYER_TYPE = "application/vnd.docker.image.rootfs.diff.tar.gzip";

/** Options of {@link startRegistryStandIn}. */
export interface RegistryStandInOptions {
  /** The uncompressed root filesystem of the one image. */
  rootfsTar: string;
  /** Its repository, for example "deerflow/busybox". */
  repository: string;
  /** Its tag, for example "1". */
  tag: string;
  /**
   * Never answer blob requests (the connection stays open until close),
   * so a pull hangs mid-way: for testing a cancelled pull.
   */
  stallBlobs?: boolean;
}

/** A running stand-in registry. */
export interface RegistryStandIn {
  /** "127.0.0.1:PORT", the registry part of an image reference. */
  address: string;
  /** Every request path it saw, in order (for asserting a pull). */
  requests: string[];
  close(): Promise<void>;
}

interface Blob {
  type: string;
  body: Buffer;
}

/** Starts the stand-in on an ephemeral loopback port. */
export async function startRegistryStandIn(
  options: RegistryStandInOptions,
): Promise<RegistryStandIn> {
  const blobs = await imageBlobs(options.rootfsTar);
  const requests: string[] = [];
  const server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    serve(req, res, options, blobs);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    address: `127.0.0.1:${port}`,
    requests,
    close: () => closeServer(server),
  };
}

/** The manifest, config and layer, keyed by digest ("manifest" too). */
async function imageBlobs(rootfsTar: string): Promise<Map<string, Blob>> {
  const tar = await readFile(rootfsTar);
  const layer = gzipSync(tar);
  const config = Buffer.from(
    JSON.stringify({
      architecture: "amd64",
      os: "linux",
      config: { Env: ["PATH=/bin"], Cmd: ["/bin/sh"] },
      rootfs: { type: "layers", diff_ids: [digestOf(tar)] },
      // Unique per stand-in: an engine that pulled from another one must
      // still fetch this image's config, rather than reuse what it has.
      history: [{ created_by: `registry stand-in ${randomUUID()}` }],
    }),
  );
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MANIFEST_TYPE,
      config: {
        mediaType: CONFIG_TYPE,
        size: config.length,
        digest: digestOf(config),
      },
      layers: [
        { mediaType: LAYER_TYPE, size: layer.length, digest: digestOf(layer) },
      ],
    }),
  );
  return new Map([
    ["manifest", { type: MANIFEST_TYPE, body: manifest }],
    [digestOf(manifest), { type: MANIFEST_TYPE, body: manifest }],
    [digestOf(config), { type: CONFIG_TYPE, body: config }],
    [digestOf(layer), { type: "application/octet-stream", body: layer }],
  ]);
}

function serve(
  req: IncomingMessage,
  res: ServerResponse,
  options: RegistryStandInOptions,
  blobs: Map<string, Blob>,
): void {
  res.setHeader("Docker-Distribution-API-Version", "registry/2.0");
  const path = new URL(req.url ?? "/", "http://stand-in").pathname;
  if (path === "/v2/" || path === "/v2") {
    send(req, res, 200, "application/json", Buffer.from("{}"));
    return;
  }
  const match = /^\/v2\/(.+)\/(manifests|blobs)\/([^/]+)$/.exec(path);
  if (match === null || match[1] !== options.repository) {
    unknown(req, res, "NAME_UNKNOWN", "repository name not known");
    return;
  }
  const [, , kind = "", reference = ""] = match;
  if (kind === "blobs" && options.stallBlobs) return;
  const key =
    kind === "manifests" && reference === options.tag ? "manifest" : reference;
  const blob = blobs.get(key);
  if (blob === undefined) {
    const code = kind === "manifests" ? "MANIFEST_UNKNOWN" : "BLOB_UNKNOWN";
    unknown(req, res, code, `${kind.slice(0, -1)} unknown`);
    return;
  }
  res.setHeader("Docker-Content-Digest", digestOf(blob.body));
  send(req, res, 200, blob.type, blob.body);
}

function unknown(
  req: IncomingMessage,
  res: ServerResponse,
  code: string,
  message: string,
): void {
  const body = JSON.stringify({ errors: [{ code, message, detail: null }] });
  send(req, res, 404, "application/json", Buffer.from(body));
}

function send(
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  type: string,
  body: Buffer,
): void {
  res.writeHead(status, {
    "Content-Type": type,
    "Content-Length": String(body.length),
  });
  res.end(req.method === "HEAD" ? undefined : body);
}

function digestOf(data: Buffer): string {
  return `sha256:${createHash("sha256").update(data).digest("hex")}`;
}

function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve, reject) =>
    server.close((error) => (error ? reject(error) : resolve())),
  );
}
