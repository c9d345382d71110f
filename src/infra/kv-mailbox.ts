/**
 * Mailboxes on a key-value bucket of the bus (`automesh-mailbox`; JetStream KV on NATS), with compare-and-set claims.
 *
 * One key per message, `<role>.<id>`, its value a JSON record (`v`, id, to, from, sentAt, body, deliveries, claim).
 * Ids start with the sending time in base 36, so keys sort oldest first. A reader claims a message by writing the
 * record back with `claim: { by, until }` under `update(key, …, revision)`: of two readers that saw the same revision,
 * one write wins and the other gets `kv_conflict` and skips that message, so each message has one reader at a time.
 * `ack` writes a done mark under the claim's revision (losing to a reader that took the message after the claim ran
 * out), then deletes the key; a done mark left by a reader that died between the two is deleted by the next scan. A
 * record that cannot be read (written by something else) is reported once through `onWarning` and skipped, so one
 * damaged record holds up no other message.
 */
import { randomBytes } from 'node:crypto';
import type { Bus, KvBucket, KvEntry, KvWatch } from '../transport/bus.js';
import { isBusError } from '../transport/bus-errors.js';
import { MeshError } from '../transport/oam/mesh-error.js';
import type { Mailbox, MailboxMessage, MailboxSender, ReceiveOptions, SentMessage } from './mailbox.js';

/** The key-value bucket of the mailboxes. */
export const MAILBOX_BUCKET = 'automesh-mailbox';

const DEFAULT_MAX = 10;
const MOST_AT_ONCE = 1000;
const DEFAULT_LEASE_MS = 60_000;
/** Room left in a message for the record's own fields and the KV headers. */
const RECORD_OVERHEAD = 1024;
/** Roles of AutoAgents and names of function agents: dot-separated tokens of letters, digits, `_` and `-`. */
const ROLE = /^[A-Za-z0-9_-]{1,128}(\.[A-Za-z0-9_-]{1,128})*$/;

interface Claim {
  by: string;
  /** Epoch ms. */
  until: number;
}

interface MailRecord {
  v: 1;
  id: string;
  to: string;
  from: string;
  sentAt: string;
  body: unknown;
  deliveries: number;
  claim: Claim | null;
  done?: true;
}

export interface MailboxesOptions {
  /** A record that cannot be read (skipped; said once per record). */
  onWarning: (message: string) => void;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();
let sequence = 0;

/** A new message id: sending time (base 36, fixed width), a per-process counter, random bits. */
function newId(now: number): string {
  sequence = (sequence + 1) % 36 ** 4;
  return `${now.toString(36).padStart(9, '0')}-${sequence.toString(36).padStart(4, '0')}-${randomBytes(5).toString('hex')}`;
}

function checkRole(role: unknown, doing: string): string {
  if (typeof role !== 'string' || !ROLE.test(role)) {
    throw new MeshError(
      'invalid_input',
      `${JSON.stringify(role)} is not a role to ${doing}: give an agent's role or name (letters, digits, "_", "-", `
        + 'dot-separated tokens, e.g. "researcher" or "nlp.summarizer").',
    );
  }
  return role;
}

function whole(value: unknown, name: string, least: number, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < least) {
    throw new MeshError(
      'invalid_input',
      `mailbox.receive(): ${name} must be a whole number ≥ ${least}, not ${String(value)}.`,
    );
  }
  return value;
}

function parse(entry: KvEntry): MailRecord | null {
  try {
    const record = JSON.parse(decoder.decode(entry.value)) as MailRecord;
    if (record?.v !== 1 || typeof record.id !== 'string') return null;
    if (record.done) return record;
    const fine =
      typeof record.from === 'string'
      && typeof record.sentAt === 'string'
      && Number.isInteger(record.deliveries)
      && (record.claim === null || (typeof record.claim?.by === 'string' && typeof record.claim.until === 'number'));
    return fine ? record : null;
  } catch {
    return null;
  }
}

export class KvMailboxes {
  readonly #bucket: KvBucket;
  readonly #bus: Pick<Bus, 'maxPayload' | 'onConnection'>;
  readonly #onWarning: (message: string) => void;
  /** `key@revision` of damaged records already reported. */
  readonly #reported = new Set<string>();

  constructor(bucket: KvBucket, bus: Pick<Bus, 'maxPayload' | 'onConnection'>, options: MailboxesOptions) {
    this.#bucket = bucket;
    this.#bus = bus;
    this.#onWarning = options.onWarning;
  }

