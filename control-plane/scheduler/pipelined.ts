/**
 * Statements of one transaction sent without waiting for their answers.
 *
 * A transaction's statements run in the order they are sent, so a read
 * sent after a write sees it: a write whose answer nothing needs can go
 * out at once and share a round trip with whatever is sent next. `done`
 * waits for every answer, and throws the first error among them.
 */
export class Pipelined {
  #pending: Promise<unknown>[] = [];

  /** Sends `statement` now (a drizzle query runs when it is awaited). */
  send(statement: PromiseLike<unknown>): void {
    this.ask(statement);
  }

  /** Sends `statement` now, for an answer awaited later. */
  ask<T>(statement: PromiseLike<T>): Promise<T> {
    const answer = new Promise<T>((resolve, reject) => {
      statement.then(resolve, reject);
    });
    // Answered in done(); an error is not unhandled while a later
    // statement of the aborted transaction fails first.
    answer.catch(() => {});
    this.#pending.push(answer);
    return answer;
  }

  /**
   * Runs `work`, which may send more, then waits for every statement
   * sent. When `work` fails, a statement sent before it that failed
   * first is the error thrown: the later one only says the transaction
   * was aborted.
   */
  async around<T>(work: () => Promise<T>): Promise<T> {
    let result: T;
    try {
      result = await work();
    } catch (error) {
      await this.done();
      throw error;
    }
    await this.done();
    return result;
  }

  /**
   * Runs `work`, which may send more, and returns without waiting for
   * the statements sent: the caller collects them with done(), or lets
   * its transaction's COMMIT follow them. When `work` fails, the error
   * thrown is chosen as around() chooses it.
   */
  async before<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      await this.done();
      throw error;
    }
  }

  /** Waits for every statement sent so far. */
  async done(): Promise<void> {
    const pending = this.#pending;
    this.#pending = [];
    await Promise.all(pending);
  }
}
