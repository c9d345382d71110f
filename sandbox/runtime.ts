/**
 * The runtime that generated code sees. It runs INSIDE the isolate, once per fresh context, before any
 * generated code, and is bundled by esbuild into one IIFE (`dist/sandbox/runtime.js`).
 *
 * Security rests on one rule: only strings cross the isolate boundary. Everything that could run code on
 * read (getters, proxies, thenables, toJSON, Symbol.species) is evaluated here, inside the isolate, under its
 * memory and time limits; the host receives JSON text and parses it with its own JSON.parse.
 *
 * The worker installs three host callbacks as globals before this script runs; we capture them in this
 * closure and delete the globals so generated code can never call them directly.
 */

// Captured before generated code runs, so that code replacing JSON.stringify, Promise.prototype.then and
// friends only breaks its own result, never the runtime's reporting.
const G = globalThis as unknown as Record<string, unknown>;
const jsonStringify = JSON.stringify;
const jsonParse = JSON.parse;
const objectFreeze = Object.freeze;
const objectIsFrozen = Object.isFrozen;
const objectKeys = Object.keys;
const defineProperty = Object.defineProperty;
const getPrototypeOf = Object.getPrototypeOf;
const reflectApply = Reflect.apply;
const promiseThen = Promise.prototype.then;
const arrayIsArray = Array.isArray;
const StringCtor = String;
const ErrorCtor = Error;
const WeakSetCtor = WeakSet;
const WeakMapCtor = WeakMap;
const weakMapGet = WeakMap.prototype.get;
const weakMapSet = WeakMap.prototype.set;
const weakSetAdd = WeakSet.prototype.add;
const weakSetHas = WeakSet.prototype.has;
const MapCtor = Map;
const SetCtor = Set;
const DateCtor = Date;
const ObjectProto = Object.prototype;
const objectToString = Object.prototype.toString;
const objectCreate = Object.create;
const stringSlice = String.prototype.slice;

type LogFn = (level: string, text: string) => void;
type ToolFn = (name: string, argsJson: string) => number;
type DoneFn = (kind: string, payload: string) => void;

const hostLog = G.__automesh_log__ as LogFn;
const hostTool = G.__automesh_tool__ as ToolFn;
const hostDone = G.__automesh_done__ as DoneFn;
delete G.__automesh_log__;
delete G.__automesh_tool__;
delete G.__automesh_done__;

// Not part of the generated-code contract, and each is a known escape or resource path:
// SharedArrayBuffer + Atomics.wait can block the isolate thread outside V8's interrupt checks; WebAssembly
// memory is not counted against the isolate's memory limit (the worker also runs with --no-expose-wasm);
// FinalizationRegistry callbacks run whenever the GC gets to them, which in a reused isolate could be during a
// later execution.
for (const name of ['SharedArrayBuffer', 'Atomics', 'WebAssembly', 'FinalizationRegistry']) delete G[name];

const toolErrors = new WeakSetCtor<object>();
const outputErrors = new WeakSetCtor<object>();

function safeString(value: unknown): string {
  try {
    return StringCtor(value);
  } catch {
    try {
      return reflectApply(objectToString, value, []) as string;
    } catch {
      return '[unprintable value]';
    }
  }
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !objectIsFrozen(value)) {
    objectFreeze(value);
    for (const key of objectKeys(value)) deepFreeze((value as Record<string, unknown>)[key]);
  }
  return value;
}

// ---- console -------------------------------------------------------------------------------------------

const MAX_INSPECT_DEPTH = 4;
const MAX_INSPECT_ITEMS = 100;

