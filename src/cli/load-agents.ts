/**
 * Loads the agents of `automesh run --agents <file>`: a .ts or .js module, run through tsx, that exports
 *
 *   export const agents = [CalculatorAgent, defineAgent({ ... }), { agent: DataAgent, tools: [query] }];
 *
 * or a default export of the same array, or the agents as named exports (classes extending AutoAgent,
 * `defineAgent` definitions, `{ agent, tools }` pairs). A file that exports no agents fails with what it did
 * export.
 */
import { existsSync, statSync } from 'node:fs';
import { extname, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type AgentClass, type AgentOptions, AutoAgent } from '../agent/auto-agent.js';
import { type CustomAgentClass, isCustomAgentClass } from '../agent/custom-agent.js';
import type { AgentDefinition } from '../agent/definition.js';
import { AutomeshError } from '../core/errors.js';

export interface LoadedAgent {
  agent: AgentClass | AgentDefinition | CustomAgentClass;
  options: AgentOptions;
  /** Where it came from, for messages: `agents[1]`, `CalculatorAgent`. */
  source: string;
}

export interface LoadedAgents {
  /** The file as the user named it, relative to the working directory. */
  file: string;
  agents: LoadedAgent[];
  /** Things worth saying that are not errors (printed on stderr). */
  warnings: string[];
}

/** A problem with the agents file: printed as is, exit 1. Code `agents-file`. */
export class AgentsFileError extends AutomeshError<'agents-file'> {
  constructor(message: string) {
    super('agents-file', message);
    this.name = 'AgentsFileError';
  }
}

const EXTENSIONS = ['.ts', '.mts', '.cts', '.tsx', '.js', '.mjs', '.cjs', '.jsx'];
const FORMS =
  'Export them as `export const agents = [CalculatorAgent, defineAgent({ role, capabilities, systemPrompt }), '
  + '{ agent: DataAgent, tools: [query] }]`, as a default export of such an array, or as named exports of classes '
  + 'extending AutoAgent or CustomAgent and defineAgent({...}) definitions.';

let tsxRegistered: Promise<void> | null = null;

/**
 * TypeScript support for the whole process. tsx's scoped `tsImport` would load the file in its own module
 * namespace, including a second copy of automesh, so `class X extends AutoAgent` there would not extend the
 * AutoAgent this CLI runs; registering the loader once keeps one module graph (one AutoAgent, one zod).
 */
