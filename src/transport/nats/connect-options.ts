/**
 * From the settings to the NATS client's connection options: the server list (credentials in a URL are taken out
 * and used as the login, so they never reach a message), one way to log in (user and password, token, or a
 * `.creds` file), TLS when a URL says `tls://` or a CA file is given, and reconnecting forever.
 */
import { readFileSync } from 'node:fs';
import { type ConnectionOptions, credsAuthenticator } from '@nats-io/transport-node';
import type { NatsSettings } from '../../config/nats-settings.js';
import { SettingsError } from '../../config/settings.js';

export type NatsConnectSettings = Pick<
  NatsSettings,
  'NATS_USER' | 'NATS_PASSWORD' | 'NATS_TOKEN' | 'NATS_CREDS' | 'NATS_TLS_CA'
> & { NATS_URL: string };

export interface ServerList {
  /** The URLs the client dials, without credentials. */
  servers: string[];
  /** For messages: the URLs, comma-separated, without credentials. */
  location: string;
  /** `user:password@` or `token@` of the first URL that had one. */
  user?: string;
  pass?: string;
  tls: boolean;
}

/** Splits `NATS_URL` into server URLs, taking out any credentials (`nats://user:pass@host`). */
export function parseServers(natsUrl: string): ServerList {
  const list: ServerList = { servers: [], location: '', tls: false };
  for (const entry of natsUrl.split(',').map((part) => part.trim())) {
    if (entry === '') continue;
    const withScheme = entry.includes('://') ? entry : `nats://${entry}`;
    const url = new URL(withScheme);
    if (url.protocol === 'tls:') list.tls = true;
    if ((url.username || url.password) && list.user === undefined) {
      list.user = decodeURIComponent(url.username);
      if (url.password) list.pass = decodeURIComponent(url.password);
    }
    list.servers.push(`${url.protocol}//${url.host}`);
  }
  list.location = list.servers.join(',');
  return list;
}

/** Reads a `.creds` file, refusing one that is missing, unreadable or not a creds file, naming NATS_CREDS. */
function readCreds(path: string): Uint8Array {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const reason =
      (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'there is no such file' : (error as Error).message;
    throw new SettingsError(
      `NATS_CREDS=${path} cannot be read: ${reason}. Set NATS_CREDS to the .creds file nsc wrote for this user.`,
      [`NATS_CREDS=${path}: ${reason}`],
    );
  }
  if (!/-----BEGIN NATS USER JWT-----/.test(text) || !/-----BEGIN USER NKEY SEED-----/.test(text)) {
    const problem = `NATS_CREDS=${path} is not a .creds file (it needs a "BEGIN NATS USER JWT" and a "BEGIN USER NKEY SEED" block)`;
    throw new SettingsError(`${problem}. Set NATS_CREDS to the file nsc wrote (\`nsc generate creds\`).`, [problem]);
  }
  return new TextEncoder().encode(text);
}

/** How to log in, from the settings and the URL's credentials; more than one way is refused. */
function loginOptions(settings: NatsConnectSettings, list: ServerList): Partial<ConnectionOptions> {
  const ways: string[] = [];
  const options: Partial<ConnectionOptions> = {};
  const user = settings.NATS_USER ?? list.user;
  const pass = settings.NATS_PASSWORD ?? list.pass;
  if (user !== undefined && pass !== undefined) {
    ways.push(settings.NATS_USER ? 'NATS_USER and NATS_PASSWORD' : 'the user and password in NATS_URL');
    Object.assign(options, { user, pass });
  } else if (settings.NATS_USER !== undefined) {
    const problem = 'NATS_USER is set but NATS_PASSWORD is not';
    throw new SettingsError(`${problem}: set both (or NATS_TOKEN, or NATS_CREDS instead).`, [problem]);
  } else if (settings.NATS_PASSWORD !== undefined) {
    const problem = 'NATS_PASSWORD is set but NATS_USER is not';
    throw new SettingsError(`${problem}: set both.`, [problem]);
  }
  const token = settings.NATS_TOKEN ?? (user !== undefined && pass === undefined ? user : undefined);
  if (token !== undefined) {
    ways.push(settings.NATS_TOKEN ? 'NATS_TOKEN' : 'the token in NATS_URL');
    options.token = token;
  }
  if (settings.NATS_CREDS !== undefined) {
    ways.push('NATS_CREDS');
    options.authenticator = credsAuthenticator(readCreds(settings.NATS_CREDS));
  }
  if (ways.length > 1) {
    const problem = `more than one way to log in to NATS is set (${ways.join(', ')})`;
    throw new SettingsError(`${problem}: keep one.`, [problem]);
  }
  return options;
}

/**
 * TLS options: the private CA when given, and the host the certificate must name. The client upgrades a plain
 * socket to TLS, and for a server given by IP address Node then checks the certificate against "localhost" (the
 * client sends no server name for an IP); naming the host fixes that whenever all URLs share one host.
 */
function tlsOptions(list: ServerList, caFile: string | undefined): NonNullable<ConnectionOptions['tls']> {
  const hosts = new Set(list.servers.map((server) => new URL(server).hostname.replace(/^\[|\]$/g, '')));
  const host = hosts.size === 1 ? [...hosts][0] : undefined;
  return { ...(caFile ? { caFile } : {}), ...(host ? { host } : {}) } as NonNullable<ConnectionOptions['tls']>;
}

export interface ConnectPlan {
  options: ConnectionOptions;
  location: string;
  /** How the client logs in, for messages: `user and password`, `token`, `creds file`, or null. */
  login: string | null;
  /** The secret values, to keep out of any message. */
  secrets: string[];
}

export function connectPlan(
  settings: NatsConnectSettings,
  client: { name?: string; connectTimeoutMs?: number; reconnectWaitMs?: number },
): ConnectPlan {
  const list = parseServers(settings.NATS_URL);
  const login = loginOptions(settings, list);
  const tls = list.tls || settings.NATS_TLS_CA !== undefined;
  const options: ConnectionOptions = {
    servers: list.servers,
    ...(client.name ? { name: client.name } : {}),
    ...login,
    ...(tls ? { tls: tlsOptions(list, settings.NATS_TLS_CA) } : {}),
    timeout: client.connectTimeoutMs ?? 5_000,
    maxReconnectAttempts: -1,
    reconnectTimeWait: client.reconnectWaitMs ?? 500,
    // No stack captured per request: the bus's own errors say where a request went.
    noAsyncTraces: true,
  };
  const secrets = [login.pass, login.token].filter((value): value is string => typeof value === 'string');
  return {
    options,
    location: list.location,
    login: login.authenticator
      ? 'the creds file'
      : login.token
        ? 'the token'
        : login.user
          ? 'the user and password'
          : null,
    secrets,
  };
}
