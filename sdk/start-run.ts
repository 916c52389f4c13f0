import type { MessageInitShape } from "@bufbuild/protobuf";
import type { CallOptions, Client } from "@connectrpc/connect";
import {
  type Run,
  type RunService,
  RunView,
  type StartRunRequestSchema,
} from "../gen/deerflow/v1/run_pb.js";
import type { ConfigObject } from "./config-value.js";
import { type DefinitionInput, definitionOf } from "./definition-of.js";
import { plainJsonObject } from "./plain-json.js";
import { SdkError } from "./sdk-error.js";

const VIEWS: ReadonlySet<unknown> = new Set([
  RunView.UNSPECIFIED,
  RunView.BASIC,
  RunView.FULL,
]);

/** Params and an idempotency key, for either way of starting a run. */
interface RunSettings {
  /** Overrides of the workflow's param defaults. */
  params?: ConfigObject;
  /** A second start with the same key returns the first run. */
  idempotencyKey?: string;
  /**
   * How much of the run StartRun answers with: `RunView.BASIC` leaves
   * the tasks out (for a large run, most of the answer). Default: the
   * full run.
   */
  view?: RunView;
}

/**
 * What {@link startRun} starts: an inline definition (a `Workflow`, a
 * definition document, or JSON/YAML text), or a registered workflow by
 * name and version (0 or absent: the latest).
 */
export type StartRunInput = RunSettings &
  (
    | {
        definition: DefinitionInput;
        workflow?: undefined;
        version?: undefined;
      }
    | { workflow: string; version?: number; definition?: undefined }
  );

/** Starts a run and returns it as StartRun answered. */
export async function startRun(
  runs: Client<typeof RunService>,
  input: StartRunInput,
  options?: CallOptions,
): Promise<Run> {
  const { run } = await runs.startRun(startRunRequest(input), options);
  if (!run) {
    throw new SdkError("run_not_found", "StartRun answered without a run");
  }
  return run;
}

/** The StartRun request for `input`; errors name the field at fault. */
export function startRunRequest(
  input: StartRunInput,
): MessageInitShape<typeof StartRunRequestSchema> {
  if (typeof input !== "object" || input === null) {
    throw invalid("input", "must be an object with definition or workflow");
  }
  const hasDefinition = input.definition !== undefined;
  const hasWorkflow = input.workflow !== undefined;
  if (hasDefinition === hasWorkflow) {
    throw invalid(
      hasDefinition ? "workflow" : "definition",
      "give exactly one of definition (inline) or workflow (registered)",
    );
  }
  const request: MessageInitShape<typeof StartRunRequestSchema> = {
    workflow: hasDefinition
      ? { case: "definition", value: definitionOf(input.definition) }
      : { case: "workflowRef", value: reference(input) },
  };
  if (input.params !== undefined) {
    request.params = plainJsonObject(input.params, "params");
  }
  if (input.idempotencyKey !== undefined) {
    if (typeof input.idempotencyKey !== "string") {
      throw invalid("idempotencyKey", "must be a string");
    }
    request.idempotencyKey = input.idempotencyKey;
  }
  if (input.view !== undefined) {
    if (!VIEWS.has(input.view)) {
      throw invalid(
        "view",
        `must be RunView.BASIC or RunView.FULL, not ${String(input.view)}`,
      );
    }
    request.view = input.view;
  }
  return request;
}

function reference(input: { workflow?: unknown; version?: unknown }) {
  if (typeof input.workflow !== "string" || input.workflow === "") {
    throw invalid("workflow", "must be a workflow name");
  }
  const version = input.version ?? 0;
  if (!Number.isSafeInteger(version) || (version as number) < 0) {
    throw invalid("version", "must be an integer >= 0 (0 is the latest)");
  }
  return { name: input.workflow, version: version as number };
}

function invalid(field: string, message: string): SdkError {
  return new SdkError("invalid_request", `${field}: ${message}`, { field });
}
