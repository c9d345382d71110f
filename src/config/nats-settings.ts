/**
 * The mesh transport's settings: where the NATS server is and how to log in (see `settings.ts` for how settings are
 * loaded). Unset `NATS_URL` means no broker: the mesh stays in-process. The password and the token are secret.
 */
import { hostname } from 'node:os';
import type { z } from 'zod';
import { text } from './fields.js';

/** One server URL of `NATS_URL`: `nats://host:port`, `tls://host:port`, or `host:port` (nats://). */
function serverUrlProblem(entry: string): string | null {
  let parsed: URL;
  try {
    parsed = new URL(entry.includes('://') ? entry : `nats://${entry}`);
  } catch {
    return `"${entry}" is not a URL`;
  }
  if (parsed.protocol !== 'nats:' && parsed.protocol !== 'tls:') {
    return `"${parsed.protocol}//…" is not a NATS scheme (use nats:// or tls://)`;
  }
  if (!parsed.hostname) return 'a URL has no host';
  return null;
}

const natsUrls = text('NATS_URL').superRefine((value, ctx) => {
  const entries = value.split(',').map((entry) => entry.trim());
  for (const entry of entries) {
    const problem = entry === '' ? 'a URL between commas is empty' : serverUrlProblem(entry);
    if (problem) {
      ctx.addIssue({
        code: 'custom',
        message: `NATS_URL must be one or more server URLs separated by commas, e.g. nats://127.0.0.1:4222; ${problem}`,
      });
      return;
    }
  }
});

export const NATS_SETTINGS_SHAPE = {
  /** The NATS server(s) of the mesh, comma-separated; unset: the in-process transport. */
  NATS_URL: natsUrls.optional(),
  /** This machine's name on the mesh. */
  NODE_NAME: text('NODE_NAME').default(hostname()),
  NATS_USER: text('NATS_USER').optional(),
  NATS_PASSWORD: text('NATS_PASSWORD').optional(),
  NATS_TOKEN: text('NATS_TOKEN').optional(),
  /** A `.creds` file (user JWT and NKey seed), as `nsc` writes it. */
  NATS_CREDS: text('NATS_CREDS').optional(),
  /** A PEM file of the certificate authority that signed the server's TLS certificate (a private CA). */
  NATS_TLS_CA: text('NATS_TLS_CA').optional(),
} satisfies z.ZodRawShape;

export const NATS_SECRET_SETTINGS: readonly string[] = ['NATS_PASSWORD', 'NATS_TOKEN'];

export type NatsSettings = {
  [K in keyof typeof NATS_SETTINGS_SHAPE]: z.infer<(typeof NATS_SETTINGS_SHAPE)[K]>;
};

/** The transport's slice of loaded settings. */
export function natsSettingsOf(settings: NatsSettings): NatsSettings {
  const keys = Object.keys(NATS_SETTINGS_SHAPE) as Array<keyof NatsSettings>;
  return Object.fromEntries(keys.map((key) => [key, settings[key]])) as NatsSettings;
}
