// The workflow scheduler alone: readiness, concurrency slots, skip propagation, and what a failed save, a spent
// budget or a cancel does to the steps not yet started. No agents, no I/O: the scheduler is pure.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type Decision, type Halts, NO_HALTS, Scheduler } from '../src/mesh/scheduler.js';

const step = (id: string, ...dependsOn: string[]) => ({ id, dependsOn });

/** The decisions as short strings: `start:a`, `skip:b:dependency(a,failure)`. */
function show(decisions: Decision[]): string[] {
  return decisions.map((d) => {
    if (d.kind === 'start') return `start:${d.stepId}`;
    const r = d.reason;
    return `skip:${d.stepId}:${r.kind}${r.kind === 'dependency' ? `(${r.dependency},${r.status})` : ''}`;
  });
}

const halts = (over: Partial<Halts>): Halts => ({ ...NO_HALTS, ...over });

describe('readiness', () => {
  test('a diamond: roots first, the join only once both branches ended', () => {
    const s = new Scheduler([step('a'), step('b', 'a'), step('c', 'a'), step('d', 'b', 'c')], 8);
    assert.deepEqual(show(s.next()), ['start:a']);
    assert.deepEqual(show(s.next()), [], 'nothing new while a runs');
    s.ended('a', 'success');
    assert.deepEqual(show(s.next()), ['start:b', 'start:c']);
    s.ended('c', 'success');
    assert.deepEqual(show(s.next()), [], 'd waits for b');
    s.ended('b', 'success');
    assert.deepEqual(show(s.next()), ['start:d']);
    assert.equal(s.done, false);
    s.ended('d', 'success');
    assert.equal(s.done, true);
  });

  test('steps recovered from an earlier run count as ended; their dependants start at once', () => {
    const s = new Scheduler(
      [step('a'), step('b', 'a'), step('c', 'b')],
      4,
      new Map([
        ['a', 'success'],
        ['b', 'success'],
      ]),
    );
    assert.deepEqual(show(s.next()), ['start:c']);
    s.ended('c', 'success');
    assert.equal(s.done, true);
  });

  test('a step that was decided is never decided again, and an unknown end is refused', () => {
    const s = new Scheduler([step('a'), step('b')], 4);
    assert.deepEqual(show(s.next()), ['start:a', 'start:b']);
    assert.deepEqual(show(s.next()), []);
    assert.throws(() => s.ended('z', 'success'), /step "z" ended but was neither started nor skipped/);
    s.ended('a', 'success');
    assert.throws(() => s.ended('a', 'success'), /step "a" ended but was neither started nor skipped/);
  });

  test('bad input: concurrency, duplicate ids, unknown dependencies', () => {
    assert.throws(() => new Scheduler([step('a')], 0), /concurrency must be a whole number >= 1; got 0/);
    assert.throws(() => new Scheduler([step('a')], 1.5), /got 1\.5/);
    assert.throws(() => new Scheduler([step('a'), step('a')], 1), /duplicate step id "a"/);
    assert.throws(() => new Scheduler([step('a', 'nope')], 1), /step "a" depends on unknown step "nope"/);
  });
});

describe('concurrency slots', () => {
  test('at most `concurrency` steps run; a slot frees only when an end is announced, in step order', () => {
    const s = new Scheduler([step('a'), step('b'), step('c'), step('d'), step('e')], 2);
    assert.deepEqual(show(s.next()), ['start:a', 'start:b']);
    assert.equal(s.runningCount, 2);
    assert.deepEqual(show(s.next()), []);
    s.ended('b', 'failure');
    assert.deepEqual(show(s.next()), ['start:c']);
    s.ended('a', 'success');
    s.ended('c', 'success');
    assert.deepEqual(show(s.next()), ['start:d', 'start:e']);
  });

  test('skips take no slot: with every slot busy, a step whose dependency failed is skipped anyway', () => {
    const s = new Scheduler([step('a'), step('long'), step('b', 'a'), step('c')], 2);
    assert.deepEqual(show(s.next()), ['start:a', 'start:long']);
    s.ended('a', 'failure');
    assert.deepEqual(show(s.next()), ['skip:b:dependency(a,failure)', 'start:c']);
  });
});