function registerTsx(): Promise<void> {
  tsxRegistered ??= import('tsx/esm/api').then(({ register }) => {
    register();
  });
  return tsxRegistered;
}

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (typeof value === 'function') {
    const name = (value as { name?: string }).name;
    return /^class[\s{]/.test(Function.prototype.toString.call(value))
      ? `class ${name || '(anonymous)'}`
      : `function ${name || '(anonymous)'}`;
  }
  if (typeof value === 'object') {
    const keys = Object.keys(value as object);
    return keys.length
      ? `an object { ${keys.slice(0, 5).join(', ')}${keys.length > 5 ? ', …' : ''} }`
      : 'an empty object';
  }
  if (typeof value === 'string')
    return `a string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 39)}…` : value)}`;
  return `${typeof value === 'undefined' ? 'undefined' : `a ${typeof value}`}`;
}

/** The AutoAgent in the prototype chain of a class from another copy of automesh, if any. */
function foreignAutoAgentBase(value: Function): Function | null {
  let proto: unknown = Object.getPrototypeOf(value);
  while (typeof proto === 'function') {
    if ((proto as Function).name === 'AutoAgent' && proto !== AutoAgent) return proto as Function;
    proto = Object.getPrototypeOf(proto);
  }
  return null;
}

/** A class extending this automesh's AutoAgent or CustomAgent. */
function isOwnAgentClass(value: unknown): value is AgentClass | CustomAgentClass {
  return (
    typeof value === 'function' && ((value as Function).prototype instanceof AutoAgent || isCustomAgentClass(value))
  );
}

function isDefinitionLike(value: unknown): value is AgentDefinition {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return false;
  const v = value as Record<string, unknown>;
  return typeof v.role === 'string' && 'systemPrompt' in v;
}

function isPairLike(value: unknown): value is { agent: unknown; tools?: unknown } {
  return !!value && typeof value === 'object' && !Array.isArray(value) && 'agent' in (value as object);
}

/** True for what `named exports` mode picks up; everything else in the module is left alone. */
function looksLikeAgent(value: unknown): boolean {
  if (isOwnAgentClass(value)) return true;
  if (typeof value === 'function') return foreignAutoAgentBase(value) !== null;
  if (isDefinitionLike(value)) return true;
  if (isPairLike(value)) return looksLikeAgent(value.agent);
  return false;
}

/** One entry (class, definition, or `{ agent, tools }`) to what `mesh.add` takes. */
function normalizeEntry(value: unknown, source: string, file: string, warnings: string[]): LoadedAgent {
  if (isPairLike(value)) {
    const unknownKeys = Object.keys(value).filter((k) => k !== 'agent' && k !== 'tools');
    if (unknownKeys.length > 0) {
      throw new AgentsFileError(
        `${file}: ${source} has unknown key${unknownKeys.length > 1 ? 's' : ''} ${unknownKeys.map((k) => `"${k}"`).join(', ')}; `
          + 'an agent with tools is written { agent, tools: [...] }.',
      );
    }
    if (isPairLike(value.agent))
      throw new AgentsFileError(
        `${file}: ${source}.agent must be an agent class or definition, not another { agent } pair.`,
      );
    const inner = normalizeEntry(value.agent, `${source}.agent`, file, warnings);
    const tools = value.tools;
    if (tools !== undefined && (tools === null || typeof tools !== 'object')) {
      throw new AgentsFileError(
        `${file}: ${source}.tools must be an array of defineTool({...}) tools or an object of namespaces; got ${describeValue(tools)}.`,
      );
    }
    return {
      agent: inner.agent,
      options: tools === undefined ? {} : { tools: tools as NonNullable<AgentOptions['tools']> },
      source,
    };
  }
  if (isOwnAgentClass(value)) return { agent: value, options: {}, source };
  if (typeof value === 'function') {
    const base = foreignAutoAgentBase(value);
    if (base) {
      // The file imported a different installation of automesh than the one running this command. Its class
      // cannot join this mesh as a class, but what defines an AutoAgent subclass is its static fields.
      const cls = value as Function & Partial<AgentDefinition>;
      const overrides: string[] = [];
      for (
        let proto = cls.prototype as object | null;
        proto && proto !== base.prototype;
        proto = Object.getPrototypeOf(proto) as object | null
      ) {
        overrides.push(...Object.getOwnPropertyNames(proto).filter((n) => n !== 'constructor'));
      }
      warnings.push(
        `${file}: ${source} extends the AutoAgent of another automesh installation than this CLI's; it runs from its `
          + `static role, capabilities and systemPrompt${overrides.length ? `, and the methods it defines (${overrides.join(', ')}) are not used` : ''}. `
          + 'Run the automesh that the file imports (npx automesh) to use the class itself.',
      );
      return {
        agent: {
          role: cls.role as string,
          capabilities: cls.capabilities ?? [],
          systemPrompt: cls.systemPrompt as string,
          ...(cls.description !== undefined ? { description: cls.description } : {}),
          ...(cls.llm !== undefined ? { llm: cls.llm } : {}),
        },
        options: {},
        source,
      };
    }
    throw new AgentsFileError(
      `${file}: ${source} is ${describeValue(value)}, which extends neither AutoAgent nor CustomAgent. `
        + 'An agent class is written `class CalculatorAgent extends AutoAgent { static role = ...; static systemPrompt = ... }`.',
    );
  }
  if (value && typeof value === 'object' && !Array.isArray(value))
    return { agent: value as AgentDefinition, options: {}, source };
  throw new AgentsFileError(
    `${file}: ${source} is ${describeValue(value)}; each agent must be a class extending AutoAgent, `
      + 'a defineAgent({ role, capabilities, systemPrompt }) definition, or { agent, tools }.',
  );
}

