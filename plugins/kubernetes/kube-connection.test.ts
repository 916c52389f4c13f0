import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigFieldError } from "./job-settings.js";
import { connectKube, type KubeEnvironment } from "./kube-connection.js";
import { type KubeModule, loadKubeModule } from "./kube-module.js";

let k8s: KubeModule;
let dir: string;

beforeAll(async () => {
  k8s = await loadKubeModule();
  dir = await mkdtemp(join(tmpdir(), "deerflow-kubeconn-"));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const KUBECONFIG = `
apiVersion: v1
kind: Config
clusters:
  - name: c
    cluster: { server: "https://127.0.0.1:6443/" }
users:
  - name: u
    user: { token: t }
contexts:
  - name: one
    context: { cluster: c, user: u, namespace: team-one }
  - name: two
    context: { cluster: c, user: u }
current-context: one
`;

function environment(env: Record<string, string>): KubeEnvironment {
  return { env, serviceAccountDir: join(dir, "sa") };
}

async function problem(
  wanted: { kubeconfig?: string; context?: string },
  env: Record<string, string> = {},
): Promise<ConfigFieldError> {
  try {
    await connectKube(
      k8s,
      { kubeconfig: wanted.kubeconfig, context: wanted.context },
      environment(env),
    );
  } catch (error) {
    if (error instanceof ConfigFieldError) return error;
    throw error;
  }
  throw new Error("connected");
}

describe("connectKube", () => {
  it("loads a kubeconfig, its context and namespace, without contacting it", async () => {
    const path = join(dir, "config");
    await writeFile(path, KUBECONFIG);
    const one = await connectKube(
      k8s,
      { kubeconfig: path, context: undefined },
      environment({}),
    );
    expect(one).toMatchObject({
      source: path,
      context: "one",
      server: "https://127.0.0.1:6443",
      namespace: "team-one",
    });
    const two = await connectKube(
      k8s,
      { kubeconfig: undefined, context: "two" },
      environment({ HOME: dir, KUBECONFIG: path }),
    );
    expect(two).toMatchObject({ context: "two", namespace: undefined });
  });

  it("finds ~/.kube/config and expands ~ in a configured path", async () => {
    await mkdir(join(dir, ".kube"), { recursive: true });
    await writeFile(join(dir, ".kube", "config"), KUBECONFIG);
    const found = await connectKube(
      k8s,
      { kubeconfig: undefined, context: undefined },
      environment({ HOME: dir }),
    );
    expect(found.source).toBe(join(dir, ".kube", "config"));
    const tilde = await connectKube(
      k8s,
      { kubeconfig: "~/.kube/config", context: undefined },
      environment({ HOME: dir }),
    );
    expect(tilde.source).toBe(join(dir, ".kube", "config"));
  });

  it("does not quote a file that is not YAML", async () => {
    const path = join(dir, "secret-looking");
    await writeFile(path, "password: [hunter2\n");
    const error = await problem({ kubeconfig: path });
    expect(error.field).toBe("config.kubeconfig");
    expect(error.message).toBe(
      `config.kubeconfig: ${path} is not valid YAML at line 2`,
    );
    expect(error.message).not.toContain("hunter2");
  });

  it("names the field for files that are not kubeconfigs", async () => {
    const path = join(dir, "plain");
    await writeFile(path, "just text\n");
    expect((await problem({ kubeconfig: path })).message).toBe(
      `config.kubeconfig: ${path} is not a kubeconfig: it defines no contexts`,
    );
  });

  it("in a cluster: needs the token, and refuses a context", async () => {
    const env = {
      KUBERNETES_SERVICE_HOST: "127.0.0.1",
      KUBERNETES_SERVICE_PORT: "1",
    };
    expect((await problem({}, env)).message).toMatch(
      /^config\.kubeconfig: not set, and KUBERNETES_SERVICE_HOST is set but the service account token .*sa\/token is missing$/,
    );
    expect((await problem({ context: "x" }, env)).field).toBe("config.context");
  });
});
