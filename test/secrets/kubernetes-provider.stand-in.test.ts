import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  KubernetesSecretReader,
  SecretProviderError,
} from "../../control-plane/secrets/index.js";
import {
  type KubernetesStandIn,
  startKubernetesStandIn,
} from "./kubernetes-stand-in.js";

const TOKEN = "stand-in-service-account-token";

async function providerError(call: Promise<unknown>) {
  const error = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(SecretProviderError);
  return error as SecretProviderError;
}

const source = (namespace: string, name: string, key: string) => ({
  provider: "kubernetes" as const,
  namespace,
  name,
  key,
});

describe("the kubernetes provider against a core/v1 Secret API stand-in", () => {
  let api: KubernetesStandIn;
  let dir: string;
  let kubeconfig: string;

  beforeEach(async () => {
    api = await startKubernetesStandIn({
      token: TOKEN,
      secrets: {
        "ops/app": { token: "k8s-token-value", "multi.line": "a\nb\n" },
      },
    });
    dir = await mkdtemp(join(tmpdir(), "deerflow-kubeconfig-"));
    kubeconfig = join(dir, "config");
    await api.writeKubeconfig(kubeconfig);
  });

  afterEach(async () => {
    await api.close();
    await rm(dir, { recursive: true, force: true });
  });

  const signal = () => AbortSignal.timeout(10_000);

  it("reads and base64-decodes data[key], with the kubeconfig's token", async () => {
    const reader = new KubernetesSecretReader({ kubeconfig });
    expect(await reader.read(source("ops", "app", "token"), signal())).toBe(
      "k8s-token-value",
    );
    expect(
      await reader.read(source("ops", "app", "multi.line"), signal()),
    ).toBe("a\nb\n");
    expect(api.requests[0]).toMatchObject({
      method: "GET",
      path: "/api/v1/namespaces/ops/secrets/app",
      authorization: `Bearer ${TOKEN}`,
    });
  });

  it("names a missing Secret and a missing key", async () => {
    const reader = new KubernetesSecretReader({ kubeconfig });
    const missing = await providerError(
      reader.read(source("ops", "nope", "token"), signal()),
    );
    expect(missing.code).toBe("secret_not_found");
    expect(missing.message).toBe("there is no Kubernetes Secret ops/nope");
    const noKey = await providerError(
      reader.read(source("ops", "app", "password"), signal()),
    );
    expect(noKey.message).toBe(
      'the Kubernetes Secret ops/app has no key "password"',
    );
  });

  it("says when the API refuses the credentials, without them", async () => {
    await api.writeKubeconfig(kubeconfig, "wrong-token");
    const reader = new KubernetesSecretReader({ kubeconfig });
    const error = await providerError(
      reader.read(source("ops", "app", "token"), signal()),
    );
    expect(error.code).toBe("secret_access_denied");
    expect(error.message).toContain("HTTP 401");
    expect(error.message).not.toContain("wrong-token");
  });

  it("gives up when the API does not answer in time", async () => {
    api.hang.add("ops/app");
    const reader = new KubernetesSecretReader({ kubeconfig });
    const error = await providerError(
      reader.read(source("ops", "app", "token"), AbortSignal.timeout(300)),
    );
    expect(error.code).toBe("secret_provider_unavailable");
    expect(error.message).toBe(
      "the Kubernetes API did not answer in time for the Secret ops/app",
    );
  });

  it("says when the kubeconfig cannot be loaded, naming it", async () => {
    const broken = join(dir, "broken");
    await writeFile(broken, "clusters: [ not yaml");
    const reader = new KubernetesSecretReader({ kubeconfig: broken });
    const error = await providerError(
      reader.read(source("ops", "app", "token"), signal()),
    );
    expect(error.code).toBe("secret_provider_not_configured");
    expect(error.message).toContain(broken);
  });
});
