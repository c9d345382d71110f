/**
 * How a sandbox worker process is confined, as defence in depth behind the isolate: should code ever get out
 * of the isolate, the process it lands in can still not write a file, start a process or a thread, read
 * outside what the worker needs, or reach the network.
 *
 * - Node's permission model (`--experimental-permission`): file reads only of the worker's own files and
 *   isolated-vm, no file writes, no child processes, no worker threads; `--allow-addons` for isolated-vm.
 * - A network namespace of its own (Linux, `unshare -n` as root, `unshare -rn` otherwise): no interface but a
 *   loopback that is down. The IPC channel to the host is an inherited file descriptor, so it keeps working.
 *
 * Each is detected once per process; what is not available is recorded with its reason, the worker runs
 * without it, and `automesh check` shows a warning.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { ObservedConfinement } from './protocol.js';

export interface ConfinementStatus {
  active: boolean;
  /** What is in force, or why it is not. */
  detail: string;
}

export interface WorkerConfinement {
  /** Node's permission model: restricted file reads, no file writes, no child processes, no worker threads. */
  permissions: ConfinementStatus;
  /** No network: the worker runs in a network namespace of its own. */
  network: ConfinementStatus;
}

/** How to start a confined worker: `fork()`'s `execPath` and `execArgv`. */
export interface WorkerCommand {
  execPath: string;
  execArgv: string[];
}

/**
 * `--no-node-snapshot`: isolated-vm needs it on Node 20. `--no-expose-wasm`: WebAssembly memory escapes the
 * isolate's memory limit. `--no-harmony-rab-gsab`: so does a resizable ArrayBuffer, which `resize()` grew to
 * hundreds of MB under a 64 MB limit; without the flag `maxByteLength` is ignored and buffers keep their size.
 * `--no-warnings`: the permission model's experimental and security warnings would fill the stderr tail that
 * a crash report quotes.
 */
const WORKER_V8_FLAGS = ['--no-node-snapshot', '--no-expose-wasm', '--no-harmony-rab-gsab', '--no-warnings'];

const UNSHARE_PATHS = ['/usr/bin/unshare', '/bin/unshare', '/usr/sbin/unshare', '/sbin/unshare'];

let detected: { network: ConfinementStatus & { unshare?: string[] }; permissions: ConfinementStatus } | undefined;

function detectNetwork(): ConfinementStatus & { unshare?: string[] } {
  if (process.platform !== 'linux') {
    return {
      active: false,
      detail: `no network namespace on ${process.platform}: workers can open network connections`,
    };
  }
  const unshare = UNSHARE_PATHS.find((path) => existsSync(path));
  if (!unshare) {
    return { active: false, detail: 'unshare (util-linux) is not installed: workers can open network connections' };
  }
  // As root a network namespace needs no user namespace; otherwise an unprivileged user namespace carries it.
  const flag = process.getuid?.() === 0 ? '-n' : '-rn';
  const probe = spawnSync(unshare, [flag, '--', process.execPath, '-e', ''], {
    timeout: 10_000,
    encoding: 'utf8',
    env: {},
  });
  if (probe.status !== 0) {
    const why = (probe.error?.message ?? probe.stderr?.trim()) || `exit ${String(probe.status ?? probe.signal)}`;
    return {
      active: false,
      detail: `unshare ${flag} is not allowed here (${why.slice(0, 200)}): workers can open network connections`,
    };
  }
  return {
    active: true,
    detail: `own network namespace (unshare ${flag}): no network interface`,
    unshare: [unshare, flag],
  };
}

function detectPermissions(): ConfinementStatus {
  const flags = process.allowedNodeEnvironmentFlags;
  if (!flags.has('--experimental-permission') || !flags.has('--allow-addons')) {
    return {
      active: false,
      detail:
        `Node.js ${process.versions.node} has no permission model that allows isolated-vm (--allow-addons): `
        + 'workers can write files and start processes',
    };
  }
  return {
    active: true,
    detail:
      'Node.js permission model: reads only of the worker and isolated-vm, no file writes, no child processes, no worker threads',
  };
}

/** What confines the workers this process starts (detected on first use). */
export function workerConfinement(): WorkerConfinement {
  detected ??= { network: detectNetwork(), permissions: detectPermissions() };
  return {
    permissions: { ...detected.permissions },
    network: { active: detected.network.active, detail: detected.network.detail },
  };
}

/**
 * Paths the worker reads while it starts: its entry's directory tree, and isolated-vm as module resolution
 * finds it (every `node_modules` on the way up from the entry, symlinks included, and the real location).
 * Module resolution stats each of them; a denied stat is an error, not a "not found".
 */
function readablePaths(entry: string, distRoot: string): string[] {
  const paths = [join(distRoot, '*')];
  const require = createRequire(entry);
  const ivmPackage = require.resolve('isolated-vm/package.json');
  paths.push(`${dirname(realpathSync(ivmPackage))}*`);
  for (let dir = dirname(entry); ; dir = dirname(dir)) {
    paths.push(join(dir, 'package.json'));
    // Node 20 ignores an exact entry for a directory when another entry lies under it; a wildcard matches.
    paths.push(`${join(dir, 'node_modules')}*`);
    if (existsSync(join(dir, 'node_modules', 'isolated-vm')) || dirname(dir) === dir) break;
  }
  return paths;
}

/**
 * The command that starts a worker running `entry`. `distRoot` is the built tree the worker loads its code
 * from; `extraReadable` adds files the worker must read (only tests start other entries).
 */
export function workerCommand(entry: string, distRoot: string, extraReadable: string[] = []): WorkerCommand {
  const confinement = workerConfinement();
  const node = [...WORKER_V8_FLAGS];
  if (confinement.permissions.active) {
    node.push('--experimental-permission', '--allow-addons');
    for (const path of [...readablePaths(entry, distRoot), ...extraReadable]) node.push(`--allow-fs-read=${path}`);
  }
  const unshare = detected?.network.unshare;
  if (unshare) {
    const [command, flag] = unshare as [string, string];
    return { execPath: command, execArgv: [flag, '--', process.execPath, ...node] };
  }
  return { execPath: process.execPath, execArgv: node };
}

/**
 * The confinement in force: what this process asked for, confirmed by what a worker saw from inside
 * (`observed`, from its `ready` message; `null` when no worker has started yet).
 */
export function confirmedConfinement(observed: ObservedConfinement | null): WorkerConfinement {
  const asked = workerConfinement();
  if (!observed) {
    const none = { active: false, detail: 'not known yet: no sandbox worker has started' };
    return { permissions: none, network: { ...none } };
  }
  const permissions =
    asked.permissions.active && !observed.permissions
      ? {
          active: false,
          detail: 'the permission model was requested, but the worker reports file writes or child processes allowed',
        }
      : asked.permissions;
  const network =
    asked.network.active && observed.networkInterfaces.length > 0
      ? {
          active: false,
          detail: `a network namespace was requested, but the worker sees ${observed.networkInterfaces.join(', ')}`,
        }
      : asked.network;
  return { permissions, network };
}
