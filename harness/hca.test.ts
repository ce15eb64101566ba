import { describe, expect, it } from 'vitest';
import { Hca } from './hca.js';
import { PageAllocator } from './pageAllocator.js';

const hcaWith = () => {
  const mem = new PageAllocator(4);
  mem.alloc(0, 0);
  mem.alloc(1, 1);
  const hca = new Hca(2, 3, mem);
  hca.updateTranslation(0, 0);
  hca.updateTranslation(1, 1);
  return { mem, hca };
};

describe('simulated HCA', () => {
  it('a DMA write is translated at issue and lands at completion, in the frame it was translated to', () => {
    const { mem, hca } = hcaWith();
    hca.issue(0, 0, true, 7);
    hca.updateTranslation(0, 2);
    expect(mem.data[0]).toBe(0);
    const c = hca.complete(0);
    expect(c.frame).toBe(0);
    expect(mem.data[0]).toBe(7);
    expect(mem.data[2]).toBe(0);
  });

  it('a blocking fence completes only when the DMA in flight at posting has drained; later DMA stalls until unblocked', () => {
    const { hca } = hcaWith();
    hca.issue(0, 0, false, 0);
    hca.issue(1, 1, false, 0);
    const f = hca.postFence(0, 1, true);
    expect(hca.fenceDone(f)).toBe(false);
    hca.issue(2, 0, false, 0);
    expect(hca.slots[2]?.state).toBe('stalled');
    expect(hca.canRetry(2)).toBe(false);
    hca.complete(1);
    expect(hca.fenceDone(f)).toBe(false);
    hca.complete(0);
    expect(hca.fenceDone(f)).toBe(true);
    hca.updateTranslation(0, 3);
    hca.unblock(0, 1);
    expect(hca.retryOutcome(2)).toBe('inflight');
    hca.retry(2);
    expect(hca.slots[2]?.frame).toBe(3);
  });

  it('DMA through a zapped entry faults, is reported, and resumes (or fails) when the driver says so', () => {
    const { hca } = hcaWith();
    const events: number[] = [];
    hca.onPageFault = (ev) => events.push(ev.page);
    hca.zap(0, 2);
    hca.issue(0, 0, true, 5);
    hca.issue(1, 1, false, 0);
    expect(events).toEqual([0, 1]);
    expect(hca.faultPending(0)).toBe(true);
    expect(hca.faultingWrite(0)).toBe(true);
    expect(hca.canRetry(0)).toBe(false);
    hca.updateTranslation(0, 0);
    hca.resumePageFaults(0, null);
    expect(hca.retryOutcome(0)).toBe('inflight');
    hca.resumePageFaults(1, 'EFAULT');
    expect(hca.retryOutcome(1)).toBe('fail');
    hca.retry(1);
    expect(hca.completions.at(-1)?.error).toBe('EFAULT');
    expect(hca.slotIdle(1)).toBe(true);
  });
});
