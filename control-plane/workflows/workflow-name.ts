import { Code, ConnectError } from "@connectrpc/connect";
import { ID_PATTERN, MAX_ID_CHARS } from "../../workflow/index.js";

/**
 * Whether a string could be the name of a registered workflow: what a
 * definition's `name` may be (workflow/field-rules.ts).
 */
export function isWorkflowName(value: string): boolean {
  return value.length <= MAX_ID_CHARS && ID_PATTERN.test(value);
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
  // Longer names are refused before they reach a query or a message.
  if (value.length > MAX_ID_CHARS) {
    throw new ConnectError(
      `${field}: is longer than ${MAX_ID_CHARS} characters`,
      Code.InvalidArgument,
    );
  }
  if (!ID_PATTERN.test(value)) {
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
