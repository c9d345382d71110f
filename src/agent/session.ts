/**
 * A peer session (DESIGN.md §10): `{ id, metadata }` that travels with a peer request and with every request made
 * while handling it, so a chain of agents shares one conversation's context. It rides in one header,
 * `X-Automesh-Session` (JSON); OpenAgentMesh peers look headers up by name and ignore this one. Within a process, the
 * session of the request being handled is kept in an AsyncLocalStorage, so `this.peers.ask(...)` inside a handler
 * (or anything it awaits) passes it on without the handler threading it through.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import { findNonJsonData } from '../codegen/json-data.js';
import { MeshError } from '../transport/oam/mesh-error.js';

export const SESSION_HEADER = 'X-Automesh-Session';

export interface Session {
  readonly id: string;
  /** JSON data only: it crosses processes and languages. */
  readonly metadata: Readonly<Record<string, unknown>>;
}

/** What a caller may give: an id (default: a new one) and metadata (default: none). */
export interface SessionInput {
  id?: string;
  metadata?: Record<string, unknown>;
}

const current = new AsyncLocalStorage<Session>();

/** The session of the request being handled here, if any. */
export function currentSession(): Session | undefined {
  return current.getStore();
}

/** Runs `work` with `session` as the current session (what peer calls made during it carry). */
export function withSession<T>(session: Session, work: () => T): T {
  return current.run(session, work);
}

/** A session checked to be JSON data, before anything is sent: `invalid_input` saying which part is not. */
export function checkedSession(input: SessionInput, agent: string): Session {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw sessionError(agent, 'the session must be an object { id?, metadata? }');
  }
  const id = input.id ?? randomUUID();
  if (typeof id !== 'string' || id.trim() === '') {
    throw sessionError(agent, 'session.id must be a non-empty string');
  }
  const metadata = input.metadata ?? {};
  if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) {
    throw sessionError(agent, 'session.metadata must be a plain object of JSON data');
  }
  const problem = findNonJsonData(metadata, 'session.metadata');
  if (problem !== null) throw sessionError(agent, `${problem}; session metadata travels as JSON`);
  // Through JSON once, so what the handler here sees is what a peer elsewhere sees (a Date becomes its string).
  return { id, metadata: JSON.parse(JSON.stringify(metadata)) as Record<string, unknown> };
}

/** The session header's value. */
export function sessionHeader(session: Session): Record<string, string> {
  return { [SESSION_HEADER]: JSON.stringify({ id: session.id, metadata: session.metadata }) };
}

/**
 * The session a request brought, or a new one (id: the request id) when it brought none. A header that is not a
 * session is `invalid_input`: the caller sent something else under our name, and guessing would mix sessions.
 */
export function sessionOfRequest(headers: Readonly<Record<string, string>>, requestId: string, agent: string): Session {
  const raw = headers[SESSION_HEADER];
  if (raw === undefined) return { id: requestId || randomUUID(), metadata: {} };
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch (err) {
    throw sessionError(agent, `the ${SESSION_HEADER} header is not JSON (${(err as Error).message})`, requestId);
  }
  try {
    return checkedSession(parsed as SessionInput, agent);
  } catch (err) {
    throw sessionError(agent, `the ${SESSION_HEADER} header: ${(err as Error).message}`, requestId);
  }
}

function sessionError(agent: string, problem: string, requestId = ''): MeshError {
  return new MeshError('invalid_input', `Bad peer session for agent '${agent}': ${problem}.`, { agent, requestId });
}
