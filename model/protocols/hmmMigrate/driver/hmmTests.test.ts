/**
 * The migration selftests of tools/testing/selftests/mm/hmm-tests.c (`migrate`, `migrate_fault`,
 * `migrate_release`, `migrate_multiple`; kernel-protocols.md 3.2), ported to the hmm-migrate reference
 * driver on the simulated kernel, in our own words. Each test asserts what its selftest asserts:
 * HMM_DMIRROR_MIGRATE_TO_DEV returns 0 and reports every page (`cpages`, the pages the device then
 * reads back through its page table, as dmirror_migrate_to_device does), the device reads the values
 * the CPU wrote, and CPU reads after the pages come back (by fault or by HMM_DMIRROR_RELEASE) see them
 * too. Every step runs under a fast-check schedule, and the system's monitor must see no damage.
 *
 * Differences from the originals: a page holds one value (the selftests write one int per word);
 * the buffer is PAGES pages (the selftests use HMM_BUFFER_SIZE); a "CPU read" of a page is one load;
 * `hmm_buffer_free` (munmap) is MADV_DONTNEED of the range, which the next round reuses.
 */
import fc from 'fast-check';
import { type Scheduler, choiceListScheduler } from 'mirrorcheck/harness';
import { describe, expect, it } from 'vitest';
import { HmSystem } from './system.js';

const PAGES = 6;

/** A scheduler that cycles through `choices` (entry i picks action choices[i] mod n) and never ends the run itself. */
const cycling = (choices: readonly number[]): Scheduler => {
  let i = 0;
  return { choose: (acts) => (acts.length === 0 ? null : (choices[i++ % choices.length] as number) % acts.length) };
};

/** A process with an anonymous buffer of PAGES pages mirrored by one dmirror device, and the selftest's ioctls. */
class HmmBuffer {
  readonly sys = new HmSystem({
    pages: PAGES,
    cpus: 2,
    frames: 2 * PAGES + 2,
    devframes: PAGES,
    migrations: 0,
    zaps: 0,
    writes: 1_000_000,
    pins: 0,
    reclaim: false,
    allocMayFail: false,
    dirty: 'both',
    knob: null,
    spontaneous: false,
    start: 'empty',
  });
  /** What each page holds, by the CPU's writes. */
  readonly expected: number[] = Array.from({ length: PAGES }, () => 0);
  /** Device-private faults taken by CPU loads. */
  devicePrivateFaults = 0;
  private readonly scheduler: Scheduler;

  constructor(choices: readonly number[]) {
    this.scheduler = cycling(choices.length > 0 ? choices : [0]);
  }

  /** Runs whatever was started until it has all finished. */
  settle(): void {
    this.sys.run(this.scheduler, 100_000);
    if (this.sys.busy) throw new Error(`the system hung: ${this.sys.reportHung().map((d) => d.message)}`);
  }

  /** Makes CPU c's access to page p possible: the faults it needs (anonymous, swap-in, device-private). */
  private fault(c: number, p: number, op: 'read' | 'write'): void {
    for (;;) {
      const kind = this.sys.cpuAccessKind(c, p, op);
      if (kind === 'hit') return;
      if (kind === 'devpriv') {
        this.devicePrivateFaults++;
        this.sys.startDevicePrivateFault(c, p);
        this.settle();
      } else if (kind === 'anon' || kind === 'swapin') this.sys.cpuHitOrSimpleFault(c, p, op);
      else throw new Error(`CPU ${c} cannot access page ${p}`);
    }
  }

  /** `ptr[p] = x`: the CPU writes the next value to page p. */
  cpuWrite(c: number, p: number): void {
    this.fault(c, p, 'write');
    this.expected[p] = this.sys.cpuHitOrSimpleFault(c, p, 'write');
  }

  /** `ptr[p]`: the value CPU c loads from page p. */
  cpuRead(c: number, p: number): number {
    this.fault(c, p, 'read');
    return this.sys.cpuHitOrSimpleFault(c, p, 'read');
  }

  /** dmirror_do_read of pages [start, end) into the mirror buffer: -ENOENT if a page is not mirrored. */
  deviceReadBack(start: number, end: number): { ret: number; cpages: number; mirror: number[] } {
    const mirror: number[] = [];
    for (let p = start; p < end; p++) {
      const t = this.sys.startDeviceAccess(p, 'read');
      this.settle();
      const r = t.result;
      if (!r?.ok) return { ret: -2, cpages: mirror.length, mirror };
      mirror.push(r.value);
    }
    return { ret: 0, cpages: mirror.length, mirror };
  }

  /** hmm_migrate_sys_to_dev: HMM_DMIRROR_MIGRATE_TO_DEV of pages [start, end), then the data read back for verification. */
  migrateToDevice(start = 0, end = PAGES): { ret: number; cpages: number; mirror: number[] } {
    this.sys.startMigration(start, end);
    this.settle();
    return this.deviceReadBack(start, end);
  }

  /** HMM_DMIRROR_RELEASE: evict the device memory back to system memory. */
  release(): number {
    const t = this.sys.startEvict();
    this.settle();
    return t.result === undefined ? -1 : 0;
  }

  /** hmm_buffer_free: the range is unmapped (MADV_DONTNEED of every page). */
  free(): void {
    this.sys.startMadvise(0, PAGES);
    this.settle();
  }

  /** Pages whose PTE is a device-private entry. */
  onDevice(): number[] {
    return this.sys.mm.ptes.flatMap((e, p) => (e.kind === 'devpriv' ? [p] : []));
  }
}

