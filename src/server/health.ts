/**
 * `GET /health`: whether the mesh behind the service runs, and what to look at when it does not: this node, the
 * transport and its connection (NATS: connected, disconnected while the broker restarts, closed), the agents on
 * the mesh, and the last problems (the mesh's warnings, the service's own failures), newest last.
 */
import { redactSecrets } from '../llm/redact.js';
import type { Mesh } from '../mesh/mesh.js';
import type { CatalogEntry } from '../transport/oam/contract-types.js';

export interface HealthReport {
  /** `ok`; `degraded` while the connection is down; `stopped` before the mesh starts or after it stops. */
  status: 'ok' | 'degraded' | 'stopped';
  node: { name: string; instanceId: string } | null;
  transport: { kind: 'in-process' | 'nats'; location: string } | null;
  connection: { state: 'connected' | 'disconnected' | 'closed'; since: string } | null;
  /** The agents of the mesh's catalog (this process's and others'). */
  peers: Array<Pick<CatalogEntry, 'name' | 'description' | 'tags' | 'invocable' | 'streaming'>>;
  lastErrors: Array<{ at: string; message: string }>;
}

/** Most problems remembered. */
const KEEP_ERRORS = 20;

export class HealthMonitor {
  private readonly errors: Array<{ at: string; message: string }> = [];
  private connection: { instanceId: string; state: 'connected' | 'disconnected' | 'closed'; since: string } | null =
    null;
  private stopFollowing: () => void = () => undefined;
  private readonly onWarning = (warning: { message: string }): void => this.recordError(warning.message);

  constructor(
    private readonly mesh: Mesh,
    /** Where problems are written as they happen too (the mesh writes its warnings to stderr when nobody listens). */
    private readonly log: (line: string) => void,
    /** The secrets no problem may show (a provider's error may quote its key). */
    private readonly secrets: () => readonly string[],
  ) {
    mesh.on('warning', this.onWarning);
  }

  recordError(problem: string): void {
    const message = redactSecrets(problem, this.secrets());
    this.errors.push({ at: new Date().toISOString(), message });
    if (this.errors.length > KEEP_ERRORS) this.errors.shift();
    this.log(`automesh serve: ${message}`);
  }

  /** Follows the connection of the mesh's current start (a restarted mesh has a new instance id). */
  private follow(instanceId: string): void {
    if (this.connection?.instanceId === instanceId) return;
    this.stopFollowing();
    this.connection = { instanceId, state: 'connected', since: new Date().toISOString() };
    this.stopFollowing = this.mesh.onConnection((event) => {
      const state = event.type === 'reconnected' ? 'connected' : event.type;
      this.connection = { instanceId, state, since: new Date().toISOString() };
      // A clean close is the mesh stopping; a disconnection, or a close that failed, is worth reporting.
      if (event.type === 'disconnected') this.recordError(`the mesh lost its connection to ${event.location}`);
      if (event.type === 'closed' && event.error)
        this.recordError(`the mesh's connection to ${event.location} closed: ${event.error.message}`);
    });
  }

  /** Starts following the mesh's connection, when it has started; call before answering any request. */
  observe(): void {
    if (this.mesh.started) this.follow(this.mesh.node.instanceId);
  }

  async report(): Promise<HealthReport> {
    const lastErrors = [...this.errors];
    if (!this.mesh.started) {
      return { status: 'stopped', node: null, transport: null, connection: null, peers: [], lastErrors };
    }
    this.observe();
    const node = this.mesh.node;
    const catalog = await this.mesh.catalog();
    const connection = this.connection ? { state: this.connection.state, since: this.connection.since } : null;
    return {
      status: connection?.state === 'connected' ? 'ok' : 'degraded',
      node: { name: node.name, instanceId: node.instanceId },
      transport: { kind: node.transport, location: node.location },
      connection,
      peers: catalog.map(({ name, description, tags, invocable, streaming }) => ({
        name,
        description,
        tags,
        invocable,
        streaming,
      })),
      lastErrors,
    };
  }

  close(): void {
    this.stopFollowing();
    this.mesh.off('warning', this.onWarning);
  }
}
