import { randomUUID } from "node:crypto";
import { toJson } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import {
  LABEL_KEY,
  LOCK_TOKEN,
  MAX_AGENT_SLOTS as MAX_SLOTS,
} from "../../core/index.js";
import type { Hello } from "../../gen/deerflow/v1/agent_pb.js";
import { ResourcesSchema } from "../../gen/deerflow/v1/common_pb.js";
import type { JsonObject } from "../../plugin-sdk/index.js";
import { findNul, NUL_MESSAGE } from "../../workflow/index.js";
import type { LeaseRef } from "../leases/acknowledge-lease.js";
import type { AgentProfile } from "./register-agent.js";

const TYPE_PATTERN = /^[a-z][a-z0-9_-]*$/;

/** An agent id: a UUID by default, or a name the operator chose. */
const AGENT_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Labels an agent may declare and detect, together. */
const MAX_LABELS = 256;

/** The longest label value. */
const MAX_LABEL_VALUE = 1_024;

/**
 * Checks an agent's hello and turns it into a profile. Every problem is
 * reported at once, each naming its field; declared labels may not
 * contradict detected ones (SPEC §5).
 */
export function validateHello(hello: Hello): {
  profile: AgentProfile;
  held: LeaseRef[];
} {
  const problems: string[] = [];
  if (
    !Number.isInteger(hello.slots) ||
    hello.slots < 1 ||
    hello.slots > MAX_SLOTS
  ) {
    problems.push(`hello.slots: must be 1..${MAX_SLOTS}, got ${hello.slots}`);
  }
  if (hello.agentId !== "" && !AGENT_ID.test(hello.agentId)) {
    problems.push(
      `hello.agent_id: must be 1 to 128 letters, digits, '.', '_', ':' or '-', got ${JSON.stringify(hello.agentId.slice(0, 140))}`,
    );
  }
  if (hello.name.trim() === "") problems.push("hello.name: is required");
  for (const [field, token] of [
    ["process_token", hello.processToken],
    ["predecessor_token", hello.predecessorToken],
  ] as const) {
    // Empty, or what an agent's state-dir lock holds (a UUID from ours).
    if (token !== "" && !LOCK_TOKEN.test(token)) {
      problems.push(
        `hello.${field}: at most 128 printable ASCII characters without spaces, got ${JSON.stringify(token.slice(0, 140))}`,
      );
    }
  }
  const labelCount =
    Object.keys(hello.labels).length + Object.keys(hello.detectedLabels).length;
  if (labelCount > MAX_LABELS) {
    problems.push(
      `hello.labels: at most ${MAX_LABELS} labels and detected labels in all, got ${labelCount}`,
    );
  }
  for (const [field, labels] of [
    ["labels", hello.labels],
    ["detected_labels", hello.detectedLabels],
  ] as const) {
    for (const [key, value] of Object.entries(labels)) {
      const where = `hello.${field}${labelPath(key)}`;
      if (!LABEL_KEY.test(key))
        problems.push(`${where}: not a valid label key`);
      if (value.length > MAX_LABEL_VALUE) {
        problems.push(
          `${where}: a value of at most ${MAX_LABEL_VALUE} characters, got ${value.length}`,
        );
      }
    }
  }
  // PostgreSQL stores no NUL: refused here, naming where, rather than
  // failing the agent's registration as an internal error.
  for (const [field, value] of [
    ["name", hello.name],
    ["version", hello.version],
    ["labels", hello.labels],
    ["detected_labels", hello.detectedLabels],
  ] as const) {
    const at = findNul(value);
    if (at !== undefined) problems.push(`hello.${field}${at}: ${NUL_MESSAGE}`);
  }
  for (const [key, value] of Object.entries(hello.labels)) {
    const detected = hello.detectedLabels[key];
    if (detected !== undefined && detected !== value) {
      problems.push(
        `hello.labels${labelPath(key)}: declared "${value}" contradicts detected "${detected}"`,
      );
    }
  }
  const seen = new Set<string>();
  hello.taskTypes.forEach((t, i) => {
    if (!TYPE_PATTERN.test(t.type)) {
      problems.push(
        `hello.task_types[${i}].type: "${t.type}" must match ${TYPE_PATTERN}`,
      );
    } else if (seen.has(t.type)) {
      problems.push(`hello.task_types[${i}].type: "${t.type}" is listed twice`);
    }
    seen.add(t.type);
  });
  problems.push(...resourcesProblems(hello.resources));
  if (problems.length > 0) {
    throw new ConnectError(problems.join("; "), Code.InvalidArgument);
  }
  const profile: AgentProfile = {
    agentId: hello.agentId || randomUUID(),
    name: hello.name,
    version: hello.version,
    labels: { ...hello.labels },
    detectedLabels: { ...hello.detectedLabels },
    resources: hello.resources
      ? (toJson(ResourcesSchema, hello.resources) as JsonObject)
      : {},
    slots: hello.slots,
    taskTypes: hello.taskTypes.map((t) => ({
      type: t.type,
      plugin_version: t.pluginVersion,
      config_schema: t.configSchema ?? {},
    })),
    processToken: hello.processToken,
    predecessorToken: hello.predecessorToken,
  };
  const held = hello.heldLeases.map((l) => ({
    leaseId: l.leaseId,
    fencingToken: Number(l.fencingToken),
  }));
  return { profile, held };
}

/** Longer keys are cut in messages: they echo what the agent sent. */
const SHOWN_KEY_CHARS = 64;

/**
 * A label's place in a message: `.zone` for a valid key, else the key
 * quoted, cut to its first 64 characters.
 */
function labelPath(key: string): string {
  if (LABEL_KEY.test(key)) return `.${key}`;
  // By code point, so a cut never splits a character in two.
  const chars = Array.from(key);
  const shown =
    chars.length > SHOWN_KEY_CHARS
      ? `${chars.slice(0, SHOWN_KEY_CHARS).join("")}… (${chars.length} characters)`
      : key;
  return `[${JSON.stringify(shown)}]`;
}

/**
 * What the dispatcher could not count on in an agent's resources: amounts
 * below zero, and GPUs without a distinct index of their own (two GPUs
 * named 1 would both be handed out as GPU 1).
 */
function resourcesProblems(resources: Hello["resources"]): string[] {
  if (resources === undefined) return [];
  const problems: string[] = [];
  const amounts = {
    cpu_millis: resources.cpuMillis,
    memory_bytes: resources.memoryBytes,
    storage_bytes: resources.storageBytes,
  };
  for (const [field, value] of Object.entries(amounts)) {
    if (value < 0n) {
      problems.push(`hello.resources.${field}: must be >= 0, got ${value}`);
    }
  }
  const seen = new Set<number>();
  resources.gpus.forEach((gpu, i) => {
    const at = `hello.resources.gpus[${i}]`;
    if (gpu.index < 0) {
      problems.push(`${at}.index: must be >= 0, got ${gpu.index}`);
    } else if (seen.has(gpu.index)) {
      problems.push(`${at}.index: GPU ${gpu.index} is listed twice`);
    }
    seen.add(gpu.index);
    if (gpu.memoryBytes < 0n) {
      problems.push(`${at}.memory_bytes: must be >= 0, got ${gpu.memoryBytes}`);
    }
  });
  return problems;
}
