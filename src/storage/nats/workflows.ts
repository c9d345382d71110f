/**
 * Workflow state on the `automesh-workflows` KV bucket (key layout in ./keys.ts): the owner lease on its own key,
 * changed only by compare-and-set on its revision (so of two claims at once exactly one wins), and the header and
 * each step on their own keys. The lease rules are the shared ones (`../lease-rules.ts`).
 *
 * Fencing: every header or step write first reads the lease key and checks that the lease is still the writer's
 * (same generation, same run, not released), then writes. KV has no transaction over two keys, so a window remains
 * between that check and the write: a takeover that lands inside it lets one last write of the old holder through.
 * That is acceptable because a takeover needs the old lease to have expired: the old holder stalled for its whole
 * lease (it renews at a fraction of the TTL), so the window is a few milliseconds after a stall of the full TTL,
 * and the write it lets through is a step record the new holder, which reads state only after its claim, rewrites
 * when it runs that step. Every write after the window is refused with `conflict`.
 *
 * The read is skipped while a lease this store itself claimed or renewed is in the first half of its term (by this
 * process's clock, from the moment it was written): nobody can take it over before it expires, so the read could
 * only confirm it. That saves a round trip per write on the path of every distributed step, and holds as long as
 * the clocks of two machines differ by less than half of WORKFLOW_LEASE_TTL.
 */

import type { KvBucket } from '../../transport/bus.js';
import { StorageError } from '../errors.js';
import {
  assertCurrent,
  assertHeaderOf,
  claimedLease,
  isCurrent,
  type LeaseRow,
  listingOf,
  renewedLease,
  snapshotOf,
} from '../lease-rules.js';
import { assertSafeName } from '../names.js';
import { ADVICE, damagedError, headerText, stepText } from '../records.js';
import type {
  DamagedWorkflowRecord,
  LeaseOwner,
  StepRecord,
  WorkflowHeader,
  WorkflowLease,
  WorkflowListing,
  WorkflowSnapshot,
  WorkflowStore,
} from '../types.js';
import { isCasRefusal, kvCall } from './failures.js';
import {
  headerKey,
  leaseKey,
  parseWorkflowHeaderKey,
  parseWorkflowKey,
  stepIndexKey,
  stepKey,
  workflowPrefix,
} from './keys.js';
import { leaseRowOf, leaseRowText } from './lease-row.js';
import { backoff, CAS_TRIES } from './retry.js';
import { addToStepIndex, readStepIndex } from './step-index.js';
import { type KvPlace, KvTexts, readAll } from './texts.js';

const encoder = new TextEncoder();

/** The lease key as read: its row (null when free) and the revision a compare-and-set must match (0: absent). */
interface LeaseRead {
  row: LeaseRow | null;
  revision: number;
  /** Set when the stored row cannot be read. */
  damage?: StorageError;
}

/** A copy of the lease a claim or renewal wrote (they always write one). */
function leaseOf(row: LeaseRow | null): WorkflowLease {
  if (row === null) throw new Error('A claim or renewal wrote no lease');
  return { ...row.lease, owner: { ...row.lease.owner } };
}

/** A lease this store wrote (claimed or renewed), and until when a fence may trust it without reading it. */
interface Confirmed {
  lease: WorkflowLease;
  trustedUntil: number;
}

export class BusWorkflowStore implements WorkflowStore {
  private readonly texts: KvTexts;
  private readonly confirmed = new Map<string, Confirmed>();

  constructor(
    private readonly place: KvPlace,
    private readonly now: () => number = Date.now,
  ) {
    this.texts = new KvTexts(place);
  }

  private bucket(): KvBucket {
    return this.place.bucket();
  }

  async claim(workflowId: string, owner: LeaseOwner, ttlMs: number): Promise<WorkflowLease> {
    assertSafeName('workflow id', workflowId);
    const row = await this.changeLease(workflowId, `claim workflow ${workflowId}`, (read) => {
      // A lease row nobody can read is treated as released, with a generation above any it can have held: a KV
      // revision only grows and each generation was written at its own revision, so this one fences off every
      // earlier holder.
      const stored = read.damage
        ? { lease: { workflowId, owner, generation: read.revision, expiresAt: 0 }, released: true }
        : read.row;
      return { lease: claimedLease(stored, workflowId, owner, ttlMs, this.now()), released: false };
    });
    return this.confirm(leaseOf(row));
  }

