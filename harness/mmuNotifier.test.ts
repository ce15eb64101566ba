import { describe, expect, it } from 'vitest';
import type { IntervalSubscription, NotifierRange } from './notifierCore.js';
import { type InvalidateFlow, MmuNotifier, type RangeInfo } from './mmuNotifier.js';
import { type Flow, internalStep } from './scheduler.js';

/** Runs a flow that must not wait. */
function runNow<T>(flow: Flow<T>): T {
  const r = flow.next();
  if (!r.done) throw new Error('the flow waited');
  return r.value;
}

const unmap: RangeInfo = { event: 'unmap', owner: null, blockable: true, thread: 0 };
const oomReap: RangeInfo = { event: 'unmap', owner: null, blockable: false, thread: 1 };

/** A correct callback: set_seq with the value it got, then succeed. */
const setSeqThenOk = (n: MmuNotifier): InvalidateFlow =>
  // biome-ignore lint/correctness/useYield: a callback that never waits for the device
  function* (sub, _range, cur) {
    n.core.setSeq(sub, cur);
    return true;
  };

/** A callback on a non-blockable range whose mutex_trylock fails: -EAGAIN before set_seq (as in the kernel drivers). */
const trylockFails = (log: NotifierRange[]): InvalidateFlow =>
  // biome-ignore lint/correctness/useYield: a callback that never waits for the device
  function* (_sub, range) {
    log.push(range);
    return false;
  };

