/**
 * How the bullmq executor's connections to Redis are doing. ioredis reconnects by itself;
 * this watch says when Redis went out of reach, tells the session when it is back (the
 * jobs still awaited are added again) or when it stayed away longer than the executor
 * waits (they fail), and keeps the process alive through the connections only while
 * work is awaited.
 */
import type { Redis } from 'ioredis';

/** What the session does when the link changes. */
export interface LinkHooks {
  /** Redis answers again after being out of reach. */
  regained(): void;
  /** Redis stayed out of reach longer than the reconnect timeout. */
  givenUp(): void;
}

/** Watches the command connection (the blocking one follows it: both go to one Redis). */
export class LinkWatch {
  readonly #connections: readonly Redis[];
  readonly #reconnectTimeoutMs: number;
  readonly #hooks: LinkHooks;
  #lostTimer: NodeJS.Timeout | undefined;
  #lost = false;
  #down = false;
  #busy = false;
  #stopped = false;
  /** Waiters for Redis to be back (true) or given up on (false). */
  #waiters: ((back: boolean) => void)[] = [];
  /** Waiters for Redis to be given up on (or the watch to stop). */
  #downWaiters: (() => void)[] = [];

  constructor(command: Redis, blocking: Redis, reconnectTimeoutMs: number, hooks: LinkHooks) {
    this.#connections = [command, blocking];
    this.#reconnectTimeoutMs = reconnectTimeoutMs;
    this.#hooks = hooks;
    command.on('close', () => this.#onClose());
    command.on('ready', () => this.#onReady());
    // A new socket after a reconnection keeps the process alive only while work waits.
    for (const connection of this.#connections) connection.on('connect', () => this.#apply());
    this.#apply();
  }

  /** Redis is out of reach now (commands wait for the reconnection). */
  get lost(): boolean {
    return this.#lost;
  }

  /** Redis has been out of reach longer than the reconnect timeout: new work fails at once. */
  get down(): boolean {
    return this.#down;
  }

  /**
   * Whether work is awaited: the connections then keep the process alive. An executor
   * left open after its work (a script that did not close it) does not hold the process.
   */
  hold(busy: boolean): void {
    if (busy === this.#busy) return;
    this.#busy = busy;
    this.#apply();
  }

  /**
   * Resolves true once Redis answers again (at once when it does now), false when it
   * stayed out of reach longer than the reconnect timeout or the watch stopped.
   */
  whenBack(): Promise<boolean> {
    if (!this.#lost) return Promise.resolve(true);
    if (this.#down || this.#stopped) return Promise.resolve(false);
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /**
   * Resolves once Redis has been out of reach longer than the reconnect timeout (at once
   * when it has now), or the watch stopped: what a command sent just as Redis went away
   * races, since ioredis may hold it for the reconnection without end.
   */
  whenDown(): Promise<void> {
    if (this.#down || this.#stopped) return Promise.resolve();
    return new Promise((resolve) => this.#downWaiters.push(resolve));
  }

  /** Stops watching (the executor closes). */
  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#lostTimer);
    this.#wake(false);
  }

  #wake(back: boolean): void {
    for (const resolve of this.#waiters.splice(0)) resolve(back);
    if (!back) for (const resolve of this.#downWaiters.splice(0)) resolve();
  }

  #apply(): void {
    // The wait for a reconnection holds the process while work is awaited.
    if (this.#busy) this.#lostTimer?.ref();
    else this.#lostTimer?.unref();
    for (const connection of this.#connections) {
      const socket = (connection as unknown as { stream?: { ref?(): void; unref?(): void } })
        .stream;
      if (this.#busy) socket?.ref?.();
      else socket?.unref?.();
    }
  }

  #onClose(): void {
    if (this.#stopped || this.#lost) return;
    this.#lost = true;
    this.#lostTimer = setTimeout(() => {
      this.#down = true;
      this.#wake(false);
      this.#hooks.givenUp();
    }, this.#reconnectTimeoutMs);
    // Idle, the wait need not hold the process (ioredis's reconnections may).
    if (!this.#busy) this.#lostTimer.unref();
  }

  #onReady(): void {
    if (this.#stopped || !this.#lost) return;
    clearTimeout(this.#lostTimer);
    this.#lost = false;
    this.#down = false;
    this.#wake(true);
    this.#hooks.regained();
  }
}
