/**
 * What every agent gets from the mesh it runs on (JarvisCore's injected `_redis_store`, `_blob_storage` and
 * `mailbox`): `kv`, shared key-value state (`mesh-context`, the bucket OpenAgentMesh's Python agents use too), `blobs`
 * (a local directory in one process, the `automesh-blobs` object store on NATS) and `mailbox` (durable messages by
 * role). An AutoAgent has them as `this.kv`, `this.blobs`, `this.mailbox`; a function agent's handler as `ctx.kv`, …;
 * the mesh as `mesh.kv`, `mesh.blobs`, `mesh.mailbox` (sending only). They exist from `mesh.start()` to `mesh.stop()`.
 */
import { join } from 'node:path';
import type { Bus } from '../transport/bus.js';
import type { SharedKv } from '../transport/oam/shared-kv.js';
import type { BlobStore } from './blob-store.js';
import { DirectoryBlobs } from './directory-blobs.js';
import { KvMailboxes } from './kv-mailbox.js';
import type { Mailbox, MailboxSender } from './mailbox.js';
import { ObjectStoreBlobs } from './object-store-blobs.js';

export interface AgentInfrastructure {
  /** Shared key-value state on the mesh (`mesh-context`). */
  readonly kv: SharedKv;
  /** Blobs: files by name, shared by every agent of the mesh. */
  readonly blobs: BlobStore;
  /** This agent's mailbox: sends to any role, receives this agent's messages. */
  readonly mailbox: Mailbox;
}

export interface InfrastructureOptions {
  bus: Bus;
  kv: SharedKv;
  /** NODE_NAME: `mesh.mailbox` sends as `mesh@<node>`. */
  node: string;
  /** Where a mesh in one process keeps its blobs (`<LOG_DIRECTORY>/blobs`). */
  logDirectory: string;
  onWarning: (message: string) => void;
}

export class MeshInfrastructure {
  readonly kv: SharedKv;
  readonly blobs: BlobStore;
  /** Sends as `mesh@<node>`. */
  readonly mailbox: MailboxSender;
  readonly #mailboxes: KvMailboxes;
  readonly #agents = new Map<string, AgentInfrastructure>();

  private constructor(kv: SharedKv, blobs: BlobStore, mailboxes: KvMailboxes, node: string) {
    this.kv = kv;
    this.blobs = blobs;
    this.#mailboxes = mailboxes;
    this.mailbox = mailboxes.sender(`mesh@${node}`);
  }

  /** Blobs in a directory on the in-process bus, in the object store on NATS; mailboxes on the bus's KV. */
  static async open(options: InfrastructureOptions): Promise<MeshInfrastructure> {
    const { bus } = options;
    const [blobs, mailboxes] = await Promise.all([
      bus.kind === 'nats' ? ObjectStoreBlobs.open(bus) : new DirectoryBlobs(join(options.logDirectory, 'blobs')),
      KvMailboxes.open(bus, { onWarning: options.onWarning }),
    ]);
    return new MeshInfrastructure(options.kv, blobs, mailboxes, options.node);
  }

  /** What the agent of this role (or function agent of this name) gets. */
  forAgent(role: string): AgentInfrastructure {
    let infra = this.#agents.get(role);
    if (!infra) {
      infra = { kv: this.kv, blobs: this.blobs, mailbox: this.#mailboxes.forRole(role) };
      this.#agents.set(role, infra);
    }
    return infra;
  }
}

/** Stands in until the mesh starts: each part throws, saying it comes with `mesh.start()`. */
export function notStartedInfrastructure(owner: string, prefix: 'this' | 'ctx'): AgentInfrastructure {
  const missing = (part: string): never => {
    throw new Error(
      `${owner}: ${prefix}.${part} is available after mesh.start(), while the agent runs on a started mesh; add the `
        + 'agent to a Mesh and await mesh.start() first.',
    );
  };
  return {
    get kv() {
      return missing('kv');
    },
    get blobs() {
      return missing('blobs');
    },
    get mailbox() {
      return missing('mailbox');
    },
  };
}