describe('mmu notifier (mm/mmu_notifier.c with range flags and non-blocking starts)', () => {
  it('the sequence is odd while an overlapping invalidation is open; read_retry reports the collision after set_seq', () => {
    const n = new MmuNotifier({ endSkippedAfterEagain: false });
    let seen: number | null = null;
    let release = false;
    const sub = n.insert(0, 2, function* (s, _range, cur) {
      seen = cur;
      // The callback waits for the device before set_seq (a step that is not ready until released).
      yield internalStep('WaitDevice', {}, () => release);
      n.core.setSeq(s, cur);
      return true;
    });
    expect(n.core.seq).toBe(2);
    const s = n.core.readBegin(sub);
    expect(s).toBe(1);
    const start = n.rangeStart(1, 3, unmap);
    const first = start.next();
    expect(first.done).toBe(false);
    // Inside the callback, before set_seq: the region is open, seq odd, but the reader's seq is unchanged.
    expect(n.core.seq).toBe(3);
    expect(seen).toBe(3);
    expect(n.core.active).toBe(1);
    expect(n.rangeValid()).toBe(false);
    expect(n.core.readRetry(sub, s)).toBe(false);
    release = true;
    const done = start.next();
    if (!done.done) throw new Error('the start waited again');
    const region = done.value;
    if (region === null) throw new Error('a blockable start cannot fail');
    // After set_seq: the collision is reported, and read_begin would sleep until the region ends.
    expect(n.core.readRetry(sub, s)).toBe(true);
    expect(n.core.checkRetry(sub, s)).toBe(true);
    expect(n.core.readBeginWouldSleep(sub)).toBe(true);
    n.rangeEnd(region);
    expect(n.core.seq).toBe(4);
    expect(n.core.active).toBe(0);
    expect(n.rangeValid()).toBe(true);
    expect(n.core.readBeginWouldSleep(sub)).toBe(false);
    expect(n.core.readBegin(sub)).toBe(3);
  });

  it('an invalidation that hits no interval leaves the sequence even and calls no callback', () => {
    const n = new MmuNotifier({ endSkippedAfterEagain: false });
    const sub = n.insert(0, 2, setSeqThenOk(n));
    const s = n.core.readBegin(sub);
    const region = runNow(n.rangeStart(2, 4, unmap));
    if (!region) throw new Error('no region');
    expect(n.core.seq).toBe(2);
    expect(n.core.active).toBe(1);
    // The old range->valid flag is cleared by every start, hit or not (B1's coarseness).
    expect(n.rangeValid()).toBe(false);
    expect(n.core.callbackLog).toEqual([]);
    expect(n.core.readRetry(sub, s)).toBe(false);
    n.rangeEnd(region);
    expect(n.rangeValid()).toBe(true);
  });

  it('a failed non-blocking start (-EAGAIN) returns null and the core closes the region itself (mn_itree_inv_end)', () => {
    const n = new MmuNotifier({ endSkippedAfterEagain: false });
    const calls: NotifierRange[] = [];
    const sub = n.insert(0, 2, trylockFails(calls));
    const s = n.core.readBegin(sub);
    const region = runNow(n.rangeStart(0, 1, oomReap));
    expect(region).toBeNull();
    expect(calls).toHaveLength(1);
    // As the kernel: active back to 0, the odd seq made even again, the interval's seq untouched.
    expect(n.core.active).toBe(0);
    expect(n.core.seq).toBe(4);
    expect(sub.invalidateSeq).toBe(1);
    expect(n.core.readRetry(sub, s)).toBe(false);
    expect(n.core.invalidating(0)).toBe(false);
    expect(n.rangeValid()).toBe(true);
    expect(n.core.readBeginWouldSleep(sub)).toBe(false);
  });

  it('a failed non-blocking start while another region is open keeps the sequence odd until that one ends', () => {
    const n = new MmuNotifier({ endSkippedAfterEagain: false });
    let fail = false;
    const sub = n.insert(0, 2, function* (s, _range, cur) {
      if (fail) return false;
      n.core.setSeq(s, cur);
      return true;
      // biome-ignore lint/correctness/noUnreachable: keeps this a generator
      yield internalStep('never', {});
    });
    const blocking = runNow(n.rangeStart(0, 1, unmap));
    if (!blocking) throw new Error('no region');
    expect(n.core.seq).toBe(3);
    fail = true;
    expect(runNow(n.rangeStart(1, 2, oomReap))).toBeNull();
    expect(n.core.active).toBe(1);
    expect(n.core.seq).toBe(3);
    expect(n.core.readBeginWouldSleep(sub)).toBe(true);
    n.rangeEnd(blocking);
    expect(n.core.active).toBe(0);
    expect(n.core.seq).toBe(4);
  });

  it('B3 knob (end-skipped-after-eagain): the failed start is never closed and the sequence stays odd', () => {
    const n = new MmuNotifier({ endSkippedAfterEagain: true });
    expect(n.endSkippedAfterEagain).toBe(true);
    const calls: NotifierRange[] = [];
    const sub = n.insert(0, 2, trylockFails(calls));
    expect(runNow(n.rangeStart(0, 1, oomReap))).toBeNull();
    expect(n.core.active).toBe(1);
    expect(n.core.seq).toBe(3);
    expect(n.core.invalidating(0)).toBe(true);
    expect(n.rangeValid()).toBe(false);
    // The interval's seq was not set, so read_begin does not sleep, but the mm seq never returns to even:
    // every later invalidation that sets the interval's seq leaves its readers asleep forever.
    expect(n.core.readBeginWouldSleep(sub)).toBe(false);
    // A callback that does set the seq now leaves read_begin asleep after its region ends.
    const ok = new MmuNotifier({ endSkippedAfterEagain: true });
    let fail = true;
    const sub2 = ok.insert(0, 1, function* (s, _range, cur) {
      if (fail) return false;
      ok.core.setSeq(s, cur);
      return true;
      // biome-ignore lint/correctness/noUnreachable: keeps this a generator
      yield internalStep('never', {});
    });
    expect(runNow(ok.rangeStart(0, 1, oomReap))).toBeNull();
    fail = false;
    const later = runNow(ok.rangeStart(0, 1, unmap));
    if (!later) throw new Error('no region');
    ok.rangeEnd(later);
    expect(ok.core.seq).toBe(3);
    expect(ok.core.readBeginWouldSleep(sub2)).toBe(true);
  });

  it('a later blockable start after a failed non-blocking one runs normally', () => {
    const n = new MmuNotifier({ endSkippedAfterEagain: false });
    let fail = true;
    const sub = n.insert(0, 1, function* (s, _range, cur) {
      if (fail) return false;
      n.core.setSeq(s, cur);
      return true;
      // biome-ignore lint/correctness/noUnreachable: keeps this a generator
      yield internalStep('never', {});
    });
    const s = n.core.readBegin(sub);
    expect(runNow(n.rangeStart(0, 1, oomReap))).toBeNull();
    fail = false;
    const region = runNow(n.rangeStart(0, 1, unmap));
    if (!region) throw new Error('no region');
    expect(n.core.seq).toBe(5);
    expect(sub.invalidateSeq).toBe(5);
    expect(n.core.readRetry(sub, s)).toBe(true);
    expect(n.core.invalidationsAt(sub, sub.invalidateSeq)).toBe(1);
    n.rangeEnd(region);
    expect(n.core.seq).toBe(6);
  });

  it('an exclusive event: the callback reads event, owner and blockable through rangeInfo; the core logs it as protection', () => {
    const n = new MmuNotifier({ endSkippedAfterEagain: false });
    const me = { driver: 'dmirror' };
    const seen: { info: RangeInfo; range: NotifierRange; sub: IntervalSubscription }[] = [];
    n.insert(0, 4, function* (sub, range, cur) {
      seen.push({ info: n.rangeInfo(range), range, sub });
      n.core.setSeq(sub, cur);
      return true;
      // biome-ignore lint/correctness/noUnreachable: keeps this a generator
      yield internalStep('never', {});
    });
    const region = runNow(n.rangeStart(2, 3, { event: 'exclusive', owner: me, blockable: true, thread: null }));
    if (!region) throw new Error('no region');
    expect(seen).toHaveLength(1);
    const [e] = seen;
    expect(e?.info.event).toBe('exclusive');
    expect(e?.info.owner).toBe(me);
    expect(e?.info.blockable).toBe(true);
    expect(e?.info.thread).toBeNull();
    expect(e?.range.owner).toBe(me);
    expect(e?.range.event).toBe('protection');
    expect(n.core.callbackLog).toEqual([{ start: 0, event: 'protection' }]);
    n.rangeEnd(region);
  });

  it('rangeInfo of a range not started through MmuNotifier throws', () => {
    const n = new MmuNotifier({ endSkippedAfterEagain: false });
    expect(() => n.rangeInfo({ start: 0, end: 1, event: 'unmap', owner: null })).toThrow(/not started through MmuNotifier/);
  });
});
