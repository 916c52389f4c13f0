import { Code, ConnectError } from "@connectrpc/connect";

/** The characters of a workflow name, as the definition's `name` allows. */
const NAME_PATTERN = /^[A-Za-z0-9_.-]+$/;

/** Longer names are refused before they reach a query or a message. */
export const MAX_WORKFLOW_NAME_CHARS = 200;

/** Whether a string could be the name of a registered workflow. */
export function isWorkflowName(value: string): boolean {
  return value.length <= MAX_WORKFLOW_NAME_CHARS && NAME_PATTERN.test(value);
}

/**
 * Checks a workflow name that arrived in a request field (`name`,
 * `workflow_ref.name`). A name no definition could have is the caller's
 * mistake (InvalidArgument naming the field), not a NotFound; it also
 * keeps bytes PostgreSQL's text type refuses (NUL) out of queries.
 */
export function requireWorkflowName(field: string, value: string): string {
  if (value === "") {
    throw new ConnectError(`${field}: is required`, Code.InvalidArgument);
  }
  if (value.length > MAX_WORKFLOW_NAME_CHARS) {
    throw new ConnectError(
      `${field}: is longer than ${MAX_WORKFLOW_NAME_CHARS} characters`,
      Code.InvalidArgument,
    );
  }
  if (!NAME_PATTERN.test(value)) {
    throw new ConnectError(
      `${field}: ${JSON.stringify(value)} is not a workflow name ` +
        '(letters, digits, "_", "." and "-")',
      Code.InvalidArgument,
    );
  }
  return value;
}

/** Checks a version field: zero (the latest) or a version number. */
export function requireVersion(field: string, value: number): number {
  if (value < 0) {
    throw new ConnectError(
      `${field}: must not be negative (0 means the latest version)`,
      Code.InvalidArgument,
    );
  }
  return value;
}
