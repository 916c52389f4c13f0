/**
 * Workflow definitions (SPEC §3): parsing, normalization, validation, and
 * the CEL templates and conditions that the control plane checks at submit
 * and the agent renders before a plugin runs.
 */

export {
  AFFINITY_INTEGER_PATTERN,
  normalizeAffinity,
} from "./affinity-rules.js";
export { bindTemplate } from "./bind-template.js";
export { compileConfigSchema } from "./config-schema-check.js";
export { findCycles, type GraphNode, upstreamOf } from "./dependency-graph.js";
export { encodeShellValue } from "./encode-shell-value.js";
export {
  evaluateCondition,
  evaluateExpression,
} from "./evaluate-expression.js";
export { ID_PATTERN, MAX_ID_CHARS } from "./field-rules.js";
export {
  findLoneSurrogate,
  findNul,
  findTooDeep,
  LONE_SURROGATE_MESSAGE,
  MAX_DEFINITION_TEXT,
  MAX_JSON_DEPTH,
  NUL_MESSAGE,
  PROTO_KEY_MESSAGE,
  protoKeyPaths,
  replaceNul,
  replaceNulIn,
  textNestingDepth,
  tooDeepMessage,
} from "./json-limits.js";
export {
  lexShellTemplate,
  type ShellTemplateLex,
} from "./lex-shell-template.js";
export {
  type ParsedDefinitionText,
  parseDefinitionText,
} from "./parse-definition-text.js";
export {
  parseTemplate,
  type TemplateExpression,
  type TemplatePart,
  type TemplateText,
} from "./parse-template.js";
export { referencedTasks } from "./referenced-tasks.js";
export { renderConfig } from "./render-config.js";
export {
  gpuTypeMatches,
  type ResourceRequest,
  resourceRequest,
} from "./resource-request.js";
export { referencedSecrets } from "./secret-references.js";
export {
  DEFAULT_KUBERNETES_NAMESPACE,
  DEFAULT_VAULT_MOUNT,
  describeSecretSource,
  MAX_SECRET_NAME_CHARS,
  readSecretSource,
  SECRET_NAME_PATTERN,
  type SecretProvider,
  type SecretSource,
  secretNameProblem,
} from "./secret-sources.js";
export { shellQuote } from "./shell-quote.js";
export type { ShellContext, ShellSlot } from "./shell-scan.js";
export type { TaskState, TemplateContext } from "./template-context.js";
export {
  TemplateError,
  type TemplateErrorOptions,
} from "./template-error.js";
export {
  type DefinitionValidation,
  type ValidateDefinitionOptions,
  validateDefinition,
} from "./validate-definition.js";
export {
  AFFINITY_OPERATORS,
  type AffinityExpression,
  type AffinityOperator,
  type Backoff,
  MAX_FOR_EACH_ITEMS,
  type Problem,
  type RetryClass,
  type RetryPolicy,
  type TaskDefaults,
  type TaskDefinition,
  type TaskTypeCatalog,
  TRIGGER_RULES,
  type TriggerRule,
  type WorkflowDefinition,
} from "./workflow-definition.js";