  async renew(lease: WorkflowLease, ttlMs: number): Promise<WorkflowLease> {
    assertSafeName('workflow id', lease?.workflowId);
    const row = await this.changeLease(lease.workflowId, `renew the lease of workflow ${lease.workflowId}`, (read) => {
      if (read.damage) throw read.damage;
      return { lease: renewedLease(read.row, lease, ttlMs, this.now()), released: false };
    });
    return this.confirm(leaseOf(row));
  }

  async release(lease: WorkflowLease): Promise<void> {
    assertSafeName('workflow id', lease?.workflowId);
    this.confirmed.delete(lease.workflowId);
    await this.changeLease(lease.workflowId, `release workflow ${lease.workflowId}`, (read) =>
      read.row && !read.damage && isCurrent(read.row, lease) ? { lease: read.row.lease, released: true } : null,
    );
  }

  async holder(workflowId: string): Promise<WorkflowLease | null> {
    assertSafeName('workflow id', workflowId);
    const read = await this.readLease(workflowId);
    if (read.damage) throw read.damage;
    return read.row && !read.row.released ? read.row.lease : null;
  }

  async list(options: { limit?: number } = {}): Promise<WorkflowListing> {
    const keys = await kvCall('list workflows', this.where(), () => this.bucket().keys('wf.'));
    const ids = keys.map(parseWorkflowHeaderKey).filter((id): id is string => id !== null);
    const reads = await readAll(ids, (workflowId) => this.texts.read(headerKey(workflowId)));
    const texts: Array<[string, string]> = [];
    const unreadable: DamagedWorkflowRecord[] = [];
    ids.forEach((workflowId, i) => {
      const read = reads[i];
      if (!read) return; // removed while listing
      if (read.problem === undefined) texts.push([workflowId, read.text]);
      else {
        const where = this.where(headerKey(workflowId));
        const error = damagedError(`The header of workflow ${workflowId}`, where, read.problem, ADVICE.header);
        unreadable.push({ kind: 'header', id: workflowId, reason: error.message });
      }
    });
    const listing = listingOf(this.where(), texts, options.limit);
    return { headers: listing.headers, damaged: [...unreadable, ...listing.damaged] };
  }

  async load(workflowId: string): Promise<WorkflowSnapshot | null> {
    assertSafeName('workflow id', workflowId);
    const [header, index] = await Promise.all([
      this.texts.read(headerKey(workflowId)),
      readStepIndex(this.texts, stepIndexKey(workflowId)),
    ]);
    // Without a readable index (damaged by hand), the step keys a listing finds.
    const stepIds = index === null || index.ids ? (index?.ids ?? []) : await this.listedStepIds(workflowId);
    const reads = await readAll(stepIds, (stepId) => this.texts.read(stepKey(workflowId, stepId)));
    let headerText: string | null = null;
    const steps: Array<[string, string]> = [];
    const unreadable: DamagedWorkflowRecord[] = [];
    if (header?.problem !== undefined) {
      const error = damagedError(
        `The header of workflow ${workflowId}`,
        this.where(headerKey(workflowId)),
        header.problem,
        ADVICE.header,
      );
      unreadable.push({ kind: 'header', id: workflowId, reason: error.message });
    } else if (header) headerText = header.text;
    stepIds.forEach((stepId, i) => {
      const read = reads[i];
      if (!read) return; // listed, but its first record was not written (or the workflow was removed meanwhile)
      if (read.problem === undefined) steps.push([stepId, read.text]);
      else {
        const where = this.where(stepKey(workflowId, stepId));
        const error = damagedError(`Step ${stepId} of workflow ${workflowId}`, where, read.problem, ADVICE.step);
        unreadable.push({ kind: 'step', id: stepId, reason: error.message });
      }
    });
    if (header === null && steps.length === 0 && unreadable.length === 0) return null;
    const snapshot = snapshotOf(workflowId, this.where(workflowPrefix(workflowId)), headerText, steps);
    const damaged = [...snapshot.damaged, ...unreadable].sort((a, b) =>
      a.kind !== b.kind ? (a.kind === 'header' ? -1 : 1) : a.id < b.id ? -1 : 1,
    );
    return { ...snapshot, damaged };
  }

  async saveHeader(lease: WorkflowLease, header: WorkflowHeader): Promise<void> {
    assertSafeName('workflow id', lease?.workflowId);
    await this.fence(lease, 'save the header');
    assertHeaderOf(lease, header);
    const text = headerText(header);
    await this.writeRecord(headerKey(lease.workflowId), text);
  }

