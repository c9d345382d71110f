/**
 * The `mesh-catalog` document (`oam-wire.md` §7): one key, `catalog`, holding a JSON array of entries with exactly
 * `name, description, version, tags, invocable, streaming`. Every OAM reader re-parses the whole array on each change,
 * and one element its `CatalogEntry` model rejects stops that reader's catalog updates for good. So we read
 * leniently (a malformed element is skipped and reported, never fatal) and write strictly (our own entry is checked
 * field by field, and a malformed element someone else left is dropped rather than written back).
 */
import type { CatalogEntry } from './contract-types.js';
import { MeshError } from './mesh-error.js';
import { pythonJsonBytes } from './python-json.js';
import { agentNameProblem } from './wire.js';

/** One element of the array as stored (extra fields and all) and as automesh reads it. */
export interface StoredCatalogEntry {
  readonly stored: Record<string, unknown>;
  readonly entry: CatalogEntry;
}

export interface ParsedCatalog {
  /** Valid elements in array order; a name listed twice keeps its last element, as OAM's readers do. */
  readonly entries: StoredCatalogEntry[];
  /** One sentence per skipped element (or for a value that is not an array at all). */
  readonly problems: string[];
}

const isStringList = (value: unknown): value is string[] =>
  Array.isArray(value) && value.every((item) => typeof item === 'string');

/**
 * Why `value` would fail OAM's `CatalogEntry` model (name and description required strings; version a string, tags
 * a list of strings, invocable and streaming booleans when present), or null when it passes.
 */
export function catalogElementProblem(value: unknown): string | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return `an element that is not an object (${describe(value)})`;
  }
  const element = value as Record<string, unknown>;
  const label = typeof element.name === 'string' ? `the entry "${element.name}"` : 'an entry';
  if (typeof element.name !== 'string') return `${label} without a string "name" (${describe(element.name)})`;
  if (typeof element.description !== 'string') {
    return `${label} without a string "description" (${describe(element.description)})`;
  }
  if (element.version !== undefined && typeof element.version !== 'string') {
    return `${label} whose "version" is not a string (${describe(element.version)})`;
  }
  if (element.tags !== undefined && !isStringList(element.tags)) {
    return `${label} whose "tags" is not a list of strings (${describe(element.tags)})`;
  }
  for (const flag of ['invocable', 'streaming'] as const) {
    if (element[flag] !== undefined && typeof element[flag] !== 'boolean') {
      return `${label} whose "${flag}" is not true or false (${describe(element[flag])})`;
    }
  }
  return null;
}

function describe(value: unknown): string {
  if (value === undefined) return 'missing';
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/** A valid element as automesh sees it, with OAM's defaults for the optional fields. */
function readElement(element: Record<string, unknown>): CatalogEntry {
  return {
    name: element.name as string,
    description: element.description as string,
    version: (element.version as string | undefined) ?? '0.1.0',
    tags: [...((element.tags as string[] | undefined) ?? [])],
    invocable: (element.invocable as boolean | undefined) ?? true,
    streaming: (element.streaming as boolean | undefined) ?? false,
  };
}

const decoder = new TextDecoder('utf-8', { fatal: true });

/** Parses the stored value of the `catalog` key; never throws. An empty value (a delete marker) is an empty catalog. */
export function parseCatalog(data: Uint8Array): ParsedCatalog {
  if (data.length === 0) return { entries: [], problems: [] };
  let value: unknown;
  try {
    value = JSON.parse(decoder.decode(data));
  } catch (err) {
    return { entries: [], problems: [`the catalog value is not UTF-8 JSON (${(err as Error).message})`] };
  }
  if (!Array.isArray(value))
    return { entries: [], problems: [`the catalog value is not an array (${describe(value)})`] };
  const byName = new Map<string, StoredCatalogEntry>();
  const problems: string[] = [];
  for (const element of value) {
    const problem = catalogElementProblem(element);
    if (problem !== null) {
      problems.push(problem);
      continue;
    }
    const stored = element as Record<string, unknown>;
    const entry = readElement(stored);
    byName.delete(entry.name);
    byName.set(entry.name, { stored, entry });
  }
  return { entries: [...byName.values()], problems };
}

/**
 * Our own catalog entry, checked and rebuilt with exactly the six fields in OAM's order (whatever else `fields`
 * carries is left out). Throws `invalid_definition` naming the field when one is wrong.
 */
export function catalogEntry(fields: CatalogEntry): CatalogEntry {
  const nameProblem = agentNameProblem(fields.name);
  if (nameProblem !== null)
    throw new MeshError('invalid_definition', `${nameProblem}.`, { agent: String(fields.name) });
  const problem = catalogElementProblem(fields);
  const missing = (['version', 'tags', 'invocable', 'streaming'] as const).find((key) => fields[key] === undefined);
  if (problem !== null || missing !== undefined) {
    const why = problem ?? `the entry "${fields.name}" without "${missing}"`;
    throw new MeshError(
      'invalid_definition',
      `Refusing to write ${why} to the catalog: every OpenAgentMesh peer would stop reading the catalog. Give the agent a string description and version, a list of string tags, and boolean invocable/streaming flags.`,
      { agent: fields.name },
    );
  }
  return {
    name: fields.name,
    description: fields.description,
    version: fields.version,
    tags: [...fields.tags],
    invocable: fields.invocable,
    streaming: fields.streaming,
  };
}

/** The catalog array with `name` removed and, when given, `replacement` appended (OAM's CAS step 2). */
export function catalogWith(
  current: readonly StoredCatalogEntry[],
  name: string,
  replacement?: CatalogEntry,
): Array<Record<string, unknown>> {
  const kept = current.filter(({ entry }) => entry.name !== name).map(({ stored }) => stored);
  return replacement === undefined ? kept : [...kept, { ...replacement }];
}

/** The bytes OAM writes for a catalog array (Python's `json.dumps`). */
export function encodeCatalog(elements: ReadonlyArray<Record<string, unknown>>): Uint8Array {
  return pythonJsonBytes(elements);
}
