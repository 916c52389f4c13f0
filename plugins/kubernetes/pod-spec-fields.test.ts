import { beforeAll, describe, expect, it } from "vitest";
import type { JsonValue } from "../../plugin-sdk/index.js";
import { ConfigFieldError } from "./job-settings.js";
import { type KubeModule, loadKubeModule } from "./kube-module.js";
import { checkPodSpecFields } from "./pod-spec-fields.js";

let k8s: KubeModule;

beforeAll(async () => {
  k8s = await loadKubeModule();
});

function problem(podSpec: JsonValue): string | undefined {
  try {
    checkPodSpecFields(k8s, podSpec);
    return undefined;
  } catch (error) {
    if (error instanceof ConfigFieldError) return error.message;
    throw error;
  }
}

describe("checkPodSpecFields", () => {
  it("accepts a full PodSpec in the API's field names", () => {
    expect(
      problem({
        restartPolicy: "Never",
        nodeSelector: { "kubernetes.io/arch": "amd64" },
        tolerations: [{ key: "gpu", operator: "Exists", effect: "NoSchedule" }],
        securityContext: { runAsNonRoot: true, runAsUser: 1000 },
        volumes: [{ name: "data", emptyDir: { sizeLimit: "1Gi" } }],
        initContainers: [{ name: "init", image: "busybox", command: ["true"] }],
        containers: [
          {
            name: "main",
            image: "busybox",
            command: ["sh", "-c"],
            args: ["echo hi"],
            env: [
              { name: "A", value: "1" },
              {
                name: "B",
                valueFrom: { secretKeyRef: { name: "s", key: "k" } },
              },
            ],
            resources: {
              limits: { cpu: 1, memory: "1Gi", "nvidia.com/gpu": 1 },
            },
            volumeMounts: [{ name: "data", mountPath: "/data" }],
            ports: [{ containerPort: 8080 }],
            livenessProbe: { httpGet: { path: "/", port: "http" } },
          },
        ],
      }),
    ).toBeUndefined();
  });

  it("rejects unknown fields at any depth, with a suggestion", () => {
    expect(
      problem({ containers: [{ name: "a", image: "x", comand: [] }] }),
    ).toBe(
      'config.pod_spec.containers[0].comand: unknown field (did you mean "command"?)',
    );
    expect(problem({ containers: [], node_selector: {} })).toBe(
      'config.pod_spec.node_selector: unknown field (did you mean "nodeSelector"?)',
    );
    expect(
      problem({
        containers: [
          {
            name: "a",
            image: "x",
            env: [{ name: "A", valueFrom: { secretKeyRf: {} } }],
          },
        ],
      }),
    ).toBe(
      'config.pod_spec.containers[0].env[0].valueFrom.secretKeyRf: unknown field (did you mean "secretKeyRef"?)',
    );
    expect(problem({ containers: [], zzzzzzzz: 1 })).toBe(
      "config.pod_spec.zzzzzzzz: unknown field",
    );
  });

  it("rejects an object where a list belongs, and the reverse", () => {
    expect(problem({ containers: { name: "a" } })).toBe(
      "config.pod_spec.containers: must be an array",
    );
    expect(problem({ containers: [], securityContext: [] })).toBe(
      "config.pod_spec.securityContext: must be an object",
    );
  });
});
