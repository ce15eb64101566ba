import { describe, expect, it } from 'vitest';
import { type DevEntry, type DeviceAccess, type DeviceMonitor, MirrorDevice } from './mirrorDevice.js';
import { PageAllocator } from './pageAllocator.js';

/** A monitor that records what the device reports. */
function recorder(): DeviceMonitor & {
  accesses: { id: number; op: string; page: number; frame: number }[];
  stale: { id: number; cached: DevEntry; table: DevEntry }[];
} {
  const accesses: { id: number; op: string; page: number; frame: number }[] = [];
  const stale: { id: number; cached: DevEntry; table: DevEntry }[] = [];
  return {
    accesses,
    stale,
    onAccess(a: DeviceAccess, frame: number) {
      accesses.push({ id: a.id, op: a.op, page: a.page, frame });
    },
    onStaleTlbFault(a: DeviceAccess, cached: DevEntry, table: DevEntry) {
      stale.push({ id: a.id, cached, table });
    },
  };
}

/** Whether an access to `page` is in flight (what a zap's completion waits for). */
const inflightOn = (dev: MirrorDevice, page: number) => dev.slots.some((a) => a !== null && a.state === 'inflight' && a.page === page);

/** Two pages, two slots, four frames; page p backed by frame p holding 10 + p. */
function setup() {
  const mem = new PageAllocator(4);
  for (const p of [0, 1]) {
    mem.alloc(p, p);
    mem.data[p] = 10 + p;
  }
  const dev = new MirrorDevice(2, 2, mem);
  const mon = recorder();
  dev.monitor = mon;
  return { mem, dev, mon };
}

