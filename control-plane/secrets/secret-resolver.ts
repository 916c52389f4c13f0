import type { JsonObject } from "../../plugin-sdk/index.js";
import {
  describeSecretSource,
  readSecretSource,
  referencedSecrets,
  type SecretProvider,
  type SecretSource,
} from "../../workflow/index.js";
import { SecretProviderError } from "./secret-provider-error.js";
import type { SecretReader } from "./secret-reader.js";

/** One reader per provider. */
export type SecretReaders = {
  [P in SecretProvider]: SecretReader<Extract<SecretSource, { provider: P }>>;
};

/** What the resolver needs of a claimed task. */
export interface TaskSecretsRequest {
  taskId: string;
  /** The task's config, templates unrendered. */
  config: JsonObject;
  /** The task's `secrets` block as stored, if any. */
  secretsBlock?: JsonObject | undefined;
}

/**
 * A secret of a task could not be resolved. The message names the task,
 * the secret and the provider, and why; never a value.
 */
export class SecretResolutionError extends Error {
  override readonly name = "SecretResolutionError";
  readonly code = "secret_unresolved";
  constructor(
    readonly taskId: string,
    readonly secretName: string,
    readonly provider: string,
    reason: string,
    options?: ErrorOptions,
  ) {
    super(
      `task ${taskId}: secret ${secretName} (${provider}) could not be ` +
        `resolved: ${reason}`,
      options,
    );
  }
}

/**
 * The secrets a task receives: its `secrets` block, plus each
 * `${secrets.NAME}` its config reads that the block does not declare,
 * which reads the built-in store entry of that name.
 */
export function taskSecretSources(
  request: TaskSecretsRequest,
): Map<string, SecretSource | Error> {
  const sources = new Map<string, SecretSource | Error>();
  for (const [name, raw] of Object.entries(request.secretsBlock ?? {})) {
    const problems: string[] = [];
    const source = readSecretSource(raw, `secrets.${name}`, (field, m) =>
      problems.push(`${field}: ${m}`),
    );
    sources.set(name, source ?? new Error(problems.join("; ")));
  }
  for (const name of referencedSecrets(request.config)) {
    if (!sources.has(name)) sources.set(name, { provider: "store", name });
  }
  return sources;
}

/**
 * Resolves a task's secrets at dispatch, all at once, within `timeoutMs`.
 * The first secret that fails fails the whole set.
 */
export class SecretResolver {
  constructor(
    private readonly readers: SecretReaders,
    private readonly timeoutMs: number,
  ) {}

  /** True when the task receives any secret. */
  needsSecrets(request: TaskSecretsRequest): boolean {
    if (Object.keys(request.secretsBlock ?? {}).length > 0) return true;
    return referencedSecrets(request.config).size > 0;
  }

  /**
   * The task's secrets by the names it sees. Rejects with a
   * {@link SecretResolutionError} for the first one that fails.
   */
  async resolve(request: TaskSecretsRequest): Promise<Record<string, string>> {
    const sources = taskSecretSources(request);
    if (sources.size === 0) return {};
    const stop = new AbortController();
    const signal = AbortSignal.any([
      stop.signal,
      AbortSignal.timeout(this.timeoutMs),
    ]);
    try {
      const entries = await Promise.all(
        [...sources].map(async ([name, source]) => {
          const value = await this.readOne(
            request.taskId,
            name,
            source,
            signal,
          );
          return [name, value] as const;
        }),
      );
      return Object.fromEntries(entries);
    } finally {
      stop.abort();
    }
  }

  private async readOne(
    taskId: string,
    name: string,
    source: SecretSource | Error,
    signal: AbortSignal,
  ): Promise<string> {
    if (source instanceof Error) {
      throw new SecretResolutionError(taskId, name, "?", source.message);
    }
    const where = describeSecretSource(source);
    try {
      const reader = this.readers[source.provider] as SecretReader;
      const value = await reader.read(source, signal);
      if (value.includes("\u0000")) {
        // Never passed on: the task's error would quote the value.
        throw new SecretProviderError(
          "the value holds a NUL character (\\u0000), which an environment variable cannot carry",
          "secret_value_invalid",
        );
      }
      return value;
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      const timedOut =
        signal.aborted && !(error instanceof SecretProviderError);
      throw new SecretResolutionError(
        taskId,
        name,
        where,
        timedOut ? `no answer within ${this.timeoutMs} ms` : reason,
        { cause: error },
      );
    }
  }
}