  async saveStep(lease: WorkflowLease, step: StepRecord): Promise<void> {
    assertSafeName('workflow id', lease?.workflowId);
    const { workflowId } = lease;
    const indexKey = stepIndexKey(workflowId);
    const [, index] = await Promise.all([
      this.fence(lease, `save step ${String(step?.stepId)}`),
      readStepIndex(this.texts, indexKey),
    ]);
    const text = stepText(workflowId, step);
    await addToStepIndex(this.texts, indexKey, step.stepId, index, () => this.listedStepIds(workflowId));
    await this.writeRecord(stepKey(workflowId, step.stepId), text);
  }

  async remove(workflowId: string): Promise<boolean> {
    assertSafeName('workflow id', workflowId);
    const [keys, index] = await Promise.all([
      this.keysOf(workflowId),
      readStepIndex(this.texts, stepIndexKey(workflowId)),
    ]);
    const had =
      keys.some((key) => parseWorkflowKey(key).kind !== 'other') || (index?.ids !== undefined && index.ids.length > 0);
    const indexed = (index?.ids ?? []).map((stepId) => stepKey(workflowId, stepId));
    await this.texts.delete([...new Set([...keys, ...indexed])]);
    return had;
  }

  /** The step ids a listing of the workflow's keys finds (for an index that cannot be read). */
  private async listedStepIds(workflowId: string): Promise<string[]> {
    return (await this.keysOf(workflowId)).flatMap((key) => {
      const kind = parseWorkflowKey(key);
      return kind.kind === 'step' ? [kind.stepId] : [];
    });
  }

  private where(key?: string): string {
    return this.place.where(key);
  }

  private keysOf(workflowId: string): Promise<string[]> {
    const prefix = workflowPrefix(workflowId);
    return kvCall(`list the records of workflow ${workflowId}`, this.where(), () => this.bucket().keys(prefix));
  }

  private async writeRecord(key: string, text: string): Promise<void> {
    const { manifest } = await this.texts.write(key, text, { kind: 'put' });
    // A large record may have replaced another large one: the old version's parts go (see ./texts.ts).
    if (manifest) await this.texts.dropParts(key, manifest.version);
  }

  /** Throws `conflict` unless `lease` is the stored one (see the file comment for the window this leaves). */
  private async fence(lease: WorkflowLease, doing: string): Promise<void> {
    const confirmed = this.confirmed.get(lease.workflowId);
    if (
      confirmed
      && this.now() < confirmed.trustedUntil
      && isCurrent({ lease: confirmed.lease, released: false }, lease)
    )
      return;
    const read = await this.readLease(lease.workflowId);
    if (read.damage) throw read.damage;
    assertCurrent(read.row, lease, doing);
  }

  /** Remembers a lease just written, trusted for the first half of its term (see the file comment). */
  private confirm(lease: WorkflowLease): WorkflowLease {
    const writtenAt = this.now();
    this.confirmed.set(lease.workflowId, { lease, trustedUntil: writtenAt + (lease.expiresAt - writtenAt) / 2 });
    return lease;
  }

  private async readLease(workflowId: string): Promise<LeaseRead> {
    const key = leaseKey(workflowId);
    const entry = await kvCall(`read the lease of workflow ${workflowId}`, this.where(), () => this.bucket().get(key));
    if (entry === null) return { row: null, revision: 0 };
    try {
      return {
        row: leaseRowOf(new TextDecoder().decode(entry.value), workflowId, this.where(key)),
        revision: entry.revision,
      };
    } catch (error) {
      return { row: null, revision: entry.revision, damage: error as StorageError };
    }
  }

  /**
   * Read the lease, decide, write it back at the revision read (create when absent); on a lost race read again.
   * `decide` returns the row to store, or null for nothing to write.
   */
  private async changeLease(
    workflowId: string,
    doing: string,
    decide: (read: LeaseRead) => LeaseRow | null,
  ): Promise<LeaseRow | null> {
    const key = leaseKey(workflowId);
    for (let attempt = 1; attempt <= CAS_TRIES; attempt++) {
      const read = await this.readLease(workflowId);
      const next = decide(read);
      if (next === null) return null;
      const value = encoder.encode(leaseRowText(next));
      try {
        await kvCall(doing, this.where(key), () =>
          read.revision === 0 ? this.bucket().create(key, value) : this.bucket().update(key, value, read.revision),
        );
        return next;
      } catch (error) {
        if (!isCasRefusal(error)) throw error;
        await backoff(attempt);
      }
    }
    throw new StorageError(
      'conflict',
      `Could not ${doing}: its lease changed under each of ${CAS_TRIES} tries (other runs are claiming it at the `
        + 'same moment); try again.',
    );
  }
}
