/**
 * Memory figures of a benchmark: the peak RSS of this process and of its children (the sandbox workers), sampled
 * from /proc by a small process of its own, and this process's kernel peak (VmHWM), which can be started again.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';

/**
 * The sampler runs as its own small process, so that its period does not depend on this process's event loop
 * (which the engine keeps busy): every PERIOD ms it reads VmRSS of the host and of each of the host's children
 * (the sandbox workers; itself excluded) from /proc, and on the end of its stdin prints the peaks as JSON.
 */
const SAMPLER_SOURCE = String.raw`
const fs = require('node:fs');
const [host, period] = process.argv.slice(1, 3).map(Number);
const marker = process.argv[3];
const kb = (pid, field) => {
  try {
    const m = new RegExp('^' + field + ':\\s+(\\d+) kB', 'm').exec(fs.readFileSync('/proc/' + pid + '/status', 'utf8'));
    return m ? Number(m[1]) : null;
  } catch { return null; }
};
const children = () => {
  const out = [];
  try {
    for (const tid of fs.readdirSync('/proc/' + host + '/task')) {
      const text = fs.readFileSync('/proc/' + host + '/task/' + tid + '/children', 'utf8').trim();
      if (text) out.push(...text.split(/\s+/).map(Number));
    }
  } catch {}
  return out.filter((pid) => pid !== process.pid);
};
const cmd = (pid) => { try { return fs.readFileSync('/proc/' + pid + '/cmdline', 'utf8').split('\0').join(' ').trim(); } catch { return ''; } };
const r = { samples: 0, maxGapMs: 0, hostPeakKb: 0, workersSumPeakKb: 0, childrenSumPeakKb: 0, workers: {} };
let last = 0;
const sample = () => {
  const now = performance.now();
  if (r.samples > 0) r.maxGapMs = Math.max(r.maxGapMs, now - last);
  last = now;
  r.samples++;
  r.hostPeakKb = Math.max(r.hostPeakKb, kb(host, 'VmRSS') ?? 0);
  let sum = 0;
  let all = 0;
  for (const pid of children()) {
    const rss = kb(pid, 'VmRSS');
    if (rss === null) continue;
    const w = (r.workers[pid] ??= { peakKb: 0, hwmKb: 0, cmd: cmd(pid) });
    w.peakKb = Math.max(w.peakKb, rss);
    w.hwmKb = kb(pid, 'VmHWM') ?? w.hwmKb;
    all += rss;
    if (w.cmd.includes(marker)) sum += rss;
  }
  r.workersSumPeakKb = Math.max(r.workersSumPeakKb, sum);
  r.childrenSumPeakKb = Math.max(r.childrenSumPeakKb, all);
};
sample();
const timer = setInterval(sample, period);
process.stdin.resume();
process.stdin.on('end', () => { clearInterval(timer); sample(); process.stdout.write(JSON.stringify(r)); });
`;

export interface SamplerReport {
  samples: number;
  maxGapMs: number;
  hostPeakKb: number;
  /** Highest simultaneous sum over the sandbox workers (children whose command line has the marker). */
  workersSumPeakKb: number;
  /** The same over every child (the esbuild service too). */
  childrenSumPeakKb: number;
  workers: Record<string, { peakKb: number; hwmKb: number; cmd: string }>;
}

/** How a sandbox worker's command line is told from the host's other children (the esbuild service). */
export const WORKER_MARKER = '/sandbox/worker/';

export class RssSampler {
  private child: ChildProcess | null = null;
  private output = '';

  start(periodMs: number): Promise<void> {
    const child = spawn(
      process.execPath,
      ['-e', SAMPLER_SOURCE, String(process.pid), String(periodMs), WORKER_MARKER],
      {
        stdio: ['pipe', 'pipe', 'inherit'],
      },
    );
    this.child = child;
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      this.output += chunk;
    });
    // Started once it has taken its first sample (it runs as soon as node has loaded the script).
    return new Promise((resolve, reject) => {
      child.once('spawn', () => setTimeout(resolve, 150));
      child.once('error', reject);
    });
  }

  async stop(): Promise<SamplerReport> {
    const child = this.child;
    if (!child) throw new Error('bench: the RSS sampler was not started');
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.stdin?.end();
    await exited;
    this.child = null;
    return JSON.parse(this.output) as SamplerReport;
  }
}

export function statusKb(field: 'VmRSS' | 'VmHWM', pid: number | 'self' = 'self'): number | null {
  try {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) : null;
  } catch {
    return null;
  }
}

/** Starts this process's kernel peak (VmHWM) again from its current RSS (Linux >= 4.0); false if not allowed. */
export function resetPeak(): boolean {
  try {
    writeFileSync('/proc/self/clear_refs', '5');
    return true;
  } catch {
    return false;
  }
}

export function mb(kb: number): string {
  return `${(kb / 1024).toFixed(1)} MB`;
}