const schedules = fc.array(fc.nat(), { minLength: 1, maxLength: 64 });
const RUNS = { numRuns: 60, seed: 17 };

/** "Initialize buffer in system memory": the CPU writes every page. */
const initialize = (b: HmmBuffer) => {
  for (let p = 0; p < PAGES; p++) b.cpuWrite(0, p);
};

describe('hmm-tests migration scenarios on the dmirror-like reference driver', () => {
  it('migrate: anonymous memory migrates to device memory and the device reads the values the CPU wrote', () => {
    fc.assert(
      fc.property(schedules, (choices) => {
        const b = new HmmBuffer(choices);
        initialize(b);
        const r = b.migrateToDevice();
        expect(r.ret).toBe(0);
        expect(r.cpages).toBe(PAGES);
        expect(r.mirror).toEqual(b.expected);
        expect(b.onDevice()).toEqual([...Array(PAGES).keys()]);
        expect(b.sys.damage).toEqual([]);
      }),
      RUNS,
    );
  });

  it('migrate_fault: after half the pages fault back on CPU reads, the mixed range migrates again and the device reads every value', () => {
    fc.assert(
      fc.property(schedules, (choices) => {
        const b = new HmmBuffer(choices);
        initialize(b);
        let r = b.migrateToDevice();
        expect([r.ret, r.cpages]).toEqual([0, PAGES]);
        expect(r.mirror).toEqual(b.expected);
        // Fault half the pages back to system memory and check them.
        for (let p = 0; p < PAGES / 2; p++) expect(b.cpuRead(0, p)).toBe(b.expected[p]);
        expect(b.devicePrivateFaults).toBe(PAGES / 2);
        expect(b.onDevice()).toEqual([...Array(PAGES).keys()].slice(PAGES / 2));
        // Migrate the mixed range to the device again.
        r = b.migrateToDevice();
        expect([r.ret, r.cpages]).toEqual([0, PAGES]);
        expect(r.mirror).toEqual(b.expected);
        expect(b.onDevice()).toEqual([...Array(PAGES).keys()]);
        expect(b.sys.damage).toEqual([]);
      }),
      RUNS,
    );
  });

  it('migrate_release: HMM_DMIRROR_RELEASE evicts the device memory and CPU reads find the data without a device-private fault', () => {
    fc.assert(
      fc.property(schedules, (choices) => {
        const b = new HmmBuffer(choices);
        initialize(b);
        const r = b.migrateToDevice();
        expect([r.ret, r.cpages]).toEqual([0, PAGES]);
        expect(r.mirror).toEqual(b.expected);
        expect(b.release()).toBe(0);
        expect(b.onDevice()).toEqual([]);
        expect(b.sys.mm.devPages.every((d) => d.ref === 0)).toBe(true);
        for (let p = 0; p < PAGES / 2; p++) expect(b.cpuRead(0, p)).toBe(b.expected[p]);
        expect(b.devicePrivateFaults).toBe(0);
        expect(b.sys.damage).toEqual([]);
      }),
      RUNS,
    );
  });

  it('migrate_multiple: ten rounds of migrate to device and fault back (by two CPUs at once), each on a freshly written buffer', () => {
    fc.assert(
      fc.property(schedules, (choices) => {
        const b = new HmmBuffer(choices);
        for (let round = 0; round < 10; round++) {
          initialize(b);
          const r = b.migrateToDevice();
          expect([r.ret, r.cpages]).toEqual([0, PAGES]);
          expect(r.mirror).toEqual(b.expected);
          // CPU 0 and CPU 1 fault pages back two at a time, concurrently, interleaved by the schedule.
          for (let p = 0; p < PAGES; p += 2) {
            b.sys.startDevicePrivateFault(0, p);
            b.sys.startDevicePrivateFault(1, p + 1);
            b.settle();
          }
          for (let p = 0; p < PAGES; p++) expect(b.cpuRead(p % 2, p)).toBe(b.expected[p]);
          expect(b.onDevice()).toEqual([]);
          b.free();
          // The device memory and the frames are all free again for the next round.
          expect(b.sys.mm.devPages.every((d) => d.ref === 0)).toBe(true);
          expect(b.sys.mm.frames.every((f) => f.ref === 0)).toBe(true);
        }
        expect(b.sys.damage).toEqual([]);
      }),
      { numRuns: 30, seed: 23 },
    );
  });

  it('the scenarios are not vacuous: with the kernel bug B13 (no reference in do_swap_page), a MADV_DONTNEED racing a fault frees the page under it', () => {
    // migrate, then a CPU fault on page 0 races MADV_DONTNEED of the range: some schedule frees
    // the device page while do_swap_page still uses it.
    const found = fc.sample(fc.array(fc.nat(), { minLength: 1, maxLength: 40 }), { numRuns: 300, seed: 3 }).some((choices) => {
      const sys = new HmSystem({ ...new HmmBuffer([0]).sys.config, knob: 'device-private-fault-no-ref' });
      for (let p = 0; p < PAGES; p++) {
        sys.cpuHitOrSimpleFault(0, p, 'write');
        sys.cpuHitOrSimpleFault(0, p, 'write');
      }
      sys.startMigration(0, PAGES);
      sys.run(choiceListScheduler([0]), 1000);
      sys.run({ choose: () => 0 }, 1000);
      sys.startDevicePrivateFault(0, 0);
      sys.startMadvise(0, PAGES);
      sys.run(cycling(choices), 1000);
      return sys.damage.some((d) => d.kind === 'use-after-free');
    });
    expect(found).toBe(true);
  });
});
