/** The exit code after Ctrl-C, as shells report a SIGINT death. */
export const INTERRUPTED_EXIT_CODE = 130;

/** What a foreground command does when SIGINT or SIGTERM arrives. */
export interface InterruptOptions {
  /** Called on the first signal; what it returns is printed on stderr. */
  message?: () => string | undefined;
  /** Stops what the command started (agents, servers) before the exit. */
  cleanup?: () => Promise<void>;
}

/** Handle on the installed signal handlers. */
export interface InterruptGuard {
  /** True once a signal arrived: the command's own ending is moot. */
  readonly interrupted: boolean;
  /** Removes the handlers (the command finished on its own). */
  dispose(): void;
}

/**
 * Makes SIGINT and SIGTERM end a foreground command with exit 130 after
 * its cleanup, instead of Node's default of dying at once and leaving
 * what the command started behind. A second signal exits at once.
 */
export function exitOnInterrupt(options: InterruptOptions): InterruptGuard {
  let interrupted = false;
  const onSignal = () => {
    if (interrupted) process.exit(INTERRUPTED_EXIT_CODE);
    interrupted = true;
    const message = options.message?.();
    if (message) process.stderr.write(`${message}\n`);
    const cleanup = options.cleanup ?? (async () => {});
    cleanup().then(
      () => process.exit(INTERRUPTED_EXIT_CODE),
      (error: unknown) => {
        process.stderr.write(
          `deerflow: stopping failed: ${(error as Error)?.message ?? error}\n`,
        );
        process.exit(INTERRUPTED_EXIT_CODE);
      },
    );
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  return {
    get interrupted() {
      return interrupted;
    },
    dispose() {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
    },
  };
}
