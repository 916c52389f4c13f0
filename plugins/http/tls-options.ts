import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { createSecureContext } from "node:tls";
import type { HttpTlsConfig } from "./http-config.js";
import { HttpConfigError } from "./http-config-error.js";

/** The TLS options of an https request, as node:https takes them. */
export interface TlsOptions {
  ca?: string;
  cert?: string;
  key?: string;
  rejectUnauthorized: boolean;
  servername?: string;
}

const PEM_BLOCK = /-----BEGIN [A-Z0-9 ]+-----/;
const MAX_PATH_CHARS = 1_024;

/**
 * Turns the `tls` config into request options: each of ca, cert and key
 * is PEM text or a file to read, and they are tried out at once, so a
 * bad file fails with its field named instead of at the handshake.
 * Server names are checked against the certificate unless
 * `insecure_skip_verify` is set.
 */
export async function resolveTlsOptions(
  config: HttpTlsConfig | undefined,
): Promise<TlsOptions> {
  const options: TlsOptions = {
    rejectUnauthorized: config?.insecure_skip_verify !== true,
  };
  if (config === undefined) return options;
  if ((config.cert === undefined) !== (config.key === undefined)) {
    const missing = config.cert === undefined ? "cert" : "key";
    throw new HttpConfigError(
      `config.tls.${missing}`,
      "is required: cert and key go together",
    );
  }
  if (config.ca !== undefined) {
    options.ca = await readPem(config.ca, "ca");
    tryContext({ ca: options.ca }, "config.tls.ca");
  }
  if (config.cert !== undefined && config.key !== undefined) {
    options.cert = await readPem(config.cert, "cert");
    options.key = await readPem(config.key, "key");
    tryContext({ cert: options.cert, key: options.key }, "config.tls.cert");
  }
  if (config.server_name !== undefined) {
    options.servername = config.server_name;
  }
  return options;
}

/** PEM text as given, or the text of the PEM file the value names. */
async function readPem(value: string, key: string): Promise<string> {
  if (PEM_BLOCK.test(value)) return value;
  const field = `config.tls.${key}`;
  // A value that cannot be a path may be a mangled key: never echo it.
  if (value.includes("\n") || value.length > MAX_PATH_CHARS) {
    throw new HttpConfigError(field, "is neither PEM text nor a file path");
  }
  const path = resolve(value);
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? "error";
    throw new HttpConfigError(
      field,
      `is neither PEM text nor a readable file (${path}: ${code})`,
    );
  }
  if (!PEM_BLOCK.test(text)) {
    throw new HttpConfigError(field, `the file ${path} holds no PEM block`);
  }
  return text;
}

function tryContext(
  options: { ca?: string; cert?: string; key?: string },
  field: string,
): void {
  try {
    createSecureContext(options);
  } catch (error) {
    throw new HttpConfigError(
      field,
      `cannot be used: ${(error as Error).message}`,
    );
  }
}