function inspect(value: unknown, depth: number, seen: object[]): string {
  switch (typeof value) {
    case 'string':
      return depth === 0 ? value : jsonStringify(value);
    case 'number':
    case 'boolean':
    case 'undefined':
      return StringCtor(value);
    case 'bigint':
      return `${StringCtor(value)}n`;
    case 'symbol':
      return safeString(value.toString());
    case 'function':
      return `[Function ${safeString((value as { name?: unknown }).name) || '(anonymous)'}]`;
  }
  if (value === null) return 'null';
  const obj = value as object;
  if (seen.includes(obj)) return '[Circular]';
  if (obj instanceof ErrorCtor) {
    return `${safeString((obj as Error).name)}: ${safeString((obj as Error).message)}`;
  }
  if (obj instanceof DateCtor) return safeString((obj as Date).toISOString?.());
  if (depth > MAX_INSPECT_DEPTH) return arrayIsArray(obj) ? '[Array]' : '[Object]';
  seen.push(obj);
  try {
    if (arrayIsArray(obj)) {
      const items = obj.slice(0, MAX_INSPECT_ITEMS).map((v) => inspect(v, depth + 1, seen));
      if (obj.length > MAX_INSPECT_ITEMS) items.push(`... ${obj.length - MAX_INSPECT_ITEMS} more items`);
      return `[ ${items.join(', ')} ]`;
    }
    if (obj instanceof MapCtor) {
      const items = [...(obj as Map<unknown, unknown>)]
        .slice(0, MAX_INSPECT_ITEMS)
        .map(([k, v]) => `${inspect(k, depth + 1, seen)} => ${inspect(v, depth + 1, seen)}`);
      return `Map(${(obj as Map<unknown, unknown>).size}) { ${items.join(', ')} }`;
    }
    if (obj instanceof SetCtor) {
      const items = [...(obj as Set<unknown>)].slice(0, MAX_INSPECT_ITEMS).map((v) => inspect(v, depth + 1, seen));
      return `Set(${(obj as Set<unknown>).size}) { ${items.join(', ')} }`;
    }
    const keys = objectKeys(obj);
    const items = keys
      .slice(0, MAX_INSPECT_ITEMS)
      .map((k) => `${k}: ${inspect((obj as Record<string, unknown>)[k], depth + 1, seen)}`);
    if (keys.length > MAX_INSPECT_ITEMS) items.push(`... ${keys.length - MAX_INSPECT_ITEMS} more keys`);
    return items.length === 0 ? '{}' : `{ ${items.join(', ')} }`;
  } finally {
    seen.pop();
  }
}

function formatArgs(args: unknown[]): string {
  const parts: string[] = [];
  for (const arg of args) {
    try {
      parts.push(inspect(arg, 0, []));
    } catch (err) {
      parts.push(`[uninspectable: ${safeString((err as Error)?.message)}]`);
    }
  }
  return parts.join(' ');
}

let logChars = 0;
let maxLogChars = Infinity;
let logOverflow = false;

function emit(level: string, args: unknown[]): void {
  if (logOverflow) return;
  const text = formatArgs(args);
  logChars += text.length + 1;
  // The worker counts exact UTF-8 bytes and ends the run; stopping here spares it a flood of calls.
  if (logChars > maxLogChars) logOverflow = true;
  hostLog(level, logOverflow ? text.slice(0, Math.max(0, maxLogChars)) : text);
}

const sandboxConsole = objectFreeze({
  log: (...args: unknown[]) => emit('log', args),
  info: (...args: unknown[]) => emit('info', args),
  debug: (...args: unknown[]) => emit('debug', args),
  warn: (...args: unknown[]) => emit('warn', args),
  error: (...args: unknown[]) => emit('error', args),
  trace: (...args: unknown[]) => emit('trace', args),
  dir: (value: unknown) => emit('log', [value]),
  table: (value: unknown) => emit('log', [value]),
});

// ---- tools ---------------------------------------------------------------------------------------------

// A tool call is two one-way crossings: the call goes out through a synchronous host callback that only
// queues it, and the reply comes back as a host call of `deliver`. No host promise ever enters the isolate.
const pendingCalls = new MapCtor<number, (replyJson: string) => void>();

function deliver(callId: number, replyJson: string): void {
  const resolve = pendingCalls.get(callId);
  if (!resolve) return;
  pendingCalls.delete(callId);
  resolve(replyJson);
}

