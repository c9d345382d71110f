/**
 * What both buses accept as subjects, queue groups, headers, bucket names and keys, checked the same way before
 * anything is sent, so an unusable name fails at once with `invalid_subject` on either transport (the NATS client
 * alone would let `a..b` or a wildcard publish through and the server would drop it silently).
 */

import type { BusHeaders } from './bus.js';
import { BusError } from './bus-errors.js';

const WHITESPACE = /\s/;

function refuse(what: string, value: string, why: string): never {
  throw new BusError('invalid_subject', `${what} ${JSON.stringify(value)} is not valid: ${why}.`);
}

const DOT = 46; // '.'
const STAR = 42; // '*'
const GREATER = 62; // '>'

/**
 * Checks the tokens of a subject; `wildcards` allows `*` tokens and a final `>` (subscriptions, watches). One pass
 * over the characters: every message sent is checked, and splitting each subject into tokens cost more than the rest
 * of the check.
 */
function checkSubject(what: string, subject: string, wildcards: boolean): void {
  if (typeof subject !== 'string' || subject.length === 0) refuse(what, String(subject), 'it is empty');
  if (WHITESPACE.test(subject)) refuse(what, subject, 'it contains white space');
  let start = 0;
  for (let i = 0; i <= subject.length; i++) {
    if (i < subject.length && subject.charCodeAt(i) !== DOT) continue;
    checkToken(what, subject, start, i, wildcards);
    start = i + 1;
  }
}

/** The token `subject[start, end)`: not empty; a wildcard only where `wildcards` allows, and `>` only last. */
function checkToken(what: string, subject: string, start: number, end: number, wildcards: boolean): void {
  if (end === start) refuse(what, subject, 'it has an empty token (two dots in a row, or a dot at an end)');
  if (end - start !== 1) return;
  const char = subject.charCodeAt(start);
  if (char !== STAR && char !== GREATER) return;
  const token = subject[start] as string;
  if (!wildcards) refuse(what, subject, `"${token}" is a wildcard, and a message goes to one literal subject`);
  if (char === GREATER && end !== subject.length) refuse(what, subject, '">" may only be the last token');
}

/** A subject a message is sent to: literal tokens only. */
export function assertPublishSubject(subject: string): void {
  checkSubject('Subject', subject, false);
}

/** A subject a subscription listens on: tokens, `*` for one token, a final `>` for the rest. */
export function assertSubscribeSubject(subject: string): void {
  checkSubject('Subject', subject, true);
}

export function assertQueueGroup(queue: string): void {
  if (typeof queue !== 'string' || queue.length === 0) refuse('Queue group', String(queue), 'it is empty');
  if (WHITESPACE.test(queue)) refuse('Queue group', queue, 'it contains white space');
}

const HEADER_NAME = /^[!-9;-~]+$/;
/**
 * Names that passed the check: a handful (OAM's, the trace's, a peer's own), on two messages per call, so a set
 * lookup instead of a regex. Bounded, so that a stream of distinct names cannot grow it without end.
 */
const checkedHeaderNames = new Set<string>();
const CHECKED_NAMES_KEPT = 256;

/** Header names are printable ASCII without `:`; values have no line break (NATS's header block is line-based). */
export function assertHeaders(headers: BusHeaders | undefined): void {
  for (const name in headers) {
    if (!Object.hasOwn(headers, name)) continue;
    if (!checkedHeaderNames.has(name)) assertHeaderName(name);
    const value = headers[name];
    if (typeof value !== 'string' || value.indexOf('\r') !== -1 || value.indexOf('\n') !== -1) {
      throw new TypeError(`Header ${name} must be a string without line breaks, got ${JSON.stringify(value)}.`);
    }
  }
}

function assertHeaderName(name: string): void {
  if (!HEADER_NAME.test(name)) {
    throw new TypeError(`Header name ${JSON.stringify(name)} is not printable ASCII without ":" or spaces.`);
  }
  if (checkedHeaderNames.size < CHECKED_NAMES_KEPT) checkedHeaderNames.add(name);
}

const encoder = new TextEncoder();

/**
 * The bytes a message takes against `max_payload`: its body plus its header block as NATS encodes it
 * (`NATS/1.0\r\n`, one `Name: value\r\n` per header, a blank line); no block when there are no headers.
 */
export function messageSize(bodyBytes: number, headers: BusHeaders | undefined): number {
  const entries = Object.entries(headers ?? {});
  if (entries.length === 0) return bodyBytes;
  const block = `NATS/1.0\r\n${entries.map(([name, value]) => `${name}: ${value}\r\n`).join('')}\r\n`;
  return bodyBytes + encoder.encode(block).length;
}

/** An upper bound of the header block's encoded size (at most 3 UTF-8 bytes per UTF-16 unit), without encoding it. */
function headerBlockBound(headers: BusHeaders | undefined): number {
  let bound = 12;
  for (const name in headers) bound += 3 * (name.length + (headers[name]?.length ?? 0)) + 4;
  return bound;
}

/** Refuses a message larger than `maxPayload` bytes (a body of `bodyBytes`), saying how large it is and the limit. */
export function assertPayloadSize(
  subject: string,
  bodyBytes: number,
  headers: BusHeaders | undefined,
  maxPayload: number,
  location: string,
): void {
  if (bodyBytes + headerBlockBound(headers) <= maxPayload) return;
  const size = messageSize(bodyBytes, headers);
  if (size <= maxPayload) return;
  throw new BusError(
    'payload_too_large',
    `The message to ${subject} is ${size} bytes with its headers, over the ${maxPayload}-byte limit (max_payload) of ${location}; `
      + 'send less per message (split it, or put large data in the object store) or raise max_payload in the server config.',
  );
}

const BUCKET_NAME = /^[-\w]+$/;
const KEY = /^[-/=.\w]+$/;
const KEY_PATTERN = /^[-/=.>*\w]+$/;

export function assertBucketName(bucket: string): void {
  if (typeof bucket !== 'string' || !BUCKET_NAME.test(bucket)) {
    refuse('Bucket name', String(bucket), 'use letters, digits, "_" and "-" only');
  }
}

/** A key-value key: letters, digits and `-/=_.`, dotted like a subject (no empty token). */
export function assertKey(key: string): void {
  if (typeof key !== 'string' || !KEY.test(key)) refuse('Key', String(key), 'use letters, digits and "-/=_." only');
  checkSubject('Key', key, false);
}

/** A key or a pattern with `*` / `>` tokens, for watches. */
export function assertKeyPattern(pattern: string): void {
  if (typeof pattern !== 'string' || !KEY_PATTERN.test(pattern)) {
    refuse('Key pattern', String(pattern), 'use letters, digits, "-/=_." and the wildcards "*" and ">" only');
  }
  checkSubject('Key pattern', pattern, true);
}

export function assertObjectName(name: string): void {
  if (typeof name !== 'string' || name.length === 0) refuse('Object name', String(name), 'it is empty');
}
