import type { Bindings, Level, Logger } from "pino";

/** What an attempt logs with: a constant message and its fields. */
export interface AttemptLogger {
  debug(fields: object, message: string): void;
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
}

/**
 * A child logger made on the first line it actually writes. pino
 * serializes a child's bindings when the child is made, and a busy agent
 * made one per attempt (about 2 µs each, in profiles as `asChindings`)
 * though a successful attempt logs only at debug, which is usually off.
 * The lines written are the child's, as before.
 *
 * The child takes the parent's level when it is made (first use) rather
 * than when the attempt starts; the agent never changes levels at run
 * time, so the two are the same.
 */
export class LazyChildLogger implements AttemptLogger {
  private child: Logger | undefined;

  constructor(
    private readonly parent: Logger,
    private readonly bindings: Bindings,
  ) {}

  debug(fields: object, message: string): void {
    this.write("debug", fields, message);
  }

  info(fields: object, message: string): void {
    this.write("info", fields, message);
  }

  warn(fields: object, message: string): void {
    this.write("warn", fields, message);
  }

  private write(level: Level, fields: object, message: string): void {
    if (this.child === undefined) {
      if (!this.parent.isLevelEnabled(level)) return;
      this.child = this.parent.child(this.bindings);
    }
    this.child[level](fields, message);
  }
}
