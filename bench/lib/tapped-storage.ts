/**
 * The benchmarks' view into storage: a {@link Storage} handed to `new Mesh({ storage })` whose chosen methods run
 * through a tap (to time a write, or to skip it in a diagnostic run), every other method going straight to the
 * real store. The mesh gets it through its storage seam, as any backend; nothing of a running mesh is patched.
 */
import { join } from 'node:path';
import { openSqliteStorage, type Storage } from '../../src/index.js';

/** Replacements for some methods of a store; each gets the store's own method (bound) to call or not. */
export type Taps<T> = {
  [K in keyof T]?: T[K] extends (...args: infer A) => infer R ? (inner: T[K], ...args: A) => R : never;
};

/** `inner` with the methods in `taps` going through them; the rest are `inner`'s own. */
export function tapped<T extends object>(inner: T, taps: Taps<T>): T {
  return new Proxy(inner, {
    get(target, key) {
      const value = Reflect.get(target, key, target) as unknown;
      if (typeof value !== 'function') return value;
      const own = (value as (...args: unknown[]) => unknown).bind(target);
      const tap = taps[key as keyof T] as ((inner: unknown, ...args: unknown[]) => unknown) | undefined;
      return tap ? (...args: unknown[]) => tap(own, ...args) : own;
    },
  });
}

export interface StorageTaps {
  results?: Taps<Storage['results']>;
  registry?: Taps<Storage['registry']>;
  workflows?: Taps<Storage['workflows']>;
}

/** The default backend (the database under `logDir`, as `LOG_DIRECTORY` would have it) with `taps` on. */
export function tappedSqliteStorage(logDir: string, taps: StorageTaps): Storage {
  const storage = openSqliteStorage(join(logDir, 'automesh.db'));
  return {
    results: tapped(storage.results, taps.results ?? {}),
    registry: tapped(storage.registry, taps.registry ?? {}),
    workflows: tapped(storage.workflows, taps.workflows ?? {}),
    location: storage.location,
    close: () => storage.close(),
  };
}

/** Runs `call` and hands its wall time to `record`, whether it resolved or threw. */
export async function timeInto<T>(call: () => Promise<T>, record: (took: number) => void): Promise<T> {
  const started = performance.now();
  try {
    return await call();
  } finally {
    record(performance.now() - started);
  }
}