describe('mirroring device: table, TLB, access slots', () => {
  it('starts with an empty table and TLB and idle slots', () => {
    const { dev } = setup();
    expect(dev.table).toEqual([null, null]);
    expect(dev.tlb).toEqual([null, null]);
    expect(dev.slots).toEqual([null, null]);
    expect(() => dev.slot(0)).toThrow(/idle/);
  });

  it('issue fills an idle slot with a pending access, with increasing ids; a busy slot refuses', () => {
    const { dev } = setup();
    const a = dev.issue(0, 'read', 1, 0);
    expect(a).toMatchObject({ op: 'read', page: 1, state: 'pending', frame: null });
    const b = dev.issue(1, 'write', 0, 7);
    expect(b.id).toBeGreaterThan(a.id);
    expect(dev.slot(0)).toBe(a);
    expect(() => dev.issue(0, 'read', 0, 0)).toThrow(/busy/);
  });

  it('a translation with no table entry faults and caches nothing', () => {
    const { dev, mon } = setup();
    dev.issue(0, 'read', 0, 0);
    expect(dev.translate(0)).toBe('faulted');
    expect(dev.slot(0).state).toBe('faulted');
    expect(dev.tlb[0]).toBeNull();
    expect(mon.stale).toEqual([]);
    expect(() => dev.translate(0)).toThrow(/nothing to translate/);
    expect(() => dev.complete(0)).toThrow(/no access in flight/);
  });

  it('a TLB miss fills the TLB from the table; a read goes in flight and completes with the frame value', () => {
    const { dev, mon, mem } = setup();
    dev.table[1] = { frame: 1, write: false };
    const a = dev.issue(0, 'read', 1, 0);
    expect(dev.translate(0)).toBe('inflight');
    expect(dev.tlb[1]).toEqual({ frame: 1, write: false });
    expect(a.frame).toBe(1);
    expect(inflightOn(dev, 1)).toBe(true);
    expect(inflightOn(dev, 0)).toBe(false);
    mem.data[1] = 42; // the memory access happens at complete, not at translate
    dev.complete(0);
    expect(dev.reads).toEqual([{ id: a.id, page: 1, frame: 1, value: 42 }]);
    expect(mon.accesses).toEqual([{ id: a.id, op: 'read', page: 1, frame: 1 }]);
    expect(dev.slots[0]).toBeNull();
    expect(inflightOn(dev, 1)).toBe(false);
  });

  it('a write through a read-only entry faults; through a writable one it stores at complete', () => {
    const { dev, mem, mon } = setup();
    dev.table[0] = { frame: 0, write: false };
    dev.issue(0, 'write', 0, 99);
    expect(dev.translate(0)).toBe('faulted');
    // Read-only in both TLB and table: a plain permission fault, not a stale TLB.
    expect(mon.stale).toEqual([]);
    dev.table[1] = { frame: 1, write: true };
    dev.issue(1, 'atomic', 1, 5);
    expect(dev.translate(1)).toBe('inflight');
    expect(mem.data[1]).toBe(11);
    dev.complete(1);
    expect(mem.data[1]).toBe(5);
    expect(dev.reads).toEqual([]);
  });

  it('zap removes the table translation, but the TLB entry survives until flushed and still translates', () => {
    const { dev } = setup();
    dev.table[0] = { frame: 0, write: true };
    dev.issue(0, 'read', 0, 0);
    dev.translate(0);
    dev.complete(0);
    expect(dev.tlb[0]).toEqual({ frame: 0, write: true });
    dev.table[0] = null; // the driver's zap of the device table
    const a = dev.issue(0, 'write', 0, 3);
    expect(dev.translate(0)).toBe('inflight');
    expect(a.frame).toBe(0);
    dev.complete(0);
    dev.tlb[0] = null; // the TLB flush
    dev.issue(0, 'read', 0, 0);
    expect(dev.translate(0)).toBe('faulted');
    expect(dev.tlb[0]).toBeNull();
  });

  it('an access translated before the zap completes afterwards into the (freed, reused) frame, and the monitor sees it', () => {
    const { dev, mem, mon } = setup();
    dev.table[0] = { frame: 0, write: true };
    const a = dev.issue(0, 'write', 0, 77);
    expect(dev.translate(0)).toBe('inflight');
    // The translation is revoked and flushed while the access is in flight; the frame is freed and reused.
    dev.table[0] = null;
    dev.tlb[0] = null;
    expect(inflightOn(dev, 0)).toBe(true);
    mem.free(0);
    expect(mem.data[0]).toBe(0);
    mem.alloc(0, 1);
    dev.complete(0);
    expect(mon.accesses).toEqual([{ id: a.id, op: 'write', page: 0, frame: 0 }]);
    expect(mem.data[0]).toBe(77); // the late DMA write corrupted the reused frame
  });

  it('a cached read-only entry narrower than a writable table entry for the same frame is reported as a stale-TLB fault', () => {
    const { dev, mon } = setup();
    dev.table[0] = { frame: 0, write: false };
    dev.issue(0, 'read', 0, 0);
    dev.translate(0);
    dev.complete(0);
    dev.table[0] = { frame: 0, write: true }; // upgraded without flushing the TLB
    const w = dev.issue(1, 'write', 0, 1);
    expect(dev.translate(1)).toBe('faulted');
    expect(mon.stale).toEqual([{ id: w.id, cached: { frame: 0, write: false }, table: { frame: 0, write: true } }]);
  });

  it('a cached read-only entry for a different frame than the table is not a stale-TLB report', () => {
    const { dev, mon } = setup();
    dev.tlb[0] = { frame: 2, write: false };
    dev.table[0] = { frame: 0, write: true };
    const r = dev.issue(0, 'read', 0, 0);
    expect(dev.translate(0)).toBe('inflight');
    expect(r.frame).toBe(2); // the TLB wins over the table until flushed
    dev.issue(1, 'write', 0, 1);
    expect(dev.translate(1)).toBe('faulted');
    expect(mon.stale).toEqual([]);
  });

  it('reportError frees a failed slot only', () => {
    const { dev } = setup();
    const a = dev.issue(0, 'read', 0, 0);
    expect(() => dev.reportError(0)).toThrow(/has not failed/);
    dev.translate(0);
    a.state = 'failed'; // the driver gave up on the fault
    expect(dev.reportError(0)).toBe(a);
    expect(dev.slots[0]).toBeNull();
  });

  it('without a monitor the device still works', () => {
    const { dev, mem } = setup();
    dev.monitor = null;
    dev.table[0] = { frame: 0, write: true };
    dev.issue(0, 'write', 0, 8);
    dev.translate(0);
    dev.complete(0);
    expect(mem.data[0]).toBe(8);
  });
});