function fromArray(list: unknown, source: string, file: string, warnings: string[]): LoadedAgent[] {
  if (!Array.isArray(list)) {
    throw new AgentsFileError(
      `${file}: the export "${source}" must be an array of agents; got ${describeValue(list)}. ${FORMS}`,
    );
  }
  if (list.length === 0)
    throw new AgentsFileError(`${file}: the export "${source}" is an empty array; add at least one agent.`);
  return list.map((entry, i) => normalizeEntry(entry, `${source}[${i}]`, file, warnings));
}

/** Picks the agents out of a module namespace (exported for tests). */
export function agentsFromModule(
  mod: Record<string, unknown>,
  file: string,
): { agents: LoadedAgent[]; warnings: string[] } {
  const warnings: string[] = [];
  if ('agents' in mod && mod.agents !== undefined)
    return { agents: fromArray(mod.agents, 'agents', file, warnings), warnings };
  const def = mod.default;
  if (Array.isArray(def)) return { agents: fromArray(def, 'default', file, warnings), warnings };
  // CommonJS: module.exports = { agents: [...] }.
  if (def && typeof def === 'object' && Array.isArray((def as Record<string, unknown>).agents)) {
    return { agents: fromArray((def as Record<string, unknown>).agents, 'agents', file, warnings), warnings };
  }
  const seen = new Set<unknown>();
  const agents: LoadedAgent[] = [];
  for (const [name, value] of Object.entries(mod)) {
    if (!looksLikeAgent(value) || seen.has(value)) continue;
    seen.add(value);
    agents.push(normalizeEntry(value, name === 'default' ? 'the default export' : name, file, warnings));
  }
  if (agents.length === 0) {
    const exported = Object.entries(mod).map(([name, value]) => `${name} (${describeValue(value)})`);
    throw new AgentsFileError(
      `${file} exports no agents. ${exported.length ? `It exports: ${exported.join(', ')}.` : 'It exports nothing.'} ${FORMS}`,
    );
  }
  return { agents, warnings };
}

function importHint(err: unknown, file: string): string {
  const code = (err as { code?: unknown } | null)?.code;
  const message = err instanceof Error ? err.message : String(err);
  if (code === 'ERR_PACKAGE_PATH_NOT_EXPORTED' && /automesh/.test(message)) {
    return ` automesh is an ES module: put "type": "module" in the package.json next to ${file} (or name it .mts).`;
  }
  if ((code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') && /['"]automesh['"]/.test(message)) {
    return ` automesh is not installed where ${file} can import it: npm install it in that project (automesh init writes a package.json that does).`;
  }
  return '';
}

/** Loads the agents file, relative to `cwd`. Throws {@link AgentsFileError} with a message for the user. */
export async function loadAgents(file: string, cwd: string): Promise<LoadedAgents> {
  const path = resolve(cwd, file);
  const shown = relative(cwd, path).startsWith('..') ? path : `./${relative(cwd, path)}`;
  if (!existsSync(path)) throw new AgentsFileError(`Agents file ${shown} not found (looked for ${path}).`);
  if (!statSync(path).isFile()) throw new AgentsFileError(`Agents file ${shown} is not a file.`);
  if (!EXTENSIONS.includes(extname(path).toLowerCase())) {
    throw new AgentsFileError(
      `Agents file ${shown} must be a TypeScript or JavaScript module (${EXTENSIONS.join(', ')}).`,
    );
  }
  await registerTsx();
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(path).href)) as Record<string, unknown>;
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    throw new AgentsFileError(`Could not load agents file ${shown}: ${message}${importHint(err, shown)}`);
  }
  return { file: shown, ...agentsFromModule(mod, shown) };
}