  /** Opens (or creates, history 1) the `automesh-mailbox` bucket on `bus`. */
  static async open(bus: Bus, options: MailboxesOptions): Promise<KvMailboxes> {
    return new KvMailboxes(await bus.kv(MAILBOX_BUCKET, { history: 1 }), bus, options);
  }

  /** Sends as `from` (`mesh.mailbox`: `mesh@<node>`). */
  sender(from: string): MailboxSender {
    return { send: (role, message) => this.send(from, role, message) };
  }

  /** The mailbox of an agent: sends as `role`, receives `role`'s messages. */
  forRole(role: string): Mailbox {
    checkRole(role, 'receive for');
    const reader = `${role}@${randomBytes(6).toString('hex')}`;
    return {
      role,
      send: (to, message) => this.send(role, to, message),
      receive: <T>(options?: ReceiveOptions) => this.receive<T>(role, reader, options ?? {}),
      pending: async () => (await this.keysOf(role)).length,
    };
  }

  private async send(from: string, role: string, message: unknown): Promise<SentMessage> {
    checkRole(role, 'send to');
    const now = Date.now();
    const record: MailRecord = {
      v: 1,
      id: newId(now),
      to: role,
      from,
      sentAt: new Date(now).toISOString(),
      body: message,
      deliveries: 0,
      claim: null,
    };
    let text: string | undefined;
    try {
      text = JSON.stringify(record);
    } catch (err) {
      throw new MeshError(
        'invalid_input',
        `mailbox.send("${role}"): the message is not JSON data (${(err as Error).message}).`,
      );
    }
    if (message === undefined || text === undefined) {
      throw new MeshError('invalid_input', `mailbox.send("${role}") needs a message (JSON data), not undefined.`);
    }
    const bytes = encoder.encode(text);
    if (bytes.length > this.#bus.maxPayload - RECORD_OVERHEAD) {
      throw new MeshError(
        'payload_too_large',
        `mailbox.send("${role}"): the message is ${bytes.length} bytes, more than the bus carries in one message `
          + `(${this.#bus.maxPayload - RECORD_OVERHEAD}); put the data in blobs and send its name.`,
      );
    }
    await this.#bucket.create(`${role}.${record.id}`, bytes);
    return { id: record.id, to: role, sentAt: new Date(now) };
  }

  /** Keys of `role`'s messages, oldest first (a role `a` never sees the messages of a role `a.b`). */
  private async keysOf(role: string): Promise<string[]> {
    const prefix = `${role}.`;
    const keys = await this.#bucket.keys(prefix);
    return keys.filter((key) => key.startsWith(prefix) && !key.includes('.', prefix.length)).sort();
  }