/** Runs a flow's steps while each is ready; returns the value, or 'waits' at a step that is not. */
function runWhileReady<T>(flow: Generator<{ ready: () => boolean }, T, void>): T | 'waits' {
  let r = flow.next();
  while (!r.done) {
    if (!r.value.ready()) return 'waits';
    r = flow.next();
  }
  return r.value;
}

describe('the UMR queue: post, completion (with the fence of a zap), wait', () => {
  it('an update writes the table at completion, not at post, and invalidates the TLB of the pages it writes', () => {
    const { dev } = setup();
    dev.tlb[0] = { frame: 0, write: false };
    const post = dev.umrPost({
      kind: 'update',
      lo: 0,
      hi: 1,
      entries: [
        { frame: 0, write: true },
        { frame: 1, write: false },
      ],
    });
    const h = runWhileReady(post);
    if (h === 'waits') throw new Error('post waited');
    expect(dev.table).toEqual([null, null]);
    const wait = dev.umrWait(h);
    const p = wait.next();
    if (p.done) throw new Error('wait did not yield');
    expect(p.value.ready()).toBe(false);
    expect(dev.umrCanComplete()).toBe(true);
    dev.umrComplete();
    expect(p.value.ready()).toBe(true);
    expect(dev.table).toEqual([
      { frame: 0, write: true },
      { frame: 1, write: false },
    ]);
    expect(dev.tlb).toEqual([null, null]);
    expect(dev.umr).toBeNull();
  });

  it('keepTlb leaves a cached entry (the B15 omission)', () => {
    const { dev } = setup();
    dev.tlb[0] = { frame: 0, write: false };
    runWhileReady(dev.umrPost({ kind: 'update', lo: 0, hi: 0, entries: [{ frame: 0, write: true }], keepTlb: [true] }));
    dev.umrComplete();
    expect(dev.tlb[0]).toEqual({ frame: 0, write: false });
  });

  it('a zap completes only once no access to its pages is in flight; a downgrade waits for writes only', () => {
    const { dev } = setup();
    dev.table[0] = { frame: 0, write: true };
    dev.issue(0, 'read', 0, 0);
    dev.translate(0);
    dev.issue(1, 'write', 0, 5);
    dev.translate(1);
    runWhileReady(dev.umrPost({ kind: 'downgrade', lo: 0, hi: 0 }));
    expect(dev.umrCanComplete()).toBe(false);
    dev.complete(1);
    expect(dev.umrCanComplete()).toBe(true);
    dev.umrComplete();
    expect(dev.table[0]).toEqual({ frame: 0, write: false });
    runWhileReady(dev.umrPost({ kind: 'zap', lo: 0, hi: 1 }));
    expect(dev.umrCanComplete()).toBe(false);
    expect(() => dev.umrComplete()).toThrow(/no UMR/);
    dev.complete(0);
    dev.umrComplete();
    expect(dev.table).toEqual([null, null]);
  });

  it('a second post waits until the first request has completed', () => {
    const { dev } = setup();
    runWhileReady(dev.umrPost({ kind: 'zap', lo: 0, hi: 0 }));
    expect(runWhileReady(dev.umrPost({ kind: 'zap', lo: 1, hi: 1 }))).toBe('waits');
    dev.umrComplete();
    expect(runWhileReady(dev.umrPost({ kind: 'zap', lo: 1, hi: 1 }))).not.toBe('waits');
  });

  it('resume is a step: the faulted access translates again, or fails with an error', () => {
    const { dev } = setup();
    dev.issue(0, 'read', 0, 0);
    dev.translate(0);
    dev.issue(1, 'write', 1, 3);
    dev.translate(1);
    const r = dev.resumeFault(0, false);
    r.next();
    expect(dev.slot(0).state).toBe('faulted');
    r.next();
    expect(dev.slot(0).state).toBe('pending');
    runWhileReady(dev.resumeFault(1, true));
    expect(dev.slot(1).state).toBe('failed');
    expect(() => runWhileReady(dev.resumeFault(1, false))).toThrow(/no fault to resume/);
  });
});
