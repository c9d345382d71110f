/**
 * What the test helpers match on: a text rule (a substring or a RegExp) and a value rule (a predicate, a RegExp
 * tried on the value's JSON, or a value the actual one must contain: every key the pattern names, recursively).
 */
import { isDeepStrictEqual } from 'node:util';

/** A substring the text must contain, or a RegExp it must match. */
export type TextMatch = string | RegExp;

/**
 * A predicate on the value; a RegExp tried on its JSON (a string value is tried as it is); or a pattern: an object
 * matches a value that has each of its keys with a matching value (other keys are ignored), an array matches an
 * array of the same length item by item, anything else must be equal.
 */
export type ValueMatch =
  | ((value: unknown) => boolean)
  | RegExp
  | Record<string, unknown>
  | unknown[]
  | string
  | number
  | boolean
  | null;

export function textMatches(text: string, match: TextMatch): boolean {
  return typeof match === 'string' ? text.includes(match) : new RegExp(match.source, match.flags).test(text);
}

export function valueMatches(value: unknown, match: ValueMatch): boolean {
  if (typeof match === 'function') return Boolean((match as (value: unknown) => boolean)(value));
  if (match instanceof RegExp) return textMatches(typeof value === 'string' ? value : describe(value), match);
  return contains(value, match);
}

function contains(value: unknown, pattern: unknown): boolean {
  if (Array.isArray(pattern)) {
    return (
      Array.isArray(value) && value.length === pattern.length && pattern.every((item, i) => contains(value[i], item))
    );
  }
  if (typeof pattern === 'object' && pattern !== null) {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
    const record = value as Record<string, unknown>;
    return Object.entries(pattern).every(([key, item]) => key in record && contains(record[key], item));
  }
  return isDeepStrictEqual(value, pattern);
}

/** A value as a message shows it: JSON, cut at 300 characters. */
export function describe(value: unknown): string {
  let text: string;
  try {
    text = value === undefined ? 'undefined' : (JSON.stringify(value) ?? String(value));
  } catch {
    text = String(value);
  }
  return text.length > 300 ? `${text.slice(0, 300)}…` : text;
}

/** A match as a message shows it. */
export function describeMatch(match: ValueMatch): string {
  if (typeof match === 'function') return `a message for which ${match.name || 'the predicate'}() is true`;
  if (match instanceof RegExp) return `a message matching ${String(match)}`;
  return `a message containing ${describe(match)}`;
}
