/**
 * JSON as Python's `json.dumps(value)` writes it with its defaults, which is how OpenAgentMesh writes the catalog and
 * registry documents (`oam-wire.md` §7): `", "` between items, `": "` after keys, and every character outside
 * printable ASCII escaped as `\uXXXX` (lowercase hex). Writing the same bytes keeps our documents identical to a
 * Python peer's, so a raw KV read cannot tell who wrote them.
 */

const SHORT_ESCAPES: Record<string, string> = {
  '"': '\\"',
  '\\': '\\\\',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
  '\b': '\\b',
  '\f': '\\f',
};

/** Python's `ensure_ascii` string form: anything but space..`~` is escaped, UTF-16 code unit by code unit. */
function pythonString(text: string): string {
  let out = '"';
  for (let i = 0; i < text.length; i++) {
    const ch = text[i] as string;
    const code = text.charCodeAt(i);
    const short = SHORT_ESCAPES[ch];
    if (short !== undefined) out += short;
    else if (code >= 0x20 && code <= 0x7e) out += ch;
    else out += `\\u${code.toString(16).padStart(4, '0')}`;
  }
  return `${out}"`;
}

/** `json.dumps(value)`; `undefined` members are left out, as JSON.stringify does. Throws on non-JSON values. */
export function pythonJson(value: unknown): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
      return pythonString(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError(`${value} cannot be written as JSON`);
      return JSON.stringify(value);
    case 'object': {
      if (Array.isArray(value)) return `[${value.map((item) => pythonJson(item ?? null)).join(', ')}]`;
      const members = Object.entries(value as Record<string, unknown>)
        .filter(([, member]) => member !== undefined)
        .map(([key, member]) => `${pythonString(key)}: ${pythonJson(member)}`);
      return `{${members.join(', ')}}`;
    }
    default:
      throw new TypeError(`a ${typeof value} cannot be written as JSON`);
  }
}

const encoder = new TextEncoder();

/** {@link pythonJson} as the bytes stored in a KV value. */
export function pythonJsonBytes(value: unknown): Uint8Array {
  return encoder.encode(pythonJson(value));
}
