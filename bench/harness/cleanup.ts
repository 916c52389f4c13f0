/**
 * A stack of undo steps: servers, agents, databases and directories a
 * scenario started. They run in reverse order, each once, and one that
 * fails does not stop the others.
 */
export class Cleanup {
  private readonly steps: { name: string; undo: () => Promise<void> }[] = [];

  /** Registers an undo step; returns a function that runs it early. */
  defer(name: string, undo: () => Promise<void> | void): () => Promise<void> {
    let done = false;
    const step = {
      name,
      undo: async () => {
        if (done) return;
        done = true;
        await undo();
      },
    };
    this.steps.push(step);
    return async () => {
      const index = this.steps.indexOf(step);
      if (index >= 0) this.steps.splice(index, 1);
      await step.undo();
    };
  }

  /** Runs every step, newest first; returns the errors, each named. */
  async runAll(): Promise<Error[]> {
    const errors: Error[] = [];
    while (this.steps.length > 0) {
      const step = this.steps.pop();
      if (!step) break;
      try {
        await step.undo();
      } catch (error) {
        errors.push(
          new Error(`cleanup "${step.name}" failed: ${String(error)}`, {
            cause: error,
          }),
        );
      }
    }
    return errors;
  }
}
