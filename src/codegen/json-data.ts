/**
 * Is this value JSON data? Task and step contexts are copied into the sandbox as JSON, so anything JSON cannot
 * hold would otherwise fail late and obscurely (`Maximum call stack size exceeded` for a cycle, `Do not know how
 * to serialize a BigInt`) or change silently (a Map becomes `{}`, NaN becomes null). This finds the first such
 * value and names its path, before any model is asked.
 */

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** `base.key`, or `base["odd key"]` when the key is not an identifier. */
export function propertyPath(base: string, key: string): string {
  return IDENTIFIER.test(key) ? `${base}.${key}` : `${base}[${JSON.stringify(key)}]`;
}

function isPlainObject(value: object): boolean {
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/** Why a value that is not a plain object or array cannot be JSON data, with what to pass instead. */
function describeInstance(value: object): string {
  if (value instanceof Map)
    return 'a Map is not JSON data (JSON would make it {}); pass Object.fromEntries(map) or [...map]';
  if (value instanceof Set) return 'a Set is not JSON data (JSON would make it {}); pass [...set]';
  if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer)
    return 'binary data is not JSON data; pass an array of numbers or a base64 string';
  const name = (value.constructor as { name?: string } | undefined)?.name;
  return `${name ? `an instance of ${name}` : 'an object with a custom prototype'} is not JSON data; pass a plain object`;
}

/** The problem with a value that is not an object, or null when it is JSON data. */
function describePrimitive(value: unknown, inArray: boolean): string | null {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return null;
    case 'number':
      return Number.isFinite(value) ? null : `${String(value)} is not JSON data (JSON would make it null)`;
    case 'bigint':
      return 'BigInt is not JSON data; pass a number or a string';
    case 'function':
      return 'a function is not JSON data; give the agent a tool instead';
    case 'symbol':
      return 'a Symbol is not JSON data';
    case 'undefined':
      return inArray ? 'undefined in an array is not JSON data (JSON would make it null); use null' : null;
    default:
      return null;
  }
}

type Visit = { value: unknown; path: string; inArray: boolean } | { leave: object };

/**
 * The first part of `value` that JSON cannot hold, as `path: reason`, or null when all of it is JSON data.
 * `undefined` object properties are allowed (JSON leaves them out, as a missing key). A Date is allowed: it is
 * copied as its ISO string, as documented. The walk is iterative, so a deep value cannot overflow the stack.
 */
export function findNonJsonData(value: unknown, path: string): string | null {
  const stack: Visit[] = [{ value, path, inArray: false }];
  /** Objects on the path from the root to the one being walked, with their paths: a cycle returns to one. */
  const onPath = new Map<object, string>();
  /** Objects already found to be JSON data: a value shared by several keys is walked once. */
  const checked = new WeakSet<object>();
  while (stack.length > 0) {
    const item = stack.pop() as Visit;
    if ('leave' in item) {
      onPath.delete(item.leave);
      checked.add(item.leave);
      continue;
    }
    const current = item.value;
    if (current === null || typeof current !== 'object') {
      const problem = describePrimitive(current, item.inArray);
      if (problem) return `${item.path}: ${problem}`;
      continue;
    }
    const earlier = onPath.get(current);
    if (earlier !== undefined) return `${item.path}: a circular reference (back to ${earlier}) is not JSON data`;
    if (current instanceof Date) {
      if (Number.isNaN(current.getTime()))
        return `${item.path}: an invalid Date is not JSON data (JSON would make it null)`;
      continue;
    }
    if (checked.has(current)) continue;
    const isArray = Array.isArray(current);
    if (!isArray && !isPlainObject(current)) return `${item.path}: ${describeInstance(current)}`;
    onPath.set(current, item.path);
    stack.push({ leave: current });
    const children: Array<[string, unknown]> = isArray
      ? (current as unknown[]).map((v, i) => [`${item.path}[${i}]`, v])
      : Object.entries(current).map(([k, v]) => [propertyPath(item.path, k), v]);
    // Reversed onto the stack, so the first problem in reading order is the one reported.
    for (let i = children.length - 1; i >= 0; i--) {
      const [childPath, child] = children[i] as [string, unknown];
      stack.push({ value: child, path: childPath, inArray: isArray });
    }
  }
  return null;
}
