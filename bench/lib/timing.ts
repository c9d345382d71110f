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
 * Runs `rounds` rounds of the measured thing and its floor, swapping which goes first each round, so the machine's
 * noise hits both alike.
 */
export async function alternate<T>(rounds: number, measured: () => Promise<T>, floor: () => Promise<T>) {
  const out = { mesh: [] as T[], floor: [] as T[] };
  for (let round = 0; round < rounds; round++) {
    if (round % 2 === 0) {
      out.mesh.push(await measured());
      out.floor.push(await floor());
    } else {
      out.floor.push(await floor());
      out.mesh.push(await measured());
    }
  }
  return out;
}
