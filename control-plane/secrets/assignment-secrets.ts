import type { Clock, Logger } from "../../core/index.js";
import type { Db } from "../db/index.js";
import type { ClaimedAssignment } from "../dispatch/claim-tasks.js";
import { recordResult } from "../leases/record-result.js";
import {
  SecretResolutionError,
  type SecretResolver,
} from "./secret-resolver.js";

/** What resolving claimed tasks' secrets needs. */
export interface AssignmentSecretsOptions {
  db: Db;
  clock: Clock;
  logger: Logger;
  resolver: SecretResolver;
}

/**
 * Resolves the secrets of freshly claimed assignments, between the claim
 * and the delivery to the agent that holds the lease: values live only in
 * the Assignment message, never in a row. An attempt whose secrets fail
 * to resolve fails (with an error naming the task, the secret and the
 * provider, never a value) and is retried per the task's policy; it is
 * not delivered.
 */
export class AssignmentSecrets {
  constructor(private readonly options: AssignmentSecretsOptions) {}

  /** The assignments to deliver, each with its secrets. */
  async attach(
    agentId: string,
    claimed: readonly ClaimedAssignment[],
  ): Promise<ClaimedAssignment[]> {
    const settled = await Promise.all(
      claimed.map((assignment) => this.attachOne(agentId, assignment)),
    );
    return settled.filter((a): a is ClaimedAssignment => a !== undefined);
  }

  private async attachOne(
    agentId: string,
    assignment: ClaimedAssignment,
  ): Promise<ClaimedAssignment | undefined> {
    const { resolver } = this.options;
    const request = {
      taskId: assignment.taskId,
      config: assignment.config,
      secretsBlock: assignment.secretsBlock,
    };
    if (!resolver.needsSecrets(request)) return assignment;
    try {
      return { ...assignment, secrets: await resolver.resolve(request) };
    } catch (error) {
      await this.fail(agentId, assignment, error);
      return undefined;
    }
  }

  private async fail(
    agentId: string,
    assignment: ClaimedAssignment,
    error: unknown,
  ): Promise<void> {
    const resolution =
      error instanceof SecretResolutionError ? error : undefined;
    const message =
      resolution?.message ??
      `task ${assignment.taskId}: secrets could not be resolved: ` +
        (error instanceof Error ? error.message : String(error));
    const log = this.options.logger.child({
      run_id: assignment.runId,
      task_id: assignment.taskId,
      attempt: assignment.attempt,
      lease_id: assignment.leaseId,
    });
    log.warn(
      {
        secret: resolution?.secretName,
        provider: resolution?.provider,
        error: message,
      },
      "secret not resolved; attempt failed",
    );
    try {
      await recordResult(
        this.options.db,
        agentId,
        {
          leaseId: assignment.leaseId,
          fencingToken: assignment.fencingToken,
          outcome: "FAILED",
          error: message,
          retryable: true,
          retryClass: "error",
        },
        new Date(this.options.clock.now()),
      );
    } catch (recordError) {
      // The lease stays held: it expires, and the task is retried as lost.
      log.error({ err: recordError }, "failed attempt not recorded");
    }
  }
}
