/**
 * The Deer Flow SDK for users (package entry "deerflow/sdk"): a typed
 * client for the API, and a builder that writes workflows as code and
 * produces exactly the definition format of SPEC §3.
 */

export { Code, ConnectError } from "@connectrpc/connect";
// The API's messages and enums, for reading what the client returns.
export {
  type Agent,
  AgentState,
} from "../gen/deerflow/v1/agent_pb.js";
export {
  type Attempt,
  AttemptOutcome,
  type Run,
  type RunEvent,
  RunState,
  RunView,
  type Task as RunTask,
  TaskState,
} from "../gen/deerflow/v1/run_pb.js";
export type {
  RegisterWorkflowResponse,
  ValidateWorkflowResponse,
  Workflow as RegisteredWorkflow,
} from "../gen/deerflow/v1/workflow_pb.js";
export {
  CLIENT_DEFAULTS,
  type ClientOptions,
  type Protocol,
} from "./client-options.js";
export { condition } from "./condition.js";
export type { ConfigObject, ConfigValue, Text } from "./config-value.js";
export { createClient, type DeerFlowClient } from "./create-client.js";
export { type DefinitionInput, definitionOf } from "./definition-of.js";
export { expr } from "./expr.js";
export { celText, type Expression, isExpression } from "./expression.js";
export { type ForEachValue, forEach } from "./for-each.js";
export {
  index,
  item,
  param,
  params,
  type Ref,
  ref,
  run,
  secret,
  type TaskRef,
} from "./ref.js";
export { FINAL_RUN_STATES, isFinalRunState } from "./run-states.js";
export { SdkError, type SdkErrorCode } from "./sdk-error.js";
export { type StartRunInput, startRunRequest } from "./start-run.js";
export { Task } from "./task.js";
export type { TaskLike, TaskOptions } from "./task-options.js";
export { type DockerConfig, DockerTask } from "./tasks/docker-task.js";
export {
  type HttpConfig,
  type HttpMethod,
  HttpTask,
} from "./tasks/http-task.js";
export {
  type KubernetesConfig,
  KubernetesTask,
} from "./tasks/kubernetes-task.js";
export { type NoopConfig, NoopTask } from "./tasks/noop-task.js";
export {
  type PythonConfig,
  type PythonSource,
  PythonTask,
} from "./tasks/python-task.js";
export { type ShellConfig, ShellTask } from "./tasks/shell-task.js";
export { type SparkConfig, SparkTask } from "./tasks/spark-task.js";
export { type SqlConfig, SqlTask } from "./tasks/sql-task.js";
export type { WaitForRunOptions } from "./wait-for-run.js";
export { Workflow, type WorkflowOptions } from "./workflow.js";
export {
  type AffinityExpression,
  type AffinityOperator,
  type Resources,
  type RetryPolicy,
  type SecretSource,
  TASK_KEY_ORDER,
  type TaskDefaults,
  type TaskDocument,
  type TriggerRule,
  WORKFLOW_KEY_ORDER,
  type WorkflowDocument,
} from "./workflow-document.js";
