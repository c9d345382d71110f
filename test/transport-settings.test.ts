// The mesh transport's settings: NATS_URL is checked URL by URL, NODE_NAME defaults to the host name, and the
// password, the token and a URL's credentials never appear in an error.
import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import { test } from 'node:test';
import { natsSettingsOf } from '../src/config/nats-settings.js';
import { loadSettings, SECRET_SETTINGS, SettingsError } from '../src/config/settings.js';

const load = (env: Record<string, string>) => natsSettingsOf(loadSettings({ env, envFile: false }));

function problemsOf(env: Record<string, string>): string {
  try {
    load(env);
  } catch (error) {
    assert.ok(error instanceof SettingsError, String(error));
    return error.message;
  }
  return assert.fail('the settings were accepted');
}

test('unset: no NATS_URL (the in-process transport), NODE_NAME is the host name', () => {
  const settings = load({});
  assert.equal(settings.NATS_URL, undefined);
  assert.equal(settings.NODE_NAME, hostname());
});

test('NATS_URL takes several comma-separated nats:// and tls:// URLs, or host:port', () => {
  const env = {
    NATS_URL: 'nats://a.example:4222, tls://b.example:4443,c.example:4222',
    NODE_NAME: 'node-1',
    NATS_USER: 'mesh',
    NATS_PASSWORD: 'pw-0123456789',
    NATS_CREDS: '/etc/nats/user.creds',
  };
  assert.deepEqual(load(env), { ...env, NATS_TOKEN: undefined, NATS_TLS_CA: undefined });
});

test('a NATS_URL that is not a NATS server URL is refused, naming the setting, without the URL’s password', () => {
  const message = problemsOf({ NATS_URL: 'http://admin:hunter2-secret@broker.example:4222' });
  assert.match(message, /NATS_URL must be one or more server URLs/);
  assert.match(message, /use nats:\/\/ or tls:\/\//);
  assert.doesNotMatch(message, /hunter2-secret|admin/);
  assert.match(problemsOf({ NATS_URL: 'nats://a:4222,,nats://b:4222' }), /a URL between commas is empty/);
});

test('the password and the token are secret settings: never echoed, masked by check', () => {
  assert.ok(SECRET_SETTINGS.has('NATS_PASSWORD'));
  assert.ok(SECRET_SETTINGS.has('NATS_TOKEN'));
  const message = problemsOf({ NATS_PASSWORD: '   ', NATS_TOKEN: '   ', NATS_USER: '' });
  assert.match(message, /NATS_PASSWORD=\(hidden\)/);
  assert.match(message, /NATS_TOKEN=\(hidden\)/);
});
