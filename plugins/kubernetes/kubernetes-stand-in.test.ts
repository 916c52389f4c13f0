import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KubernetesStandIn } from "./kubernetes-stand-in.js";

let standIn: KubernetesStandIn;

beforeAll(async () => {
  standIn = await KubernetesStandIn.start({ namespaces: ["default"] });
});

afterAll(async () => {
  await standIn?.close();
});

type Json = Record<string, unknown>;

async function api(
  method: string,
  path: string,
  body?: unknown,
  token = standIn.token,
): Promise<{ status: number; json: Json }> {
  const response = await fetch(`${standIn.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, json: (await response.json()) as Json };
}

function job(name: string, args: string[], extra: Json = {}): Json {
  return {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: { name },
    spec: {
      backoffLimit: 0,
      template: {
        spec: {
          restartPolicy: "Never",
          containers: [{ name: "main", image: "busybox", args }],
        },
      },
      ...extra,
    },
  };
}

const JOBS = "/apis/batch/v1/namespaces/default/jobs";
const PODS = "/api/v1/namespaces/default/pods";

/** Polls the stand-in until `check` passes (no timing assumptions). */
async function until<T>(
  read: () => Promise<T>,
  check: (value: T) => boolean,
): Promise<T> {
  for (let i = 0; i < 2_000; i++) {
    const value = await read();
    if (check(value)) return value;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error("condition not met");
}

const podsOf = async (name: string) =>
  ((await api("GET", `${PODS}?labelSelector=job-name%3D${name}`)).json
    .items as Json[]) ?? [];

describe("Kubernetes API stand-in", () => {
  it("stand-in: refuses a request without the bearer token (401)", async () => {
    const { status, json } = await api("GET", JOBS, undefined, "wrong");
    expect(status).toBe(401);
    expect(json).toMatchObject({
      kind: "Status",
      reason: "Unauthorized",
      code: 401,
    });
  });

  it("stand-in: refuses a Job without a template or restart policy (422)", async () => {
    const noTemplate = await api("POST", JOBS, {
      apiVersion: "batch/v1",
      kind: "Job",
      metadata: { name: "bad" },
      spec: {},
    });
    expect(noTemplate.status).toBe(422);
    expect(noTemplate.json.message).toBe(
      'Job.batch "bad" is invalid: spec.template: Required value',
    );
    const always = job("always", []);
    delete ((always.spec as Json).template as { spec: Json }).spec
      .restartPolicy;
    const refused = await api("POST", JOBS, always);
    expect(refused.status).toBe(422);
    expect(refused.json.message).toMatch(
      /restartPolicy: Unsupported value: "Always"/,
    );
  });

  it("stand-in: 404 for a missing namespace, 409 for a second create", async () => {
    const missing = await api(
      "POST",
      "/apis/batch/v1/namespaces/nope/jobs",
      job("x", []),
    );
    expect(missing.status).toBe(404);
    expect(missing.json.message).toBe('namespaces "nope" not found');
    expect((await api("POST", JOBS, job("twice", ["hang"]))).status).toBe(201);
    const again = await api("POST", JOBS, job("twice", ["hang"]));
    expect(again.status).toBe(409);
    expect(again.json).toMatchObject({ reason: "AlreadyExists" });
    await api("DELETE", `${JOBS}/twice?propagationPolicy=Background`);
  });

  it("stand-in: runs the pod's script to completion and follows its log", async () => {
    await api("POST", JOBS, job("logs", ["echo one", "sleep 30", "echo two"]));
    const [pod] = await until(
      () => podsOf("logs"),
      (pods) => pods.length === 1,
    );
    const name = ((pod as Json).metadata as Json).name as string;
    expect(name).toMatch(/^logs-[a-z0-9]{5}$/);
    await until(
      async () => (await podsOf("logs"))[0],
      (p) => ((p as Json).status as Json).phase !== "Pending",
    );
    const response = await fetch(
      `${standIn.url}${PODS}/${name}/log?container=main&follow=true`,
      { headers: { authorization: `Bearer ${standIn.token}` } },
    );
    expect(response.status).toBe(200);
    expect(await response.text()).toBe("one\ntwo\n");
    const done = await until(
      async () => (await api("GET", `${JOBS}/logs`)).json,
      (j) => JSON.stringify(j.status).includes('"type":"Complete"'),
    );
    expect((done.status as Json).succeeded).toBe(1);
  });

  it("stand-in: a log of a container that has not started is a 400", async () => {
    await api("POST", JOBS, {
      ...job("pull", []),
      spec: {
        template: {
          spec: {
            restartPolicy: "Never",
            containers: [{ name: "main", image: "missing/image" }],
          },
        },
      },
    });
    const [pod] = await until(
      () => podsOf("pull"),
      (pods) => pods.length === 1,
    );
    const name = ((pod as Json).metadata as Json).name as string;
    const { status, json } = await api(
      "GET",
      `${PODS}/${name}/log?container=main`,
    );
    expect(status).toBe(400);
    expect(json.message).toMatch(
      /container "main" in pod "pull-\w+" is waiting to start/,
    );
    await api("DELETE", `${JOBS}/pull?propagationPolicy=Background`);
  });

  it("stand-in: a delete without a policy orphans the pods (batch/v1 default)", async () => {
    await api("POST", JOBS, job("orphan", ["hang"]));
    await until(
      () => podsOf("orphan"),
      (pods) => pods.length === 1,
    );
    const deleted = await api("DELETE", `${JOBS}/orphan`);
    expect(deleted.json).toMatchObject({ kind: "Status", status: "Success" });
    expect(standIn.deletions).toContainEqual({
      namespace: "default",
      name: "orphan",
      propagationPolicy: undefined,
    });
    expect((await api("GET", `${JOBS}/orphan`)).status).toBe(404);
    const [pod] = await podsOf("orphan");
    expect(((pod as Json).metadata as Json).ownerReferences).toBeUndefined();
    expect(standIn.pods().some((p) => p.name.startsWith("orphan-"))).toBe(true);
  });

  it("stand-in: Background and Foreground deletes remove the pods", async () => {
    for (const policy of ["Background", "Foreground"]) {
      const name = `gone-${policy.toLowerCase()}`;
      await api("POST", JOBS, job(name, ["hang"]));
      await until(
        () => podsOf(name),
        (pods) => pods.length === 1,
      );
      await api("DELETE", `${JOBS}/${name}`, { propagationPolicy: policy });
      await until(
        () => podsOf(name),
        (pods) => pods.length === 0,
      );
      await until(
        async () => (await api("GET", `${JOBS}/${name}`)).status,
        (status) => status === 404,
      );
    }
  });

  it("stand-in: filters by label selector and refuses watches", async () => {
    const bad = await api("GET", `${PODS}?labelSelector=a%20in%20(b)`);
    expect(bad.status).toBe(400);
    const watch = await api("GET", `${JOBS}?watch=true`);
    expect(watch.status).toBe(400);
    expect(watch.json.message).toBe("watch is not supported by the stand-in");
    const none = await api(
      "GET",
      `${PODS}?labelSelector=job-name%3Dno-such-job`,
    );
    expect(none.json.items).toEqual([]);
  });
});
