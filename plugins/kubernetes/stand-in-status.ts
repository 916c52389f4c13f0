/**
 * metav1.Status objects as the Kubernetes API server sends them with an
 * error, for the stand-in.
 */

/** One field problem of a 422 Invalid. */
export interface StatusCause {
  field: string;
  message: string;
  reason?: string;
}

/** A Status body and the HTTP code it goes with. */
export interface StatusReply {
  code: number;
  body: Record<string, unknown>;
}

/** A failure Status for `code`, with the reason the API server uses. */
export function failure(
  code: number,
  reason: string,
  message: string,
  details?: Record<string, unknown>,
): StatusReply {
  return {
    code,
    body: {
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Failure",
      message,
      reason,
      ...(details ? { details } : {}),
      code,
    },
  };
}

/** 404 for a missing object, e.g. `jobs.batch "x" not found`. */
export function notFound(resource: string, name: string): StatusReply {
  const [kind = resource, group = ""] = resource.split(".", 2);
  return failure(404, "NotFound", `${resource} "${name}" not found`, {
    name,
    group,
    kind,
  });
}

/** 422 with the field causes, as admission and validation report them. */
export function invalid(
  kind: string,
  name: string,
  causes: StatusCause[],
): StatusReply {
  const summary = causes.map((c) => `${c.field}: ${c.message}`).join(", ");
  return failure(422, "Invalid", `${kind} "${name}" is invalid: ${summary}`, {
    name,
    group: "batch",
    kind: "jobs",
    causes: causes.map((c) => ({
      reason: c.reason ?? "FieldValueInvalid",
      message: c.message,
      field: c.field,
    })),
  });
}

/** A Success Status, as sent for a delete with a propagation policy. */
export function success(details: Record<string, unknown>): StatusReply {
  return {
    code: 200,
    body: {
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Success",
      details,
    },
  };
}
