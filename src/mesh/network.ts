/**
 * The mesh's network side: one bus (the in-process broker, or NATS when `NATS_URL` is set), and on it the pieces
 * of OpenAgentMesh's protocol: the catalog cache, the registry, this host's liveness, the caller, the agents this
 * process serves, the shared KV and the workspace, and what agents get of them (`infra`: kv, blobs, mailboxes). `Mesh` owns one while started; everything here speaks to the bus
 * through `src/transport/oam/`, so both transports behave the same.
 */
import type { Settings } from '../config/settings.js';
import { MeshInfrastructure } from '../infra/agent-infra.js';
import type { Bus } from '../transport/bus.js';
import { connectInProcess } from '../transport/memory/index.js';
import { Caller } from '../transport/oam/caller.js';
import { Catalog } from '../transport/oam/catalog.js';
import type { FunctionAgent } from '../transport/oam/function-agent.js';
import { Host } from '../transport/oam/liveness.js';
import { type ServedAgent, serveAgent } from '../transport/oam/provider.js';
import { Registry } from '../transport/oam/registry.js';
import { SharedKv } from '../transport/oam/shared-kv.js';
import { clientName, newInstanceId } from '../transport/oam/wire.js';
import { Workspace } from '../transport/oam/workspace.js';

export interface NetworkOptions {
  settings: Settings;
  /** A bus to use instead of the one the settings name (tests, embedding); its owner closes it. */
  bus?: Bus;
  /** Problems the mesh survives (a malformed catalog entry someone else wrote, a missed heartbeat). */
  onWarning: (message: string) => void;
}

export class MeshNetwork {
  readonly instanceId: string;
  readonly node: string;
  readonly bus: Bus;
  readonly caller: Caller;
  readonly catalog: Catalog;
  readonly registry: Registry;
  readonly kv: SharedKv;
  readonly workspace: Workspace;
  /** What each agent gets: `this.kv`, `this.blobs`, `this.mailbox` (`ctx.…` for function agents). */
  readonly infra: MeshInfrastructure;
  private readonly host: Host;
  private readonly ownsBus: boolean;
  private served: ServedAgent[] = [];

  private constructor(parts: {
    instanceId: string;
    node: string;
    bus: Bus;
    ownsBus: boolean;
    catalog: Catalog;
    registry: Registry;
    host: Host;
    kv: SharedKv;
    workspace: Workspace;
    infra: MeshInfrastructure;
  }) {
    this.instanceId = parts.instanceId;
    this.node = parts.node;
    this.bus = parts.bus;
    this.ownsBus = parts.ownsBus;
    this.catalog = parts.catalog;
    this.registry = parts.registry;
    this.host = parts.host;
    this.kv = parts.kv;
    this.workspace = parts.workspace;
    this.infra = parts.infra;
    this.caller = new Caller(this.bus, {
      lookup: (name) => this.catalog.capabilities(name),
      instanceId: this.instanceId,
    });
  }

  /** Connects (a NATS URL that cannot be reached fails here, naming it) and loads the catalog. */
  static async open(options: NetworkOptions): Promise<MeshNetwork> {
    const instanceId = newInstanceId();
    const { settings } = options;
    const bus = options.bus ?? (await openBus(settings, instanceId));
    try {
      const catalog = await Catalog.open(bus, { onWarning: options.onWarning });
      await catalog.start();
      const registry = await Registry.open(bus);
      const host = new Host({
        bus,
        catalog,
        registry,
        instanceId,
        node: settings.NODE_NAME,
        onWarning: options.onWarning,
      });
      const [kv, workspace] = await Promise.all([SharedKv.open(bus), Workspace.open(bus)]);
      const infra = await MeshInfrastructure.open({
        bus,
        kv,
        node: settings.NODE_NAME,
        logDirectory: settings.LOG_DIRECTORY,
        onWarning: options.onWarning,
      });
      return new MeshNetwork({
        instanceId,
        node: settings.NODE_NAME,
        bus,
        ownsBus: options.bus === undefined,
        catalog,
        registry,
        host,
        kv,
        workspace,
        infra,
      });
    } catch (err) {
      if (options.bus === undefined) await bus.close();
      throw err;
    }
  }

  /**
   * Serves the agents and registers them (registry document, then catalog, then the host's record). A name that
   * another process serves with other schemas is refused before anything of this process is served.
   */
  async serve(agents: readonly FunctionAgent[]): Promise<void> {
    const documents = agents.map((agent) =>
      agent.registryDocument({ registeredAt: new Date(), instanceId: this.instanceId, node: this.node }),
    );
    for (const document of documents) {
      const conflict = await this.registry.schemaConflict(document);
      if (conflict) throw conflict;
    }
    this.served = agents.map((agent) =>
      serveAgent(this.bus, agent, {
        instanceId: this.instanceId,
        infrastructure: this.infra.forAgent(agent.name),
      }),
    );
    await this.host.start(documents);
  }

  /**
   * Leaves the mesh: stops taking requests and lets those in flight finish, then deregisters (its death notices
   * would otherwise fail the requests still being answered with `agent_died`). Calls to others still work.
   */
  async leave(): Promise<void> {
    const served = this.served;
    this.served = [];
    await Promise.all(served.map((agent) => agent.stop()));
    await this.host.stop();
  }

  /** Leaves the mesh (if not done yet) and closes the bus it opened. */
  async close(): Promise<void> {
    try {
      await this.leave();
    } finally {
      this.catalog.stop();
      if (this.ownsBus) await this.bus.close();
    }
  }
}

function openBus(settings: Settings, instanceId: string): Promise<Bus> | Bus {
  const url = settings.NATS_URL;
  if (!url) return connectInProcess();
  // The NATS client loads only for a mesh on NATS.
  return import('../transport/nats/index.js').then(({ connectNats }) =>
    connectNats({
      settings: {
        NATS_URL: url,
        NATS_USER: settings.NATS_USER,
        NATS_PASSWORD: settings.NATS_PASSWORD,
        NATS_TOKEN: settings.NATS_TOKEN,
        NATS_CREDS: settings.NATS_CREDS,
        NATS_TLS_CA: settings.NATS_TLS_CA,
      },
      name: clientName(instanceId),
    }),
  );
}
