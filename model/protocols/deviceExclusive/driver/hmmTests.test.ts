/**
 * The device-exclusive selftests of tools/testing/selftests/mm/hmm-tests.c (`exclusive`,
 * `exclusive_mprotect`, `exclusive_cow`; kernel-protocols.md 3.2), ported to the device-exclusive
 * reference driver on the simulated kernel, in our own words. Each asserts what its selftest asserts:
 * HMM_DMIRROR_EXCLUSIVE returns 0 and reports every page, the device reads the values the CPU wrote;
 * CPU accesses then take the pages back (`ptr[i]++` sees the old value, then the new one) and
 * HMM_DMIRROR_CHECK_EXCLUSIVE finds no atomic mapping left; after mprotect(PROT_READ) a device write
 * fails with -EPERM and changes nothing; after fork, parent and child each increment their copy and
 * each sees its own result. Every operation runs under a fast-check schedule (concurrent steps of the
 * driver, the CPU faults and the kernel interleave), and the monitor must see no damage.
 *
 * Differences from the originals: a page holds one value (the selftests write one int per word);
 * the device's write goes through make_device_exclusive in this driver (it has no hmm_range_fault
 * path), whose GUP for write refuses a read-only page with -EPERM, as dmirror's write does; the
 * child of `exclusive_cow` is a second address space over the same frames, run in the same test.
 */
import fc from 'fast-check';
import { NotifierCore, type Scheduler } from 'mirrorcheck/harness';
import { describe, expect, it } from 'vitest';
import { ExclusiveMm } from './exclusiveMm.js';
import { type DxKnob, DxSystem } from './system.js';

const PAGES = 4;

const cycling = (choices: readonly number[]): Scheduler => {
  let i = 0;
  return { choose: (acts) => (acts.length === 0 ? null : (choices[i++ % choices.length] as number) % acts.length) };
};

/** A process with PAGES anonymous pages, a nouveau-like device mirroring them, and the selftest's ioctls. */
class ExclusiveBuffer {
  readonly sys: DxSystem;
  private readonly scheduler: Scheduler;
  private nextValue = 100;

  constructor(choices: readonly number[], knob: DxKnob | null = null) {
    this.sys = new DxSystem({ pages: PAGES, frames: 3 * PAGES, cpus: 2, accesses: 1_000, migrations: 0, devfaults: 1_000, knob, spontaneous: false });
    this.scheduler = cycling(choices.length > 0 ? choices : [0]);
  }

  /** CPUs 0 and 1 fault on the exclusive entries of pages p and q at the same time (their steps interleave). */
  takeBackTogether(p: number, q: number): void {
    if (this.sys.mm.pte(p).excl) this.sys.startCpuFault(0, p);
    if (this.sys.mm.pte(q).excl) this.sys.startCpuFault(1, q);
    this.settle();
  }

  settle(): void {
    this.sys.run(this.scheduler, 100_000);
    if (this.sys.busy) throw new Error(`the system hung: ${this.sys.reportHung().map((d) => d.message)}`);
  }

  /** CPU c takes page p back from the device if it is device-exclusive (the fault on the exclusive entry). */
  private takeBack(c: number, p: number): void {
    if (!this.sys.mm.pte(p).excl) return;
    this.sys.startCpuFault(c, p);
    this.settle();
  }

  /** `ptr[p]`. */
  cpuRead(c: number, p: number): number {
    this.takeBack(c, p);
    return this.sys.mm.load(p);
  }

  /** `ptr[p] = v`. */
  cpuWrite(c: number, p: number, v: number): void {
    this.takeBack(c, p);
    this.sys.mm.store(p, v);
  }

  /** "Initialize buffer in system memory": distinct values; returns them. */
  initialize(): number[] {
    return Array.from({ length: PAGES }, (_, p) => {
      const v = this.nextValue++;
      this.cpuWrite(0, p, v);
      return v;
    });
  }

  /** HMM_DMIRROR_EXCLUSIVE of every page, then the data read back through the device's atomic mappings. */
  exclusive(): { ret: number; cpages: number; mirror: (number | null)[] } {
    let ret = 0;
    for (let p = 0; p < PAGES; p++) {
      const t = this.sys.startAtomicFault(p);
      this.settle();
      if (t.result !== 0) ret = t.result as number;
    }
    const mirror = Array.from({ length: PAGES }, (_, p) => this.sys.driver.readAtomic(p));
    return { ret, cpages: mirror.filter((v) => v !== null).length, mirror };
  }

  /** HMM_DMIRROR_CHECK_EXCLUSIVE: 0 when the device has no atomic mapping of any page left, else -EPERM. */
  checkExclusive(): number {
    return this.sys.driver.atomic.every((f) => f === null) ? 0 : -1;
  }