function makeTool(name: string): (...args: unknown[]) => Promise<unknown> {
  const tool = async (...args: unknown[]): Promise<unknown> => {
    let argsJson: string | undefined;
    try {
      argsJson = jsonStringify(args);
    } catch (err) {
      throw new TypeError(
        `The arguments of tool ${name} cannot be sent to the host: ${safeString((err as Error)?.message)}. `
          + 'Pass plain JSON data (strings, numbers, booleans, null, arrays, plain objects).',
      );
    }
    const callId = hostTool(name, argsJson ?? '[]');
    const replyJson = await new Promise<string>((resolve) => {
      pendingCalls.set(callId, resolve);
    });
    const reply = jsonParse(replyJson) as { ok: boolean; value?: unknown; error?: string; code?: string };
    if (reply.ok) return reply.value;
    const err = new ErrorCtor(reply.error ?? `tool ${name} failed`) as Error & { code?: string };
    err.name = 'ToolError';
    // The code of the error the tool threw (a peer's MeshError code), for `catch (e) { if (e.code === ...) }`.
    if (typeof reply.code === 'string') err.code = reply.code;
    reflectApply(weakSetAdd, toolErrors, [err]);
    throw err;
  };
  defineProperty(tool, 'name', { value: name.split('.').pop() });
  return tool;
}

function installTools(names: string[]): void {
  const root: Record<string, unknown> = {};
  for (const fullName of names) {
    const parts = fullName.split('.');
    let node = root;
    for (const part of parts.slice(0, -1)) {
      node[part] ??= {};
      node = node[part] as Record<string, unknown>;
    }
    node[parts[parts.length - 1] as string] = makeTool(fullName);
  }
  deepFreeze(root);
  defineProperty(G, 'tools', { value: root, writable: false, configurable: false, enumerable: false });
  for (const key of objectKeys(root)) {
    defineProperty(G, key, { value: root[key], writable: false, configurable: false, enumerable: false });
  }
}

// ---- result --------------------------------------------------------------------------------------------

function outputError(message: string): Error {
  const err = new TypeError(message);
  reflectApply(weakSetAdd, outputErrors, [err]);
  return err;
}

function describeKey(key: string): string {
  return key === '' ? 'the result' : `result field "${key}"`;
}

/**
 * Deepest nesting of objects and arrays a result may have. The host stores results with its own recursive
 * JSON.stringify, which overflowed its stack on results nested 5,000 levels deep that had passed the sandbox.
 */
const MAX_RESULT_DEPTH = 1000;

/**
 * JSON text of the result. Documented conversions: Date → ISO string (its toJSON), NaN and ±Infinity → null,
 * `undefined` inside arrays → null, object fields holding `undefined` are dropped (plain JSON rules).
 * Everything else JSON cannot hold fails with category `output` and a message that names the field.
 */
function serializeResult(value: unknown): string {
  // Depth of each object being serialized; JSON.stringify walks depth first, and a holder's depth is set
  // before its fields are visited. The root holder is not in the map: depth 0.
  const depths = new WeakMapCtor<object, number>();
  const replacer = function (this: unknown, key: string, v: unknown): unknown {
    if (typeof v === 'function') throw outputError(`${describeKey(key)} is a function; return plain JSON data.`);
    if (typeof v === 'symbol') throw outputError(`${describeKey(key)} is a symbol; return plain JSON data.`);
    if (typeof v === 'bigint') {
      throw outputError(`${describeKey(key)} is a BigInt; convert it with String(x) or Number(x) first.`);
    }
    if (v !== null && typeof v === 'object') {
      if (v instanceof MapCtor) {
        throw outputError(`${describeKey(key)} is a Map; convert it with Object.fromEntries(map) first.`);
      }
      if (v instanceof SetCtor)
        throw outputError(`${describeKey(key)} is a Set; convert it with Array.from(set) first.`);
      if (ArrayBuffer.isView(v) || v instanceof ArrayBuffer) {
        throw outputError(`${describeKey(key)} is binary data; convert it with Array.from(x) first.`);
      }
      const proto = getPrototypeOf(v);
      if (!arrayIsArray(v) && proto !== ObjectProto && proto !== null) {
        throw outputError(
          `${describeKey(key)} is a class instance (${safeString(v.constructor?.name)}); return plain objects.`,
        );
      }
      const depth = ((reflectApply(weakMapGet, depths, [this]) as number | undefined) ?? 0) + 1;
      if (depth > MAX_RESULT_DEPTH) {
        throw outputError(
          `The result is nested more than ${MAX_RESULT_DEPTH} levels deep (the limit for results); `
            + 'return flatter data.',
        );
      }
      reflectApply(weakMapSet, depths, [v, depth]);
    }
    return v;
  };
  let text: string | undefined;
  try {
    text = jsonStringify(value, replacer);
  } catch (err) {
    if (err !== null && typeof err === 'object' && reflectApply(weakSetHas, outputErrors, [err])) throw err;
    throw outputError(`The result cannot be converted to JSON: ${safeString((err as Error)?.message)}`);
  }
  if (text === undefined) throw outputError('The result cannot be converted to JSON.');
  return text;
}

