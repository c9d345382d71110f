/** Timing loops shared by the request/reply benchmarks (mesh, peers): serial rounds, alternated with a floor. */
import { performance } from 'node:perf_hooks';

/** One request/reply (or task), timed by the caller; throws when the answer is wrong. */
export type Once = () => Promise<void>;

/** The wall time of each of `count` serial runs, in ms. */
export async function serialTimes(once: Once, count: number): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    await once();
    times.push(performance.now() - started);
  }
  return times;
}

/**
 * Runs `rounds` rounds of each of `runs`, the order rotating each round (the first goes last next time), so the
 * machine's noise hits all alike. Returns each run's results, in the order of `runs`.
 */
export async function rotated<T>(rounds: number, runs: ReadonlyArray<() => Promise<T>>): Promise<T[][]> {
  const out = runs.map((): T[] => []);
  for (let round = 0; round < rounds; round++) {
    for (let k = 0; k < runs.length; k++) {
      const index = (round + k) % runs.length;
      out[index]?.push(await (runs[index] as () => Promise<T>)());
    }
  }
  return out;
}

/** `rotated` for a measured thing and its floor. */
export async function alternate<T>(rounds: number, measured: () => Promise<T>, floor: () => Promise<T>) {
  const [mesh = [], floorResults = []] = await rotated(rounds, [measured, floor]);
  return { mesh, floor: floorResults };
}