  /** A device write of page p (through an atomic fault in this driver): 0 or -EPERM. */
  deviceWrite(p: number): number {
    const t = this.sys.startAtomicFault(p);
    this.settle();
    return t.result as number;
  }
}

const schedules = fc.array(fc.nat(), { minLength: 1, maxLength: 64 });
const RUNS = { numRuns: 100, seed: 29 };

describe('hmm-tests exclusive scenarios on the nouveau-like reference driver', () => {
  it('exclusive: the device gets every page for atomics and reads the CPU values; CPU increments take them back; CHECK_EXCLUSIVE finds no atomic mapping', () => {
    fc.assert(
      fc.property(schedules, (choices) => {
        const b = new ExclusiveBuffer(choices);
        const values = b.initialize();
        const r = b.exclusive();
        expect(r.ret).toBe(0);
        expect(r.cpages).toBe(PAGES);
        expect(r.mirror).toEqual(values);
        expect(b.sys.mm.ptes.every((e) => e.excl)).toBe(true);
        // Fault pages back to system memory (two CPUs at once): ptr[i]++ sees i, then ptr[i] is i + 1.
        for (let p = 0; p < PAGES; p += 2) b.takeBackTogether(p, p + 1);
        for (let p = 0; p < PAGES; p++) {
          const old = b.cpuRead(p % 2, p);
          expect(old).toBe(values[p]);
          b.cpuWrite(p % 2, p, old + 1);
        }
        for (let p = 0; p < PAGES; p++) expect(b.cpuRead(0, p)).toBe((values[p] as number) + 1);
        expect(b.checkExclusive()).toBe(0);
        expect(b.sys.damage).toEqual([]);
      }),
      RUNS,
    );
  });

  it('exclusive_mprotect: after mprotect(PROT_READ) of exclusive pages, a device write fails with -EPERM and changes nothing', () => {
    fc.assert(
      fc.property(schedules, (choices) => {
        const b = new ExclusiveBuffer(choices);
        const values = b.initialize();
        const r = b.exclusive();
        expect([r.ret, r.cpages]).toEqual([0, PAGES]);
        expect(r.mirror).toEqual(values);
        for (let p = 0; p < PAGES; p++) b.sys.mm.mprotectReadOnly(p);
        // The PROTECTION event zapped the device's atomic mappings.
        expect(b.checkExclusive()).toBe(0);
        for (let p = 0; p < PAGES; p++) expect(b.deviceWrite(p)).toBe(-1);
        for (let p = 0; p < PAGES; p++) expect(b.cpuRead(0, p)).toBe(values[p]);
        expect(b.sys.damage).toEqual([]);
      }),
      RUNS,
    );
  });

  it('exclusive_cow: after fork of exclusive pages, parent and child each increment their copy and see their own result', () => {
    fc.assert(
      fc.property(schedules, (choices) => {
        const b = new ExclusiveBuffer(choices);
        const values = b.initialize();
        const r = b.exclusive();
        expect([r.ret, r.cpages]).toEqual([0, PAGES]);
        const parent = b.sys.mm;
        const child = new ExclusiveMm({ pages: PAGES, frames: 0, notifier: new NotifierCore(), faultNoRef: false }, parent.frames);
        parent.forkInto(child);
        // fork revoked the device's exclusivity (the entries are restored and the mappings zapped).
        expect(b.checkExclusive()).toBe(0);
        // The child: ptr[i]++ sees i, then ptr[i] is i + 1.
        for (let p = 0; p < PAGES; p++) {
          expect(child.load(p)).toBe(values[p]);
          child.store(p, child.load(p) + 1);
        }
        for (let p = 0; p < PAGES; p++) expect(child.load(p)).toBe((values[p] as number) + 1);
        // The parent, independently: its pages still hold i.
        for (let p = 0; p < PAGES; p++) {
          const old = b.cpuRead(0, p);
          expect(old).toBe(values[p]);
          b.cpuWrite(0, p, old + 1);
        }
        for (let p = 0; p < PAGES; p++) expect(b.cpuRead(0, p)).toBe((values[p] as number) + 1);
        // Copy-on-write gave each its own frame.
        for (let p = 0; p < PAGES; p++) expect(child.pte(p).frame).not.toBe(parent.pte(p).frame);
        expect(b.sys.damage).toEqual([]);
      }),
      RUNS,
    );
  });

  it('the scenarios are not vacuous: with filter-ignores-owner the device keeps its atomic mapping after the CPU increments, and CHECK_EXCLUSIVE fails', () => {
    const b = new ExclusiveBuffer([0], 'filter-ignores-owner');
    const values = b.initialize();
    expect(b.exclusive().ret).toBe(0);
    b.cpuWrite(0, 0, (values[0] as number) + 1);
    expect(b.checkExclusive()).not.toBe(0);
    expect(b.sys.damage.map((d) => d.kind)).toContain('stale-atomic-mapping');
  });
});
