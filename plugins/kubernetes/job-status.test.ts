import type { V1Job, V1Pod } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import {
  byAge,
  decisiveExit,
  jobState,
  podProblem,
  schedulingProblem,
} from "./job-status.js";

function job(...conditions: [string, string, string?][]): V1Job {
  return {
    status: {
      conditions: conditions.map(([type, status, reason]) => ({
        type,
        status,
        reason,
        message: reason ? `because ${reason}` : undefined,
      })),
    },
  };
}

function terminated(name: string, exitCode: number, reason = "Error") {
  return {
    name,
    image: "x",
    imageID: "",
    ready: false,
    restartCount: 0,
    state: { terminated: { exitCode, reason } },
  };
}

describe("job status", () => {
  it("waits for the final conditions", () => {
    expect(jobState(job())).toEqual({ state: "running" });
    expect(jobState(job(["SuccessCriteriaMet", "True"]))).toEqual({
      state: "running",
    });
    expect(
      jobState(job(["FailureTarget", "True", "BackoffLimitExceeded"])),
    ).toEqual({
      state: "running",
    });
    expect(jobState(job(["Complete", "False"]))).toEqual({ state: "running" });
    expect(
      jobState(job(["SuccessCriteriaMet", "True"], ["Complete", "True"])),
    ).toEqual({
      state: "succeeded",
    });
    expect(jobState(job(["Failed", "True", "DeadlineExceeded"]))).toEqual({
      state: "failed",
      reason: "DeadlineExceeded",
      message: "because DeadlineExceeded",
    });
  });

  it("finds pods that will not start by themselves", () => {
    const waiting = (reason: string): V1Pod => ({
      status: {
        containerStatuses: [
          {
            name: "main",
            image: "x",
            imageID: "",
            ready: false,
            restartCount: 0,
            state: { waiting: { reason, message: "m" } },
          },
        ],
      },
    });
    expect(podProblem(waiting("ContainerCreating"))).toBeUndefined();
    expect(podProblem(waiting("ErrImagePull"))).toBeUndefined();
    expect(podProblem(waiting("ImagePullBackOff"))).toEqual({
      container: "main",
      reason: "ImagePullBackOff",
      message: "m",
      retryable: true,
    });
    expect(podProblem(waiting("InvalidImageName"))?.retryable).toBe(false);
  });

  it("picks the exit that speaks for the pod", () => {
    const pod: V1Pod = {
      status: {
        initContainerStatuses: [terminated("init", 0, "Completed")],
        containerStatuses: [
          terminated("main", 0, "Completed"),
          terminated("side", 2),
        ],
      },
    };
    expect(decisiveExit(pod, "main")).toMatchObject({
      container: "side",
      exitCode: 2,
    });
    const fine: V1Pod = {
      status: {
        containerStatuses: [terminated("side", 0), terminated("main", 0)],
      },
    };
    expect(decisiveExit(fine, "main")?.container).toBe("main");
    expect(decisiveExit({}, "main")).toBeUndefined();
  });

  it("orders pods by age and reports scheduling trouble", () => {
    const pod = (name: string, at: string): V1Pod => ({
      metadata: { name, creationTimestamp: new Date(at) },
    });
    const pods = [
      pod("b", "2024-01-01T00:00:02Z"),
      pod("a", "2024-01-01T00:00:01Z"),
    ];
    expect(byAge(pods).map((p) => p.metadata?.name)).toEqual(["a", "b"]);
    expect(
      schedulingProblem({
        status: {
          conditions: [
            {
              type: "PodScheduled",
              status: "False",
              reason: "Unschedulable",
              message: "0/3 nodes are available",
            },
          ],
        },
      }),
    ).toBe("Unschedulable: 0/3 nodes are available");
  });
});
