import { describe, expect, it } from "vitest";
import { ConfigFieldError, resolveJobSettings } from "./job-settings.js";

const POD = { containers: [{ name: "main", image: "busybox" }] };

function fieldOf(config: unknown): string {
  try {
    resolveJobSettings(config);
  } catch (error) {
    if (error instanceof ConfigFieldError) return error.field;
    throw error;
  }
  throw new Error("no error");
}

describe("resolveJobSettings", () => {
  it("applies defaults", () => {
    expect(resolveJobSettings({ pod_spec: POD })).toEqual({
      namespace: undefined,
      podSpec: POD,
      serviceAccount: undefined,
      kubeconfig: undefined,
      context: undefined,
      backoffLimit: 0,
      activeDeadlineSeconds: undefined,
      ttlSecondsAfterFinished: undefined,
      labels: {},
      keepJob: false,
      containerNames: ["main"],
    });
  });

  it("names the field that breaks a rule", () => {
    const cases: [unknown, string][] = [
      ["nope", "config"],
      [{}, "config.pod_spec"],
      [{ pod_spec: [] }, "config.pod_spec"],
      [{ pod_spec: POD, extra: 1 }, "config.extra"],
      [{ pod_spec: POD, namespace: "Default" }, "config.namespace"],
      [{ pod_spec: POD, namespace: "" }, "config.namespace"],
      [{ pod_spec: { containers: {} } }, "config.pod_spec.containers"],
      [
        { pod_spec: { containers: [{ image: "x" }] } },
        "config.pod_spec.containers[0].name",
      ],
      [
        { pod_spec: { containers: [{ name: "a" }] } },
        "config.pod_spec.containers[0].image",
      ],
      [
        {
          pod_spec: {
            containers: [
              { name: "a", image: "x" },
              { name: "a", image: "y" },
            ],
          },
        },
        "config.pod_spec.containers[1].name",
      ],
      [
        { pod_spec: { ...POD, restartPolicy: "Always" } },
        "config.pod_spec.restartPolicy",
      ],
      [
        { pod_spec: POD, service_account: "Bad Name" },
        "config.service_account",
      ],
      [
        { pod_spec: { ...POD, serviceAccountName: "a" }, service_account: "b" },
        "config.service_account",
      ],
      [{ pod_spec: POD, backoff_limit: 1.5 }, "config.backoff_limit"],
      [
        { pod_spec: POD, active_deadline_seconds: 0 },
        "config.active_deadline_seconds",
      ],
      [
        { pod_spec: POD, ttl_seconds_after_finished: "1" },
        "config.ttl_seconds_after_finished",
      ],
      [{ pod_spec: POD, keep_job: "yes" }, "config.keep_job"],
      [{ pod_spec: POD, kubeconfig: "" }, "config.kubeconfig"],
      [{ pod_spec: POD, labels: { "bad key": "x" } }, "config.labels.bad key"],
      [{ pod_spec: POD, labels: { app: "-x" } }, "config.labels.app"],
      [
        { pod_spec: POD, labels: { "deerflow.attempt": "1" } },
        "config.labels.deerflow.attempt",
      ],
    ];
    for (const [config, field] of cases) {
      expect(fieldOf(config), JSON.stringify(config)).toBe(field);
    }
  });

  it("keeps what is valid", () => {
    const settings = resolveJobSettings({
      pod_spec: { ...POD, restartPolicy: "OnFailure", serviceAccountName: "a" },
      namespace: "team-a",
      service_account: "a",
      backoff_limit: 2,
      active_deadline_seconds: 60,
      ttl_seconds_after_finished: 0,
      labels: { "example.com/team": "data" },
      keep_job: true,
    });
    expect(settings).toMatchObject({
      namespace: "team-a",
      serviceAccount: "a",
      backoffLimit: 2,
      activeDeadlineSeconds: 60,
      ttlSecondsAfterFinished: 0,
      labels: { "example.com/team": "data" },
      keepJob: true,
    });
  });
});
