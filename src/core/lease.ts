/**
 * The lease that makes one process the owner of a run. `withRun` takes it when it opens
 * the run, renews it with a heartbeat while the run works, and releases it when the run
 * finishes: another process opening the run meanwhile is refused, since both would run
 * the same tasks. A run whose owner died is free once its lease expires, and at once when
 * the owner was a process of this machine that is gone. An owner that cannot renew its
 * lease stops its work on the run before the lease expires.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import { isWeftError, RunBusyError, type WireError } from './errors.ts';
import type { RunRecord, RunStatus, Store } from './store.ts';

/**
 * The machine and process that an owner token of weft's form (`host:pid:random:machine`,
 * or `host:pid:random` from an older weft) names.
 */
export interface LeaseHolder {
  readonly host: string;
  readonly pid: number;
  /** The holder's {@link machineIdentity}; undefined in a token of an older weft. */
  readonly machine?: string;
}

let identity: string | null | undefined;

/**
 * The kernel and pid namespace of this process, as a short digest: processes with the
 * same one see the same pids. A hostname alone does not tell, since containers sharing
 * their host's network, and cloned machines, share it too. On Linux from the boot id and
 * the pid namespace; empty elsewhere; undefined when Linux does not say.
 */
export function machineIdentity(): string | undefined {
  identity ??= readMachineIdentity() ?? null;
  return identity ?? undefined;
}

function readMachineIdentity(): string | undefined {
  if (process.platform !== 'linux') return '';
  try {
    const boot = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    const namespace = statSync('/proc/self/ns/pid').ino;
    return createHash('sha256').update(`${boot}:${namespace}`).digest('hex').slice(0, 12);
  } catch {
    return undefined;
  }
}

/** A new owner token, `host:pid:random:machine`: unique to one opening of a run. */
export function newOwner(): string {
  const machine = machineIdentity();
  const token = `${hostname()}:${process.pid}:${randomBytes(6).toString('hex')}`;
  return machine === undefined ? token : `${token}:${machine}`;
}

/** The machine and process `owner` names, or undefined for a token not of weft's form. */
export function holderOf(owner: string): LeaseHolder | undefined {
  // The host as short as it can be, so that a random part of digits is not taken for a pid.
  const current = /^(.+?):(\d{1,15}):[^:]*:([0-9a-f]*)$/.exec(owner);
  const match = current ?? /^(.+):(\d{1,15}):[^:]*$/.exec(owner);
  if (!match) return undefined;
  const pid = Number(match[2]);
  if (!(pid > 0)) return undefined;
  return current ? { host: match[1]!, pid, machine: current[3]! } : { host: match[1]!, pid };
}

/**
 * Whether `owner` is known to be dead: a process of this machine, and of this pid
 * namespace, that is gone. Any other owner (on another machine, in another container of
 * the same hostname, from an older weft that did not say) is not known dead: its lease
 * has to expire.
 */
