/**
 * The HTTP service's settings (`automesh serve`, the Fastify and Hono integrations). The access token is secret:
 * never echoed, masked wherever settings are shown, and filtered out of every response and log line.
 */
import type { z } from 'zod';
import { text } from './fields.js';

/** Shortest access token taken: a short one could be guessed. */
const MIN_TOKEN_LENGTH = 16;

export const SERVE_SETTINGS_SHAPE = {
  /**
   * The bearer token every request to the HTTP service must carry (`Authorization: Bearer <token>`); required to
   * listen on an address other than loopback.
   */
  SERVE_TOKEN: text('SERVE_TOKEN')
    .min(
      MIN_TOKEN_LENGTH,
      `SERVE_TOKEN must be at least ${MIN_TOKEN_LENGTH} characters: use a long random secret, e.g. $(openssl rand -hex 32)`,
    )
    .optional(),
} satisfies z.ZodRawShape;

export const SERVE_SECRET_SETTINGS: readonly string[] = ['SERVE_TOKEN'];