// ---- start ---------------------------------------------------------------------------------------------

let settled = false;

function finish(kind: string, payload: string): void {
  if (settled) return;
  settled = true;
  hostDone(kind, payload);
}

function clip(text: string, max: number): string {
  return reflectApply(stringSlice, text, [0, max]) as string;
}

function describeError(err: unknown): string {
  let category = 'runtime';
  let name = 'Error';
  let message: string;
  let stack = '';
  if (err !== null && (typeof err === 'object' || typeof err === 'function')) {
    if (reflectApply(weakSetHas, toolErrors, [err])) category = 'tool';
    else if (reflectApply(weakSetHas, outputErrors, [err])) category = 'output';
    try {
      name = safeString((err as Error).name);
      message = safeString((err as Error).message);
      stack = clip(safeString((err as Error).stack), 8000);
    } catch {
      message = safeString(err);
    }
  } else {
    name = 'Thrown value';
    message = safeString(err);
  }
  // The report must survive whatever the code did to the built-ins: a plain object literal would let a planted
  // `Object.prototype.toJSON` rewrite or swallow it (JSON.stringify consults toJSON through the prototype), and
  // a swallowed report turned the error into a silent timeout. A null-prototype object has no toJSON to find,
  // and `clip` does not go through a replaceable String.prototype.slice.
  const payload = objectCreate(null) as Record<string, string>;
  payload.category = category;
  payload.name = clip(name, 200);
  payload.message = clip(message, 4000);
  payload.stack = stack;
  return jsonStringify(payload);
}

function onValue(value: unknown): void {
  if (value === undefined) {
    finish('no_result', '');
    return;
  }
  let text: string;
  try {
    text = serializeResult(value);
  } catch (err) {
    finish('error', describeError(err));
    return;
  }
  finish('ok', text);
}

function start(contextJson: string, toolNamesJson: string, logLimit: number): void {
  maxLogChars = logLimit;
  const context = deepFreeze(jsonParse(contextJson) as unknown);
  defineProperty(G, 'context', { value: context, writable: false, configurable: false, enumerable: false });
  defineProperty(G, 'console', { value: sandboxConsole, writable: true, configurable: true, enumerable: false });
  installTools(jsonParse(toolNamesJson) as string[]);
  const main = G.__automesh_main__ as (() => Promise<unknown>) | undefined;
  delete G.__automesh_main__;
  if (typeof main !== 'function') {
    finish(
      'error',
      jsonStringify({ category: 'syntax', name: 'SyntaxError', message: 'no program was compiled', stack: '' }),
    );
    return;
  }
  let promise: Promise<unknown>;
  try {
    promise = main();
  } catch (err) {
    finish('error', describeError(err));
    return;
  }
  reflectApply(promiseThen, promise, [onValue, (err: unknown) => finish('error', describeError(err))]);
}

G.__automesh_start__ = start;
G.__automesh_deliver__ = deliver;
