/**
 * The mailbox contract: durable messages to an agent by role, read when the agent is ready (JarvisCore's `mailbox`).
 * `this.mailbox` (an AutoAgent) and `ctx.mailbox` (a function agent) send to any role and receive their own agent's
 * messages; `mesh.mailbox` sends from anywhere. The one implementation (`kv-mailbox.ts`) is on the bus's key-value
 * buckets, so it is the same on the in-process bus and on NATS.
 *
 * Delivery is at least once, with acknowledgements:
 * - `receive()` claims messages for `leaseMs`; while a claim holds, no other reader (another replica of the role, in
 *   this process or another) gets that message, so each message goes to one reader at a time.
 * - `message.ack()` when done removes it for good. A reader that dies, or does not ack within `leaseMs`, loses its
 *   claim: the message is delivered again (`deliveries` counts the deliveries) to the next `receive()` of the role.
 *   So a message is never lost to a crash, and may be handled twice: make handling idempotent, or check `deliveries`.
 * - `message.release()` hands it back at once (not handled here, deliver it again).
 * - An `ack()` after the claim was lost (the lease ran out and another reader took the message) throws `kv_conflict`:
 *   the other reader has it now.
 * Claims compare wall clocks of the readers' machines: keep them synchronised (NTP) well within `leaseMs`.
 */

/** What `receive` takes. */
export interface ReceiveOptions {
  /** Most messages to take (default 10). */
  max?: number;
  /** When none is pending, wait up to this long for one (default 0: return at once). */
  waitMs?: number;
  /** How long the messages are this reader's before they are delivered again unless acknowledged (default 60 s). */
  leaseMs?: number;
  /** Stops waiting (resolving with what was taken so far: nothing). */
  signal?: AbortSignal;
}

/** One message, as `receive` gives it. */
export interface MailboxMessage<T = unknown> {
  /** Unique; ids of one sender sort in sending order. */
  readonly id: string;
  /** The role the message was sent to. */
  readonly to: string;
  /** Who sent it: an agent's role, or `mesh@<NODE_NAME>` for `mesh.mailbox.send`. */
  readonly from: string;
  readonly sentAt: Date;
  /** What was sent (JSON data). */
  readonly body: T;
  /** 1 on the first delivery; more after a reader died or released it. */
  readonly deliveries: number;
  /** Done with it: removes it for good. `kv_conflict` when this reader's claim was lost meanwhile. */
  ack(): Promise<void>;
  /** Not handled: deliver it again, at once, to the next `receive`. */
  release(): Promise<void>;
}

/** What `send` resolves with. */
export interface SentMessage {
  readonly id: string;
  readonly to: string;
  readonly sentAt: Date;
}

/** Sends to any role's mailbox (`mesh.mailbox`). */
export interface MailboxSender {
  /**
   * Leaves `message` (JSON data) in `role`'s mailbox; it waits there, surviving restarts (of the mesh on NATS: of
   * nats-server too), until an agent of that role receives and acknowledges it. The role need not be running yet.
   */
  send(role: string, message: unknown): Promise<SentMessage>;
}

/** An agent's mailbox: sends to any role, receives its own role's messages. */
export interface Mailbox extends MailboxSender {
  /** The role whose messages `receive` takes. */
  readonly role: string;
  /** This role's pending messages, oldest first (see the module comment for the claims and acks). */
  receive<T = unknown>(options?: ReceiveOptions): Promise<MailboxMessage<T>[]>;
  /** Messages waiting in this role's mailbox (claimed or not), not yet acknowledged. */
  pending(): Promise<number>;
}