export function holderIsDead(owner: string): boolean {
  const holder = holderOf(owner);
  if (!holder || holder.host !== hostname() || holder.pid === process.pid) return false;
  if (holder.machine === undefined || holder.machine !== machineIdentity()) return false;
  try {
    process.kill(holder.pid, 0);
    return false;
  } catch (error) {
    // EPERM: the process lives, under another user.
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/** `owner` as words: `process 4711 on this machine (box)`, `process 4711 on box-2`. */
export function describeHolder(owner: string): string {
  const holder = holderOf(owner);
  if (!holder) return `owner '${owner}'`;
  return holder.host === hostname()
    ? `process ${holder.pid} on this machine (${holder.host})`
    : `process ${holder.pid} on ${holder.host}`;
}

/**
 * Whether a live owner holds `run` now: the run is running, its lease has not expired and
 * its holder is not known dead (see {@link holderIsDead}).
 */
export function isOwnedNow(run: RunRecord, now = Date.now()): boolean {
  return (
    run.status === 'running' &&
    run.owner !== undefined &&
    (run.leaseExpiresAt ?? 0) > now &&
    !holderIsDead(run.owner)
  );
}

/** Options of {@link RunLease.take}. */
export interface RunLeaseOptions {
  /** How long the lease lasts without renewal, in milliseconds. */
  readonly leaseMs: number;
  /** Take the run over from whoever holds it. */
  readonly takeOver: boolean;
}

/**
 * A run opened by this process, with its lease: renewed every third of the lease until
 * {@link RunLease.finish}, or until a renewal finds that another process took the run over.
 * Should renewals fail (the store out of reach) until the lease nearly expires, the run
 * stops too: past that, another process may take it.
 */
export class RunLease {
  /** The run as recorded when it was opened. */
  readonly record: RunRecord;
  /** This opening's owner token. */
  readonly owner: string;
  /** Rejects with a RunBusyError once the lease is lost; never resolves. */
  readonly lost: Promise<never>;
  readonly #store: Store;
  readonly #leaseMs: number;
  readonly #controller = new AbortController();
  readonly #timer: ReturnType<typeof setInterval>;
  /** Stops the run when no renewal held in time (see {@link RunLease.#fence}). */
  #fenceTimer: ReturnType<typeof setTimeout> | undefined;
  /**
   * When the last renewal that held was sent, by this process's monotonic clock: the lease
   * lasts at least `leaseMs` from then, whatever the store's clock says.
   */
  #renewedAt: number;
  #renewalError: unknown;
  #renewing = false;
  #finished = false;
  #lose: (error: RunBusyError) => void = () => {};

  /**
   * Opens the run `id` of `store` and takes its lease. An owner known to be dead (see
   * {@link holderIsDead}), or any owner with `takeOver`, is taken over at once.
   * @throws RunBusyError naming the owner while another owner's lease on the run lasts
   */
  static async take(
    store: Store,
    id: string,
    meta: Readonly<Record<string, unknown>>,
    { leaseMs, takeOver }: RunLeaseOptions,
  ): Promise<RunLease> {
    const owner = newOwner();
    let sentAt = performance.now();
    let record: RunRecord;
    try {
      record = await store.openRun(id, meta, { owner, leaseMs });
    } catch (error) {
      if (!isWeftError(error, 'WEFT_RUN_BUSY')) throw error;
      const { owner: holder, leaseExpiresAt } = error as RunBusyError;
      if (!takeOver && !holderIsDead(holder)) throw busy(id, holder, leaseExpiresAt);
      // Only that holder's lease is taken: were the run taken by a third owner meanwhile,
      // this open is refused as any other.
      sentAt = performance.now();
      record = await store.openRun(id, meta, { owner, leaseMs, takeOverFrom: holder });
    }
    return new RunLease(store, record, owner, leaseMs, sentAt);
  }

  private constructor(
    store: Store,
    record: RunRecord,
    owner: string,
    leaseMs: number,
    sentAt: number,
  ) {
    this.#store = store;
    this.record = record;
    this.owner = owner;
    this.#leaseMs = leaseMs;
    this.#renewedAt = sentAt;
    this.lost = new Promise<never>((_, reject) => {
      this.#lose = reject;
    });
    // Nobody need wait for it: a run that ends first never loses its lease.
    this.lost.catch(() => {});
    // The heartbeat alone does not keep the process alive: the run's work does.
    this.#timer = setInterval(() => void this.#renew(), Math.max(1, Math.floor(leaseMs / 3)));
    this.#timer.unref();
    this.#armFence();
  }

  /** Aborted, with a RunBusyError, once the lease is lost. */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** Whether the run was taken over, or its lease could not be renewed in time. */
  get isLost(): boolean {
    return this.#controller.signal.aborted;
  }

  /**
   * `work`'s outcome, unless the lease is lost first: then the RunBusyError of
   * {@link RunLease.lost}, which names the new owner (work stopped by {@link signal}
   * settles before it is known).
   */
  guard<T>(work: T | PromiseLike<T>): Promise<Awaited<T>> {
    const settled = Promise.resolve(work).then(
      (value) => (this.isLost ? this.lost : value),
      (error: unknown) => (this.isLost ? this.lost : Promise.reject(error)),
    );
    return Promise.race([settled, this.lost]);
  }

  /**
   * Stops the heartbeat and records the run finished, which releases the lease. A run
   * whose lease is lost is left as it is: it belongs to its new owner, or soon may.
   */
  async finish(status: Exclude<RunStatus, 'running'>, error?: WireError): Promise<void> {
    this.#finished = true;
    this.#stopTimers();
    if (this.isLost) return;
    await this.#store.finishRun(this.record.id, status, error, this.owner);
  }

  async #renew(): Promise<void> {
    if (this.#renewing || this.#finished || this.isLost) return;
    this.#renewing = true;
    const sentAt = performance.now();
    try {
      const held = await this.#store.renewLease(this.record.id, this.owner, this.#leaseMs);
      if (this.#finished || this.isLost) return;
      if (!held) return this.#lost();
      this.#renewedAt = sentAt;
      this.#renewalError = undefined;
      this.#armFence();
    } catch (error) {
      // The store is out of reach: try again at the next beat; the fence stops the run
      // should no renewal hold before the lease runs out.
      this.#renewalError = error;
    } finally {
      this.#renewing = false;
    }
  }

  /**
   * Stops the run a sixth of the lease before it expires, counted from the last renewal
   * that held: one failed renewal is retried in time, and the run stops before another
   * process may take it.
   */
  #armFence(): void {
    clearTimeout(this.#fenceTimer);
    const deadline = this.#renewedAt + this.#leaseMs - this.#leaseMs / 6;
    this.#fenceTimer = setTimeout(() => this.#fence(), Math.max(0, deadline - performance.now()));
    this.#fenceTimer.unref();
  }

  #fence(): void {
    if (this.#finished || this.isLost) return;
    const id = this.record.id;
    const ms = Math.round(performance.now() - this.#renewedAt);
    const reason = this.#renewalError;
    const why =
      reason === undefined
        ? 'no renewal answered'
        : clip(reason instanceof Error ? reason.message : String(reason));
    const expiresAt = Date.now() + (this.#renewedAt + this.#leaseMs - performance.now());
    this.#stop(
      new RunBusyError(
        id,
        this.owner,
        Math.round(expiresAt),
        `This process could not renew its lease on run '${id}' for ${ms} ms (${why}): ` +
          'once the lease expires another process may take the run over, so this process ' +
          'stopped its work on the run. Resume the run once its store can be reached.',
      ),
    );
  }

  async #lost(): Promise<void> {
    const id = this.record.id;
    // The run's work stops at once; withRun's error names the new owner once read.
    this.#controller.abort(
      new RunBusyError(
        id,
        '',
        0,
        `Run '${id}' was taken over: this process no longer owns it, ` +
          'so it stopped its work on the run and left the run to its new owner.',
      ),
    );
    this.#stopTimers();
    const now = await this.#store.getRun(id).catch(() => undefined);
    const by = now?.owner === undefined ? undefined : describeHolder(now.owner);
    this.#lose(
      new RunBusyError(
        id,
        now?.owner ?? '',
        now?.leaseExpiresAt ?? 0,
        `Run '${id}' was taken over${by ? ` by ${by}` : ''}: this process no longer owns it, ` +
          'so it stopped its work on the run and left the run to its new owner.',
      ),
    );
  }

  #stop(error: RunBusyError): void {
    this.#stopTimers();
    this.#controller.abort(error);
    this.#lose(error);
  }

  #stopTimers(): void {
    clearInterval(this.#timer);
    clearTimeout(this.#fenceTimer);
  }
}

function clip(text: string): string {
  return text.length > 200 ? `${text.slice(0, 199)}…` : text;
}

/** The refusal of a run that a live owner holds. */
function busy(id: string, owner: string, leaseExpiresAt: number): RunBusyError {
  return new RunBusyError(
    id,
    owner,
    leaseExpiresAt,
    `Run '${id}' is owned by ${describeHolder(owner)}, whose lease lasts until ` +
      `${new Date(leaseExpiresAt).toISOString()}: two processes would run the same tasks. ` +
      'Wait for it to finish, or stop it. If it is dead, the run is free once its lease ' +
      'expires, or at once when taken over (withRun with takeOver: true; weft resume --force).',
  );
}
