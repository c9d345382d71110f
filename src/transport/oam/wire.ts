/**
 * OpenAgentMesh's wire vocabulary, byte for byte as observed on a running system (`oam-wire.md` §2–§3): subjects,
 * queue groups, header names (exact case), bucket names, request ids and JSON bodies. Nothing else in automesh
 * spells these strings.
 */
import { randomFillSync } from 'node:crypto';

export const HEADER = {
  requestId: 'X-Mesh-Request-Id',
  stream: 'X-Mesh-Stream',
  status: 'X-Mesh-Status',
  source: 'X-Mesh-Source',
  streamSeq: 'X-Mesh-Stream-Seq',
  streamEnd: 'X-Mesh-Stream-End',
  replyTo: 'X-Mesh-Reply-To',
  instanceId: 'X-Mesh-Instance-Id',
  contentType: 'X-Mesh-Content-Type',
  usage: 'X-Mesh-Usage',
} as const;

export const BUCKET = {
  catalog: 'mesh-catalog',
  registry: 'mesh-registry',
  context: 'mesh-context',
  instances: 'mesh-instances',
  observability: 'mesh-observability',
  artifacts: 'mesh-artifacts',
} as const;

/** The one key of `mesh-catalog`: a JSON array of catalog entries. */
export const CATALOG_KEY = 'catalog';

export const subjects = {
  /** Invocation (call, stream, send); providers subscribe with queue group {@link queueGroup}. */
  agent: (name: string) => `mesh.agent.${name}`,
  /** Streamed chunks, end frame and error frame of one stream request. */
  stream: (requestId: string) => `mesh.stream.${requestId}`,
  /** A copy of every error envelope a provider sends. */
  errors: (name: string) => `mesh.errors.${name}`,
  /** Reply subject of `send(…, onReply)`. */
  results: (requestId: string) => `mesh.results.${requestId}`,
  /** A publisher agent's events. */
  events: (name: string) => `mesh.agent.${name}.events`,
  /** Death notices (OAM main). */
  death: (name: string) => `mesh.death.${name}`,
  logs: (name: string) => `mesh.logs.${name}`,
  /** Everything under a channel: `subscribe({ channel })` (also matches invocation subjects, as in OAM). */
  channel: (channel: string) => `mesh.agent.${channel}.>`,
};

/** Replicas of one agent share its requests through this group; any other group would make every replica answer. */
export const queueGroup = (name: string): string => `q.${name}`;

/** NATS client name of a host, which OAM main's monitor matches against disconnect advisories. */
export const clientName = (instanceId: string): string => `oam-host-${instanceId}`;

/** Random bytes for this many ids are drawn at once: one call into the system's generator instead of one per id. */
const IDS_PER_DRAW = 256;
const ID_BYTES = 16;
const idPool = Buffer.alloc(IDS_PER_DRAW * ID_BYTES);
let idOffset = idPool.length;

/**
 * uuid4 as 32 lowercase hex characters, no dashes (Python's `uuid4().hex`): it becomes a subject token in
 * `mesh.stream.{id}`. Made as `randomUUID` makes one (16 random bytes, the version nibble 4 and the RFC 4122
 * variant bits set), but hex-encoded in one call: `randomUUID` and removing its dashes cost a third of a
 * microsecond more on every call, and leave a string of five pieces that is flattened again when sent.
 */
export function newRequestId(): string {
  if (idOffset === idPool.length) {
    randomFillSync(idPool);
    idOffset = 0;
  }
  const start = idOffset;
  idOffset += ID_BYTES;
  idPool[start + 6] = ((idPool[start + 6] as number) & 0x0f) | 0x40; // version 4
  idPool[start + 8] = ((idPool[start + 8] as number) & 0x3f) | 0x80; // variant 10xx
  return idPool.toString('hex', start, start + ID_BYTES);
}

/** Same form as request ids (OAM main's `instance_id = uuid4().hex`). */
export const newInstanceId = newRequestId;

const NAME_SEGMENT = /^[a-zA-Z0-9_-]+$/;
/** A whole valid name at once: every call checks its agent's name, and most names are fine. */
const VALID_NAME = /^[a-zA-Z0-9_-]+(?:\.[a-zA-Z0-9_-]+)*$/;

/** Why `name` is not a valid agent name (dotted, each segment `[a-zA-Z0-9_-]+`), or null when it is. */
export function agentNameProblem(name: unknown): string | null {
  if (typeof name !== 'string' || name.length === 0) return 'an agent name must be a non-empty string';
  if (VALID_NAME.test(name)) return null;
  const bad = name.split('.').find((segment) => !NAME_SEGMENT.test(segment));
  if (bad === undefined) return null;
  return bad === ''
    ? `agent name "${name}" has an empty segment (two dots in a row, or a dot at an end)`
    : `agent name "${name}" has segment "${bad}", which is not made of letters, digits, "_" and "-" only`;
}

/** The channel of a dotted name: its leading segments (`finance.risk.scorer` → `finance.risk`); '' for none. */
export function channelOf(name: string): string {
  const dot = name.lastIndexOf('.');
  return dot < 0 ? '' : name.slice(0, dot);
}

const decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * A JSON body, as text (the bus sends it as UTF-8, written straight into the frame on NATS); `undefined` is "no
 * payload" (an empty body).
 */
export function encodeBody(value: unknown): string {
  return value === undefined ? '' : JSON.stringify(value);
}

/**
 * Parses a JSON body; an empty body is `undefined` ("no payload"; callers decide whether that means `{}`).
 * Throws a SyntaxError naming the subject when the body is not UTF-8 JSON.
 */
export function decodeBody(data: Uint8Array, subject: string): unknown {
  if (data.length === 0) return undefined;
  let text: string;
  try {
    text = decoder.decode(data);
  } catch {
    throw new SyntaxError(`The message on ${subject} is not UTF-8 text, so not the JSON OpenAgentMesh sends.`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new SyntaxError(`The message on ${subject} is not JSON: ${(err as Error).message}`);
  }
}
