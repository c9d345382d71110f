// The discovery suite (catalog, registry, mesh.kv, mesh.workspace, liveness) on a real nats-server, one server per
// test, and the buckets it creates configured as OpenAgentMesh's (oam-wire.md §1), read back from the server.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { NATS_MISSING, natsServerAvailable, startNatsServer } from '../src/testing/index.js';
import type { Bus } from '../src/transport/bus.js';
import { Catalog } from '../src/transport/oam/catalog.js';
import { HOSTS_BUCKET, Host } from '../src/transport/oam/liveness.js';
import { Registry } from '../src/transport/oam/registry.js';
import { SharedKv } from '../src/transport/oam/shared-kv.js';
import { BUCKET, newInstanceId } from '../src/transport/oam/wire.js';
import { Workspace } from '../src/transport/oam/workspace.js';
import { connectTestNats } from './helpers/discovery-nats.js';
import { discoverySuite } from './transport/discovery-suite.js';

const skip = natsServerAvailable() ? false : NATS_MISSING;

if (skip) {
  test('the discovery suite on NATS', { skip }, () => {});
} else {
  discoverySuite('nats', {
    kind: 'nats',
    broker: async () => {
      const server = await startNatsServer();
      const connections: Bus[] = [];
      return {
        connect: async () => {
          const bus = await connectTestNats(server.url, 'discovery-suite');
          connections.push(bus);
          return bus;
        },
        close: async () => {
          try {
            await Promise.all(connections.map((bus) => bus.close()));
          } finally {
            await server.stop();
          }
        },
      };
    },
  });
}

test('the buckets the mesh opens are configured as OpenAgentMesh creates them (history 1, file storage, no TTL)', {
  skip,
}, async () => {
  const server = await startNatsServer();
  try {
    const bus = await connectTestNats(server.url, 'bucket-check');
    const onWarning = (message: string): void => assert.fail(message);
    const catalog = await Catalog.open(bus, { onWarning });
    await catalog.start();
    const registry = await Registry.open(bus);
    await SharedKv.open(bus);
    await Workspace.open(bus);
    const host = new Host({ bus, catalog, registry, instanceId: newInstanceId(), node: 'n', onWarning });
    await host.start();
    const nc = await connect({ servers: server.url });
    try {
      const jsm = await jetstreamManager(nc);
      for (const bucket of [BUCKET.catalog, BUCKET.registry, BUCKET.context, BUCKET.instances, HOSTS_BUCKET]) {
        const { config } = await jsm.streams.info(`KV_${bucket}`);
        assert.deepEqual(
          {
            max_msgs_per_subject: config.max_msgs_per_subject,
            storage: config.storage,
            discard: config.discard,
            deny_delete: config.deny_delete,
            allow_rollup_hdrs: config.allow_rollup_hdrs,
            max_age: config.max_age,
            subjects: config.subjects,
          },
          {
            max_msgs_per_subject: 1,
            storage: 'file',
            discard: 'new',
            deny_delete: true,
            allow_rollup_hdrs: true,
            max_age: 0,
            subjects: [`$KV.${bucket}.>`],
          },
          bucket,
        );
      }
      const objects = await jsm.streams.info(`OBJ_${BUCKET.artifacts}`);
      assert.deepEqual(objects.config.subjects, [`$O.${BUCKET.artifacts}.C.>`, `$O.${BUCKET.artifacts}.M.>`]);
      assert.equal(objects.config.storage, 'file');
    } finally {
      await nc.close();
      await host.stop();
      catalog.stop();
      await bus.close();
    }
  } finally {
    await server.stop();
  }
});
