/**
 * What `automesh agents` and `automesh call` share: a client Mesh (no agents of its own) on the NATS server that
 * `NATS_URL` names, stopped whatever happens, and MeshErrors turned into CLI errors that say what to do.
 */
import { Mesh } from '../mesh/mesh.js';
import { createMemoryStorage } from '../storage/index.js';
import { isMeshError, type MeshError } from '../transport/oam/mesh-error.js';
import { CliError, type Io } from './io.js';
import { cliSettings, meshConfig } from './setup.js';

export const NO_NATS_HINT =
  'start a local server with `automesh mesh up` (or use your own), then set NATS_URL, e.g. '
  + '`export NATS_URL=nats://127.0.0.1:4222`, in the environment or .env';

/** Whether `NATS_URL` is set (environment or `.env`): without it a fresh process's mesh is in-process and empty. */
export function natsConfigured(io: Io): boolean {
  return Boolean(cliSettings(io).settings.NATS_URL);
}

/** What to do after a MeshError, by its code (null: the message says it all). */
function hintFor(err: MeshError): string | null {
  switch (err.code) {
    case 'not_found':
      return '`automesh agents` lists who serves what on this mesh';
    case 'not_available':
      return 'it is in the catalog but no process answers: start (or restart) the process that serves it';
    case 'invalid_input':
      return "fix the JSON input: the lines above say where it does not fit the agent's input schema";
    case 'invocation_mismatch':
      return 'a streamer is read with `automesh call --stream`; a responder or trigger without it';
    case 'timeout':
      return 'the agent did not answer in time: give it longer with --timeout S';
    case 'agent_died':
      return 'the process serving it died mid-request; call again (a replica may answer) or restart it';
    case 'connection_failed':
    case 'connection_denied':
      return `check NATS_URL and its credentials (NATS_USER/NATS_PASSWORD, NATS_TOKEN, NATS_CREDS); ${NO_NATS_HINT}`;
    case 'handler_error':
    case 'invalid_output':
      return "the agent failed on its side: its process's output says more";
    default:
      return null;
  }
}

/** The issues of `invalid_input` (OAM's `{ loc, msg }` as pydantic writes them), one line each. */
function detailLines(err: MeshError): string[] {
  const errors = err.details.errors;
  if (!Array.isArray(errors)) return [];
  return errors.map((issue) => {
    if (typeof issue !== 'object' || issue === null) return String(issue);
    const { loc, msg } = issue as { loc?: unknown; msg?: unknown };
    const where = Array.isArray(loc) && loc.length > 0 ? `${loc.join('.')}: ` : '';
    return typeof msg === 'string' ? `${where}${msg}` : JSON.stringify(issue);
  });
}

/** A MeshError as the CLI reports it: `code: message`, its issues, a hint; anything else as it is. */
export function cliErrorOf(err: unknown): unknown {
  if (!isMeshError(err)) return err;
  return new CliError(`${err.code}: ${err.message}`, detailLines(err), hintFor(err));
}

/**
 * Runs `use` on a started client Mesh and stops it after, whatever happens. It keeps nothing: its storage is in
 * memory (a client runs no task of its own).
 */
export async function withMeshClient<T>(io: Io, use: (mesh: Mesh) => Promise<T>): Promise<T> {
  const storage = createMemoryStorage();
  // No telemetry: a short-lived client has no metrics to serve, and a METRICS_PORT in .env is the node's (taking it
  // here would fail the command while that node runs).
  const mesh = new Mesh({ mode: 'distributed', config: meshConfig(io), storage, telemetry: false });
  try {
    await mesh.start();
  } catch (err) {
    await storage.close();
    throw cliErrorOf(err);
  }
  let failure: unknown = null;
  try {
    return await use(mesh);
  } catch (err) {
    failure = err;
    throw cliErrorOf(err);
  } finally {
    const stopped = mesh.stop().finally(() => storage.close());
    // A failure of the verb's own work matters more than one while leaving.
    if (failure === null) await stopped;
    else await stopped.catch(() => undefined);
  }
}
