import { createHash } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  AttemptOutcome,
  RunState,
  TaskState,
} from "../../gen/deerflow/v1/run_pb.js";
import {
  spawnAgent,
  stopAllAgents,
  waitForAgents,
} from "../support/agent-process.js";
import { startInline, waitForRun } from "../support/runs.js";
import { testBackends } from "../support/test-database.js";
import {
  type KubernetesStandIn,
  startKubernetesStandIn,
} from "./kubernetes-stand-in.js";
import {
  type SecretsControlPlane,
  startSecretsControlPlane,
  uniqueSecret,
} from "./secrets-control-plane.js";
import { startVaultStandIn, type VaultStandIn } from "./vault-stand-in.js";

const VAULT_TOKEN = "s.providers-e2e";
const KUBE_TOKEN = "providers-e2e-token";

function definition() {
  const digest = '$(printf %s "$DB_PASS$K8S_TOKEN" | sha256sum | cut -c1-64)';
  return {
    name: "providers-e2e",
    tasks: [
      {
        id: "both",
        type: "shell",
        secrets: {
          DB_PASS: { provider: "vault", path: "app/db", key: "password" },
          K8S_TOKEN: {
            provider: "kubernetes",
            namespace: "ops",
            name: "app",
            key: "token",
          },
        },
        command:
          'echo "$DB_PASS ${secrets.K8S_TOKEN}"\n' +
          `echo "digest=${digest}" >> "$DEERFLOW_OUTPUT"`,
      },
      {
        id: "missing",
        type: "shell",
        retry: { max_attempts: 2, initial_delay: 0.1 },
        secrets: {
          DB_PASS: { provider: "vault", path: "app/nope", key: "password" },
        },
        command: "echo never",
      },
      {
        id: "not_shared",
        type: "shell",
        secrets: { HOME_DIR: { provider: "env", name: "HOME" } },
        command: "echo never",
      },
    ],
  };
}

describe.each(testBackends())(
  "secret providers in a run on $name (stand-ins)",
  (backend) => {
    let vault: VaultStandIn;
    let kube: KubernetesStandIn;
    let dir: string;
    let cp: SecretsControlPlane;
    const password = uniqueSecret("vault-pw");
    const k8sToken = uniqueSecret("k8s");

    beforeEach(async () => {
      vault = await startVaultStandIn({
        token: VAULT_TOKEN,
        secrets: { "secret/app/db": { password } },
      });
      kube = await startKubernetesStandIn({
        token: KUBE_TOKEN,
        secrets: { "ops/app": { token: k8sToken } },
      });
      dir = await mkdtemp(join(tmpdir(), "deerflow-providers-"));
      const kubeconfig = join(dir, "kubeconfig");
      await kube.writeKubeconfig(kubeconfig);
      cp = await startSecretsControlPlane(backend, {
        vaultAddr: vault.addr,
        vaultToken: VAULT_TOKEN,
        kubeconfig,
        environment: { HOME: "/not/shared" },
      });
      const agent = await spawnAgent({
        serverUrl: cp.url,
        name: "provider-agent",
      });
      // Generous: the agent is a fresh process on a shared, busy machine.
      await waitForAgents(cp.clients, ["provider-agent"], 90_000).catch(
        (error: Error) => {
          throw new Error(`${error.message}\n${agent.output()}`);
        },
      );
    }, 150_000);

    afterEach(async () => {
      await stopAllAgents();
      await cp.close();
      await vault.close();
      await kube.close();
      await rm(dir, { recursive: true, force: true });
    });

    it("resolves vault and kubernetes secrets at dispatch, and fails attempts whose secret is missing", async () => {
      const runId = await startInline(cp.clients, definition());
      const run = await waitForRun(cp.clients, runId);
      expect(run.state).toBe(RunState.FAILED);
      const task = (id: string) => {
        const found = run.tasks.find((t) => t.id === id);
        if (!found) throw new Error(`no task ${id}`);
        return found;
      };

      const both = task("both");
      expect(both.state, both.error).toBe(TaskState.SUCCESS);
      const digest = createHash("sha256")
        .update(password + k8sToken)
        .digest("hex");
      expect(both.output).toMatchObject({ digest });
      expect(JSON.stringify(both.output)).not.toContain(password);
      expect(JSON.stringify(both.output)).not.toContain(k8sToken);

      // Retried per the task's policy: two attempts, each failed at
      // dispatch, neither started on the agent.
      const missing = task("missing");
      expect(missing.state).toBe(TaskState.FAILED);
      expect(missing.attempts).toHaveLength(2);
      const said =
        "task missing: secret DB_PASS (vault secret/app/nope#password) " +
        "could not be resolved: Vault has no secret at secret/app/nope";
      expect(missing.error).toBe(said);
      for (const attempt of missing.attempts) {
        expect(attempt.outcome).toBe(AttemptOutcome.FAILED);
        expect(attempt.error).toBe(said);
        expect(attempt.startedAt).toBeUndefined();
      }

      const notShared = task("not_shared");
      expect(notShared.state).toBe(TaskState.FAILED);
      expect(notShared.error).toContain(
        "task not_shared: secret HOME_DIR (env HOME) could not be resolved: " +
          "the control plane does not share its environment variable HOME",
      );
      expect(notShared.error).not.toContain("/not/shared");

      expect(vault.requests.map((r) => r.path)).toContain(
        "/v1/secret/data/app/nope",
      );
      expect(kube.requests.map((r) => r.path)).toContain(
        "/api/v1/namespaces/ops/secrets/app",
      );
    }, 180_000);
  },
);