describe('skip propagation', () => {
  test('a failed step skips its dependants, and their skips skip theirs; independent branches run on', () => {
    const s = new Scheduler([step('broken'), step('after', 'broken'), step('later', 'after'), step('side')], 4);
    assert.deepEqual(show(s.next()), ['start:broken', 'start:side']);
    s.ended('broken', 'failure');
    assert.deepEqual(show(s.next()), ['skip:after:dependency(broken,failure)']);
    assert.deepEqual(show(s.next()), [], 'later waits until the skip of after is announced');
    s.ended('after', 'skipped');
    assert.deepEqual(show(s.next()), ['skip:later:dependency(after,skipped)']);
    s.ended('later', 'skipped');
    assert.equal(s.done, false, 'side still runs');
    s.ended('side', 'success');
    assert.equal(s.done, true);
  });

  test('the first dependency that did not succeed is named', () => {
    const s = new Scheduler([step('x'), step('y'), step('z', 'x', 'y')], 4);
    s.next();
    s.ended('y', 'failure');
    s.ended('x', 'skipped');
    assert.deepEqual(show(s.next()), ['skip:z:dependency(x,skipped)']);
  });
});

describe('halts', () => {
  test('a spent budget skips every step not yet started; running steps keep their slot', () => {
    const s = new Scheduler([step('a'), step('b', 'a'), step('c'), step('d')], 1);
    assert.deepEqual(show(s.next()), ['start:a']);
    assert.deepEqual(show(s.next(halts({ budget: true }))), ['skip:c:budget', 'skip:d:budget'], 'b waits for a');
    s.ended('a', 'failure');
    assert.deepEqual(
      show(s.next(halts({ budget: true }))),
      ['skip:b:budget'],
      'the budget is named before the failed dependency',
    );
  });

  test('a cancel skips what is ready, but a failed dependency is the better reason', () => {
    const s = new Scheduler([step('a'), step('b', 'a'), step('c', 'a'), step('d')], 1);
    assert.deepEqual(show(s.next()), ['start:a']);
    s.ended('a', 'failure');
    assert.deepEqual(show(s.next(halts({ cancelled: true }))), [
      'skip:b:dependency(a,failure)',
      'skip:c:dependency(a,failure)',
      'skip:d:cancelled',
    ]);
  });

  test('a failed save skips everything ready, before any other reason', () => {
    const s = new Scheduler([step('a'), step('b', 'a'), step('c')], 1);
    assert.deepEqual(show(s.next()), ['start:a']);
    s.ended('a', 'failure');
    assert.deepEqual(show(s.next(halts({ storage: true, budget: true, cancelled: true }))), [
      'skip:b:storage',
      'skip:c:storage',
    ]);
    s.ended('b', 'skipped');
    s.ended('c', 'skipped');
    assert.equal(s.done, true);
  });

  test('a long chain of skips ends in one pass per link, never starting anything', () => {
    const ids = Array.from({ length: 500 }, (_, i) => `s${i}`);
    const s = new Scheduler(
      ids.map((id, i) => step(id, ...(i > 0 ? [ids[i - 1] as string] : []))),
      4,
    );
    assert.deepEqual(show(s.next()), ['start:s0']);
    s.ended('s0', 'failure');
    let skipped = 0;
    for (let d = s.next(); d.length > 0; d = s.next()) {
      for (const decision of d) {
        assert.equal(decision.kind, 'skip');
        s.ended(decision.stepId, 'skipped');
        skipped++;
      }
    }
    assert.equal(skipped, 499);
    assert.equal(s.done, true);
  });
});
