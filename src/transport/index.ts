/**
 * The transport layer's public face: the bus contract and its in-process backend, and the mesh's errors. The NATS
 * backend loads only when `NATS_URL` is set (see `mesh/network.ts`).
 */
export type {
  Bus,
  BusHandler,
  BusHeaders,
  BusMessage,
  BusSubscription,
  ConnectionEvent,
  KvBucket,
  KvEntry,
  ObjectBucket,
} from './bus.js';
export { BusError, type BusErrorCode, isBusError } from './bus-errors.js';
export { connectInProcess, InProcessBroker } from './memory/index.js';
export type { AgentContract, AgentShape, CatalogEntry, RegistryDocument } from './oam/contract-types.js';
export {
  type ErrorEnvelope,
  isMeshError,
  MESH_ERROR_CODES,
  MeshError,
  type MeshErrorCode,
} from './oam/mesh-error.js';