  private async receive<T>(role: string, reader: string, options: ReceiveOptions): Promise<MailboxMessage<T>[]> {
    const max = whole(options.max, 'max', 1, DEFAULT_MAX);
    if (max > MOST_AT_ONCE) throw new MeshError('invalid_input', `mailbox.receive(): max is at most ${MOST_AT_ONCE}.`);
    const waitMs = whole(options.waitMs, 'waitMs', 0, 0);
    const leaseMs = whole(options.leaseMs, 'leaseMs', 1, DEFAULT_LEASE_MS);
    const { signal } = options;
    // The bus closing ends a wait at once: the next scan then fails saying so, instead of after waitMs.
    const closed = new AbortController();
    const unlisten = this.#bus.onConnection((event) => {
      if (event.type === 'closed') closed.abort();
    });
    const wake = signal ? AbortSignal.any([signal, closed.signal]) : closed.signal;
    const deadline = Date.now() + waitMs;
    let watch: KvWatch | null = null;
    let iterator: AsyncIterator<KvEntry> | null = null;
    let next: Promise<IteratorResult<KvEntry>> | null = null;
    const listen = (): Promise<IteratorResult<KvEntry>> => {
      const promise = (iterator as AsyncIterator<KvEntry>).next();
      // Settles after receive() returned once the watch stops; a failure while we wait is seen by the race below.
      promise.catch(() => undefined);
      return promise;
    };
    try {
      for (;;) {
        // Watching before the scan: a message sent between the scan and the wait still wakes the wait.
        if (waitMs > 0 && watch === null) {
          watch = await this.#bucket.watch({ key: `${role}.*`, initialValues: false });
          iterator = watch[Symbol.asyncIterator]();
          next = listen();
        }
        const { taken, nextExpiry } = await this.scan<T>(role, reader, max, leaseMs);
        const now = Date.now();
        if (taken.length > 0 || now >= deadline || signal?.aborted) return taken;
        const pending = next as Promise<IteratorResult<KvEntry>>;
        if (!(await waitFor(pending, Math.min(deadline, nextExpiry) - now, wake))) continue;
        if ((await pending).done) {
          // The watch ended (the bus closed or reconnected): the next round opens a new one, or fails saying why.
          watch?.stop();
          watch = null;
        } else {
          next = listen();
        }
      }
    } finally {
      unlisten();
      watch?.stop();
    }
  }

  /** Claims up to `max` of `role`'s messages that no live claim holds; says when the first live claim runs out. */
  private async scan<T>(
    role: string,
    reader: string,
    max: number,
    leaseMs: number,
  ): Promise<{ taken: MailboxMessage<T>[]; nextExpiry: number }> {
    const taken: MailboxMessage<T>[] = [];
    let nextExpiry = Number.POSITIVE_INFINITY;
    for (const key of await this.keysOf(role)) {
      if (taken.length >= max) break;
      const entry = await this.#bucket.get(key);
      if (entry === null) continue;
      const record = parse(entry);
      if (record === null) {
        this.reportDamaged(key, entry.revision);
        continue;
      }
      if (record.done) {
        await this.#bucket.delete(key);
        continue;
      }
      const now = Date.now();
      if (record.claim !== null && record.claim.until > now) {
        nextExpiry = Math.min(nextExpiry, record.claim.until);
        continue;
      }
      const claimed: MailRecord = {
        ...record,
        deliveries: record.deliveries + 1,
        claim: { by: reader, until: now + leaseMs },
      };
      let revision: number;
      try {
        revision = await this.#bucket.update(key, encoder.encode(JSON.stringify(claimed)), entry.revision);
      } catch (err) {
        if (isBusError(err, 'kv_conflict')) continue; // another reader claimed it first
        throw err;
      }
      taken.push(this.message<T>(key, claimed, revision, leaseMs));
    }
    return { taken, nextExpiry };
  }

  private message<T>(key: string, record: MailRecord, revision: number, leaseMs: number): MailboxMessage<T> {
    let settled: Promise<void> | null = null;
    const bucket = this.#bucket;
    return {
      id: record.id,
      to: record.to,
      from: record.from,
      sentAt: new Date(record.sentAt),
      body: record.body as T,
      deliveries: record.deliveries,
      ack() {
        settled ??= (async () => {
          try {
            await bucket.update(key, encoder.encode(JSON.stringify({ v: 1, id: record.id, done: true })), revision);
          } catch (err) {
            if (!isBusError(err, 'kv_conflict')) throw err;
            throw new MeshError(
              'kv_conflict',
              `Message ${record.id} to "${record.to}" was not acknowledged: its claim ran out (leaseMs ${leaseMs}) and `
                + 'it was delivered again to another reader, which has it now. Receive with a longer leaseMs for '
                + 'work that takes longer.',
              { cause: err },
            );
          }
          await bucket.delete(key);
        })();
        return settled;
      },
      release() {
        settled ??= (async () => {
          try {
            await bucket.update(key, encoder.encode(JSON.stringify({ ...record, claim: null })), revision);
          } catch (err) {
            // The claim ran out and another reader took it: handed back already.
            if (!isBusError(err, 'kv_conflict')) throw err;
          }
        })();
        return settled;
      },
    };
  }

  private reportDamaged(key: string, revision: number): void {
    const mark = `${key}@${revision}`;
    if (this.#reported.has(mark)) return;
    this.#reported.add(mark);
    this.#onWarning(
      `Mailbox record ${key} (revision ${revision}) in bucket ${MAILBOX_BUCKET} is not a message automesh wrote; it is `
        + 'skipped. Delete it from the bucket if nothing else needs it.',
    );
  }
}

/** Waits until `event` settles (true), `ms` pass or `signal` aborts (false); rejects when `event` rejects. */
async function waitFor(event: Promise<unknown>, ms: number, signal: AbortSignal | undefined): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  try {
    return await Promise.race([
      event.then(() => true),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), Math.max(0, Math.min(ms, 2 ** 31 - 1)));
        onAbort = () => resolve(false);
        signal?.addEventListener('abort', onAbort, { once: true });
      }),
    ]);
  } finally {
    clearTimeout(timer);
    if (onAbort) signal?.removeEventListener('abort', onAbort);
  }
}
