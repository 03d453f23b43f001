/**
 * The consumer's wake-up (the role of Kafka's `ConsumerNetworkClient.wakeup()` for a poll that
 * waits): a poll sleeps until a record is appended, the group changes, or its timeout.
 *
 * @module
 */

/**
 * Wakes one sleeper at a time; a wake-up with no sleeper is kept for the next sleep, so none is
 * lost between a poll's reads and its sleep.
 *
 * @example A wake-up before the sleep ends it at once
 * ```ts
 * import assert from "node:assert/strict";
 * import { WakeSignal } from "./_wake_signal.ts";
 * const signal = new WakeSignal();
 * signal.wake();
 * const started = Date.now();
 * await signal.sleep(60_000);
 * assert.ok(Date.now() - started < 30_000);
 * const sleeping = signal.sleep(60_000);
 * signal.wake();
 * await sleeping;
 * ```
 */
export class WakeSignal {
  #wake: (() => void) | undefined;
  #pending = false;

  /**
   * Sleeps until {@linkcode WakeSignal.wake} or `ms` pass, whichever comes first.
   *
   * @param ms the longest sleep, ms
   */
  sleep(ms: number): Promise<void> {
    if (this.#pending) {
      this.#pending = false;
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.#wake = undefined;
        resolve();
      }, ms);
      this.#wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  /** Ends the current sleep, or the next one if none is on. */
  wake(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    if (wake) wake();
    else this.#pending = true;
  }
}
