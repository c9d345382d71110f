/**
 * automesh/testing: helpers for testing agents built on automesh — a scripted model for `new Mesh({ providers })`,
 * MockMesh with mocked peers and assertions, and a private nats-server per test.
 */

export type { TextMatch, ValueMatch } from './match.js';
export {
  type MockCall,
  type MockHandler,
  MockMesh,
  type MockMeshOptions,
  type MockPeerOptions,
  type MockReply,
} from './mock-mesh.js';
export {
  NATS_MISSING,
  type NatsServer,
  type NatsServerOptions,
  natsServerAvailable,
  natsServerSkip,
  startNatsServer,
} from './nats-server.js';
export {
  type ScriptedCall,
  type ScriptedFault,
  type ScriptedModel,
  type ScriptedModelOptions,
  type ScriptedRule,
  scriptedModel,
} from './scripted-model.js';
