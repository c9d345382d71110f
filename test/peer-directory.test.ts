// Peers with their contracts (peer-directory.ts): the schemas of each contract, without the draft markers a model
// and a provider's tool schema have no use for; a contract that cannot be read leaves the peer with its catalog
// entry only, in its place.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { describePeers } from '../src/agent/peer-directory.js';
import { type AgentContract, MeshError } from '../src/index.js';

const contract = (name: string): AgentContract => ({
  name,
  description: `${name} does things`,
  version: '0.1.0',
  tags: [],
  shape: 'responder',
  invocable: true,
  streaming: false,
  inputSchema: { $schema: 'https://json-schema.org/draft/2020-12/schema', type: 'object', properties: {} },
  outputSchema: { $schema: 'https://json-schema.org/draft/2020-12/schema', $id: 'x', type: 'number' },
  chunkSchema: null,
  subject: `mesh.agent.${name}`,
  registeredAt: '2026-12-02T00:00:00+00:00',
  node: 'n1',
});

test('each peer with its schemas (no $schema / $id), in the order given; an unreadable contract leaves the catalog entry', async () => {
  const peers = [
    { role: 'a', description: 'A', capabilities: ['x'] },
    { role: 'gone', description: 'Left', capabilities: [] },
    { role: 'b', description: 'B', capabilities: [] },
  ];
  const described = await describePeers(peers, async (role) => {
    if (role === 'gone') throw new MeshError('not_found', 'no contract', { agent: role });
    return contract(role);
  });
  assert.deepEqual(described, [
    {
      role: 'a',
      description: 'A',
      capabilities: ['x'],
      inputSchema: { type: 'object', properties: {} },
      outputSchema: { type: 'number' },
      shape: 'responder',
    },
    { role: 'gone', description: 'Left', capabilities: [], inputSchema: null, outputSchema: null, shape: null },
    {
      role: 'b',
      description: 'B',
      capabilities: [],
      inputSchema: { type: 'object', properties: {} },
      outputSchema: { type: 'number' },
      shape: 'responder',
    },
  ]);
  assert.deepEqual(await describePeers([], async () => contract('never')), []);
});
