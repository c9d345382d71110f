/**
 * Tools: host functions that generated code may call. A tool is named `namespace.function` (or a bare
 * `function`); inside the sandbox it is visible as `namespace.function(...)` and as
 * `tools.namespace.function(...)`. Arguments and results cross as JSON copies.
 */
import type { z } from 'zod';
import { requireZod4Schema } from '../codegen/json-schema.js';

/** A host function offered to generated code. Build one with {@link defineTool}. */
export interface ToolDefinition {
  /** `namespace.function` or `function`; each part a JavaScript identifier. */
  readonly name: string;
  /** Told to the model, so it knows when and how to call the tool. */
  readonly description: string;
  /** Schema of the argument list (usually a `z.tuple([...])`); arguments that fail it never reach `run`. */
  readonly input?: z.ZodType<unknown[]>;
  /** Schema of the value `run` returns, for the model's benefit; checked as well. */
  readonly output?: z.ZodType<unknown>;
  // The argument types are enforced by `input` at run time; the static type stays open so that tools with
  // different signatures can share one array.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly run: (...args: any[]) => unknown;
}

/** Tools given as an object of namespaces, e.g. `{ database: { query: async (sql) => rows } }`. */
export type ToolNamespaces = Record<string, Record<string, (...args: never[]) => unknown>>;

export type ToolsInput = readonly ToolDefinition[] | ToolNamespaces;

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** Names generated code relies on; a tool namespace may not hide them. */
const RESERVED = new Set([
  'context',
  'tools',
  'console',
  'result',
  'globalThis',
  'undefined',
  'NaN',
  'Infinity',
  'eval',
  'arguments',
  'Object',
  'Function',
  'Array',
  'Number',
  'String',
  'Boolean',
  'Symbol',
  'BigInt',
  'Math',
  'JSON',
  'Date',
  'RegExp',
  'Error',
  'TypeError',
  'RangeError',
  'SyntaxError',
  'ReferenceError',
  'EvalError',
  'URIError',
  'AggregateError',
  'Promise',
  'Proxy',
  'Reflect',
  'Map',
  'Set',
  'WeakMap',
  'WeakSet',
  'WeakRef',
  'FinalizationRegistry',
  'ArrayBuffer',
  'DataView',
  'Intl',
  'parseInt',
  'parseFloat',
  'isNaN',
  'isFinite',
  'encodeURI',
  'encodeURIComponent',
  'decodeURI',
  'decodeURIComponent',
  'escape',
  'unescape',
  'Int8Array',
  'Uint8Array',
  'Uint8ClampedArray',
  'Int16Array',
  'Uint16Array',
  'Int32Array',
  'Uint32Array',
  'Float32Array',
  'Float64Array',
  'BigInt64Array',
  'BigUint64Array',
]);

const JS_KEYWORDS = new Set([
  'break',
  'case',
  'catch',
  'class',
  'const',
  'continue',
  'debugger',
  'default',
  'delete',
  'do',
  'else',
  'export',
  'extends',
  'false',
  'finally',
  'for',
  'function',
  'if',
  'import',
  'in',
  'instanceof',
  'new',
  'null',
  'return',
  'super',
  'switch',
  'this',
  'throw',
  'true',
  'try',
  'typeof',
  'var',
  'void',
  'while',
  'with',
  'yield',
  'let',
  'static',
  'enum',
  'await',
  'implements',
  'package',
  'protected',
  'interface',
  'private',
  'public',
]);

/** Throws a TypeError saying what is wrong with a tool name, or returns it. */
export function validateToolName(name: unknown): string {
  if (typeof name !== 'string' || name.length === 0) {
    throw new TypeError(`A tool needs a name such as "database.query"; got ${JSON.stringify(name)}.`);
  }
  const parts = name.split('.');
  for (const part of parts) {
    if (!IDENTIFIER.test(part) || JS_KEYWORDS.has(part)) {
      throw new TypeError(
        `Tool name "${name}" is invalid: "${part}" is not a JavaScript identifier. `
          + 'Use "namespace.function" with letters, digits, _ or $ (e.g. "database.query").',
      );
    }
  }
  if (RESERVED.has(parts[0] as string)) {
    throw new TypeError(
      `Tool name "${name}" would hide the built-in "${parts[0]}" inside the sandbox; pick another namespace.`,
    );
  }
  return name;
}

/**
 * Defines a tool. `input` validates the argument list before `run` sees it.
 *
 * @example
 * const query = defineTool({ name: 'database.query', description: 'Run SQL; returns rows as objects',
 *   input: z.tuple([z.string()]), run: async (sql) => db.all(sql) });
 */
export function defineTool<Args extends unknown[], R>(definition: {
  name: string;
  description: string;
  input?: z.ZodType<Args>;
  output?: z.ZodType<R>;
  run: (...args: Args) => R | Promise<R>;
}): ToolDefinition {
  validateToolName(definition.name);
  if (typeof definition.description !== 'string' || definition.description.trim() === '') {
    throw new TypeError(
      `Tool "${definition.name}" needs a description: the model reads it to know what the tool does.`,
    );
  }
  if (typeof definition.run !== 'function') {
    throw new TypeError(`Tool "${definition.name}" needs a run function.`);
  }
  checkToolSchemas(definition);
  return Object.freeze({ ...definition }) as ToolDefinition;
}

/** A schema automesh cannot read would describe the tool as taking nothing (zod 3 schemas did, silently). */
function checkToolSchemas(tool: { name: string; input?: unknown; output?: unknown }): void {
  if (tool.input !== undefined) requireZod4Schema(tool.input, `Tool "${tool.name}" input`);
  if (tool.output !== undefined) requireZod4Schema(tool.output, `Tool "${tool.name}" output`);
}

/** Normalizes either form of tools into a map by full name, rejecting bad and duplicate names. */
export function normalizeTools(tools: ToolsInput | undefined): Map<string, ToolDefinition> {
  const byName = new Map<string, ToolDefinition>();
  if (!tools) return byName;
  const add = (tool: ToolDefinition): void => {
    validateToolName(tool.name);
    if (byName.has(tool.name)) throw new TypeError(`Tool "${tool.name}" is defined twice; tool names must be unique.`);
    byName.set(tool.name, tool);
  };
  if (Array.isArray(tools)) {
    for (const tool of tools as readonly ToolDefinition[]) {
      if (!tool || typeof tool.run !== 'function') {
        throw new TypeError('Each tool must be a definition from defineTool({ name, description, run }).');
      }
      checkToolSchemas(tool);
      add(tool);
    }
  } else {
    addNamespaces(tools as ToolNamespaces, add);
  }
  // `a.b` as a tool and `a.b.c` as another would need `a.b` to be a function and a namespace at once.
  const names = [...byName.keys()];
  for (const name of names) {
    const clash = names.find((other) => other.startsWith(`${name}.`));
    if (clash) throw new TypeError(`Tool "${name}" clashes with the namespace of tool "${clash}"; rename one.`);
  }
  return byName;
}

function addNamespaces(tools: ToolNamespaces, add: (tool: ToolDefinition) => void): void {
  for (const [namespace, functions] of Object.entries(tools as ToolNamespaces)) {
    if (!functions || typeof functions !== 'object') {
      throw new TypeError(`Tool namespace "${namespace}" must be an object of functions.`);
    }
    for (const [fn, run] of Object.entries(functions)) {
      if (typeof run !== 'function') throw new TypeError(`Tool "${namespace}.${fn}" must be a function.`);
      add({ name: `${namespace}.${fn}`, description: '', run: run as ToolDefinition['run'] });
    }
  }
}
