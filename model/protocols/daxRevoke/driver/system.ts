/**
 * The simulated dax-revoke system: the kernel side (a file on a DAX filesystem with its blocks, or a
 * P2PDMA allocation; the process's VMA and PTEs; invalidations through the notifier; GUP with its
 * FOLL_LONGTERM check; the hole punch with dax_layout_busy_page_range and the wait for idle pages, or
 * the P2PDMA provider removal with memunmap_pages), the RDMA driver (rdmaDriver.ts) with its ODP MR
 * and pinned MR, a short-term GUP user, the device's DMA, and the monitor that turns protocol bugs
 * into damage in words. Why this module exists: conformance to the dax-revoke model and the replay
 * of its counterexamples need every concurrency choice as an explicit `Action` labelled like the
 * model's rule instances.
 *
 * Kernel knobs (the model's variants): `longterm-pin-allowed` (check_vma_flags / try_grab_folio
 * accept FOLL_LONGTERM), `busy-scan-skips-unmapped` (dax_layout_busy_page_range returns early when
 * no VMA maps the file), `truncate-no-wait` (no wait for busy pages).
 */
import {
  type Action,
  type Damage,
  type Flow,
  NotifierCore,
  type SimSystem,
  type StepPoint,
  type StepRecord,
  isInternal,
  labelOf,
  step,
  stepLabel,
} from 'mirrorcheck/harness';
import { type DaxKernel, type Dma, RdmaDriver } from './rdmaDriver.js';

/** The knobs: every dax-revoke model variant. */
export const DAX_KNOBS = ['longterm-pin-allowed', 'busy-scan-skips-unmapped', 'truncate-no-wait'] as const;
export type DaxKnob = (typeof DAX_KNOBS)[number];

/** Sizes, budgets and knob (the model's parameters). */
export interface DaxSystemConfig {
  readonly fsdax: boolean;
  readonly pages: number;
  readonly blocks: number;
  readonly odp: boolean;
  readonly pin: boolean;
  readonly gups: number;
  readonly punches: number;
  readonly knob: DaxKnob | null;
}

interface Task {
  readonly flow: Flow<unknown>;
  pending: StepPoint | null;
}

export type DaxDamageKind = 'dma-to-given-memory' | 'blocked-on-longterm-pin' | 'hung';

export class DaxSystem implements SimSystem {
  readonly config: DaxSystemConfig;
  readonly notifier = new NotifierCore();
  readonly driver: RdmaDriver;
  readonly damage: Damage[] = [];
  readonly history: string[] = [];
  /** Per block: 'file' / 'free' / 'other' (fs-dax) or 'present' / 'removed' (P2P). */
  readonly mem: string[];
  readonly fileMap: (number | null)[];
  vma = true;
  readonly pte: (number | null)[];
  /** The invalidation of each page in progress (its flow), or null. */
  readonly invs: (Task | null)[];
  /** The short-term GUP user's pinned DMA. */
  gup: Dma | null = null;
  gupsTaken = 0;
  /** The revoker's flow, and what the model shows of it. */
  revokeTask: Task | null = null;
  revoke: 'idle' | 'unmap' | 'scan' | 'wait' | 'done' = 'idle';
  target = 0;
  punchesTaken = 0;
  mmapLock = false;
  private readonly live: string;

  constructor(config: DaxSystemConfig) {
    this.config = config;
    this.live = config.fsdax ? 'file' : 'present';
    const nBlocks = config.fsdax ? config.blocks : config.pages;
    this.mem = Array.from({ length: nBlocks }, (_, b) => (b < config.pages ? this.live : config.fsdax ? 'free' : this.live));
    this.fileMap = Array.from({ length: config.pages }, (_, p) => p);
    this.pte = Array.from({ length: config.pages }, (_, p) => p);
    this.invs = Array.from({ length: config.pages }, () => null);
    const kernel: DaxKernel = {
      notifier: this.notifier,
      pte: (p) => this.pte[p] ?? null,
      invalidating: (p) => this.invs[p] !== null,
      pinLongterm: () => {
        // check_vma_flags (fs-dax: -EOPNOTSUPP) / try_grab_folio (P2P without FOLL_PCI_P2PDMA).
        if (config.knob !== 'longterm-pin-allowed') return null;
        return this.pte.map((b, p) => (b !== null && this.invs[p] === null ? b : null));
      },
      unpinLongterm: () => undefined,
    };
    this.driver = new RdmaDriver(kernel, config.pages, config.odp);
  }

  private report(kind: DaxDamageKind, message: string): void {
    if (this.damage.some((d) => d.message === message)) return;
    this.damage.push({ kind, step: this.history.length + 1, message });
  }

  /** A DMA completes into its block: damage if the block was given back (freed, reused, removed). */
  private judgeDma(who: string, d: Dma): void {
    const st = this.mem[d.block];
    if (st === this.live && this.fileMap[d.page] === d.block) return;
    const where = this.config.fsdax
      ? st === 'other'
        ? 'which the truncate freed and another file now uses: that file is corrupted'
        : st === 'free'
          ? 'which the truncate has freed'
          : 'which no longer backs the page'
      : 'after the P2PDMA provider removed that memory';
    this.report('dma-to-given-memory', `${who} DMA for page ${d.page} landed in block ${d.block}, ${where}`);
  }

  /** Blocks busy for the revoker: a short-term or long-term pin holds a reference. */
  busy(b: number): boolean {
    return (this.gup !== null && this.gup.block === b) || this.driver.pinMap.includes(b);
  }

  private advance(t: Task): void {
    const r = t.flow.next();
    t.pending = r.done ? null : r.value;
  }

  /** Starts the invalidation of page p if it is mapped and not already being invalidated (unmap_mapping_range, munmap). */
  private startInv(p: number): void {
    if (this.pte[p] === null || this.invs[p] !== null) return;
    const t: Task = { flow: this.invalidation(p), pending: null };
    this.invs[p] = t;
    this.advance(t);
  }

  /** The invalidation of page p: the notifier region (the ODP MR's callback), then the PTE cleared. */
  private *invalidation(p: number): Flow<void> {
    const log = this.notifier.callbackLog.length;
    const region = yield* this.notifier.rangeStart({ start: p, end: p + 1, event: 'unmap', owner: null });
    if (this.notifier.callbackLog.length === log) {
      // No ODP MR: the callback steps do nothing.
      yield step('DriverOdpInvalidate', { p });
      yield step('DevCompleteZap', { p });
    }
    yield step('MmClearPte', { p });
    this.pte[p] = null;
    this.notifier.rangeEnd(region);
  }

  /** The hole punch of page p (fs-dax): MMAPLOCK, dax_layout_busy_page_range, wait for idle, free the block. */
  private *punch(p: number): Flow<void> {
    for (;;) {
      this.revoke = 'unmap';
      this.startInv(p);
      yield step('FsUnmapDone', {}, () => this.pte[p] === null && this.invs[p] === null);
      this.revoke = 'scan';
      yield step('FsBusyScan', {});
      const b = this.fileMap[p] ?? null;
      const skip = this.config.knob === 'truncate-no-wait' || (this.config.knob === 'busy-scan-skips-unmapped' && !this.vma);
      if (b === null || skip || !this.busy(b)) {
        // The DAX entry goes and the block goes back to the filesystem's free space.
        if (b !== null) this.mem[b] = 'free';
        this.fileMap[p] = null;
        this.mmapLock = false;
        this.target = 0;
        this.revoke = 'idle';
        return;
      }
      this.mmapLock = false;
      this.revoke = 'wait';
      yield step('FsWaitIdle', {}, () => {
        const x = this.fileMap[p] ?? null;
        return x === null || !this.busy(x);
      });
      this.mmapLock = true;
    }
  }

  /** The P2PDMA provider removal: unmap every mapping, wait for every page reference, the memory goes. */
  private *p2pRemove(): Flow<void> {
    for (let p = 0; p < this.config.pages; p++) this.startInv(p);
    this.revoke = 'unmap';
    yield step('P2pUnmapDone', {}, () => this.pte.every((x, p) => x === null && this.invs[p] === null));
    this.revoke = 'wait';
    yield step('P2pMemunmap', {}, () => !this.mem.some((_, b) => this.busy(b)));
    this.mem.fill('removed');
    this.revoke = 'done';
  }

  private flowAction(t: Task, actor: Action['actor'], done: () => void): Action[] {
    const p = t.pending;
    if (!p?.ready()) return [];
    return [
      {
        label: labelOf(p),
        actor,
        internal: isInternal(p),
        run: () => {
          this.advance(t);
          if (t.pending === null) done();
        },
      },
    ];
  }

  enabled(): Action[] {
    const out: Action[] = [];
    const { config, driver } = this;
    const P = config.pages;
    const act = (label: string, actor: Action['actor'], run: () => void) => out.push({ label, actor, internal: false, run });
    // The process.
    for (let p = 0; p < P; p++) {
      if (!this.vma || this.pte[p] !== null || this.invs[p] !== null) continue;
      if (config.fsdax) {
        if (this.mmapLock) continue;
        const mapped = this.fileMap[p] ?? null;
        const firstFree = this.mem.indexOf('free');
        const f = mapped ?? (firstFree >= 0 ? firstFree : null);
        if (f !== null) act(stepLabel('CpuFault', { p, f }), 'cpu', () => this.cpuFault(p, f));
      } else if (this.revoke === 'idle') {
        const f = this.fileMap[p] ?? null;
        if (f !== null) act(stepLabel('CpuFault', { p, f }), 'cpu', () => this.cpuFault(p, f));
      }
    }
    if (this.vma)
      act('CpuMunmap()', 'cpu', () => {
        this.vma = false;
        for (let p = 0; p < P; p++) this.startInv(p);
      });
    else if (config.fsdax || this.revoke === 'idle') act('CpuMmap()', 'cpu', () => (this.vma = true));
    // Invalidations in progress.
    this.invs.forEach((t, p) => {
      if (t) out.push(...this.flowAction(t, 'mm', () => (this.invs[p] = null)));
    });
    // The ODP MR and its DMA.
    if (config.odp) {
      for (let p = 0; p < P; p++) if (driver.canFault(p)) act(stepLabel('DriverOdpFault', { p }), 'driver', () => driver.fault(p));
      const odp = driver.odp as (number | null)[];
      if (driver.odpDma === null)
        for (let p = 0; p < P; p++) {
          const b = odp[p] ?? null;
          if (b !== null) act(stepLabel('DevOdpDma', { p }), 'hca', () => (driver.odpDma = { page: p, block: b }));
        }
      else
        act('DevOdpDmaDone()', 'hca', () => {
          this.judgeDma("the ODP MR's", driver.odpDma as Dma);
          driver.odpDma = null;
        });
    }
    // The short-term GUP user.
    if (config.gups > 0) {
      if (this.gup === null && this.gupsTaken < config.gups)
        for (let p = 0; p < P; p++) {
          const b = this.pte[p] ?? null;
          if (b !== null && this.invs[p] === null)
            act(stepLabel('UserGupPin', { p }), 'cpu', () => {
              this.gupsTaken++;
              this.gup = { page: p, block: b };
            });
        }
      if (this.gup !== null)
        act('DevGupDmaDoneUnpin()', 'hca', () => {
          this.judgeDma('an O_DIRECT', this.gup as Dma);
          this.gup = null;
        });
    }
    // The pinned MR.
    if (config.pin) {
      if (driver.pinMr === 'none' && this.vma) act('UserRegPinnedMr()', 'driver', () => driver.regPinned());
      if (driver.pinDma === null)
        driver.pinMap.forEach((b, p) => {
          if (b !== null) act(stepLabel('DevPinnedDma', { p }), 'hca', () => (driver.pinDma = { page: p, block: b }));
        });
      else
        act('DevPinnedDmaDone()', 'hca', () => {
          this.judgeDma("the pinned MR's", driver.pinDma as Dma);
          driver.pinDma = null;
        });
      if (driver.pinMr === 'registered' && driver.pinDma === null) act('UserDeregPinnedMr()', 'driver', () => driver.deregPinned());
    }
    // The revoker.
    if (this.revokeTask) out.push(...this.flowAction(this.revokeTask, 'mm', () => (this.revokeTask = null)));
    else if (config.fsdax) {
      if (this.punchesTaken < config.punches)
        for (let p = 0; p < P; p++)
          act(stepLabel('FsPunchStart', { p }), 'mm', () => {
            this.punchesTaken++;
            this.mmapLock = true;
            this.target = p;
            const t: Task = { flow: this.punch(p), pending: null };
            this.revokeTask = t;
            this.advance(t);
          });
    } else if (this.revoke === 'idle') {
      act('P2pRemoveStart()', 'mm', () => {
        const t: Task = { flow: this.p2pRemove(), pending: null };
        this.revokeTask = t;
        this.advance(t);
      });
    }
    if (config.fsdax)
      for (let f = 0; f < this.mem.length; f++) if (this.mem[f] === 'free') act(stepLabel('FsReuseBlock', { f }), 'mm', () => (this.mem[f] = 'other'));
    return out;
  }

  /** dax_iomap_fault / vm_insert_page: the page maps its block (a hole gets the lowest free block). */
  private cpuFault(p: number, f: number): void {
    this.fileMap[p] = f;
    this.mem[f] = this.live;
    this.pte[p] = f;
  }

  /**
   * After every step: the revoker waiting for a block a long-term pin holds. Only the pinned MR's
   * user can drop that reference (ibv_dereg_mr), so the truncate (or the provider removal) blocks
   * until the application deregisters, forever if it never does.
   */
  private judgeWait(): void {
    if (this.revoke !== 'wait') return;
    const pinned = this.driver.pinMap.filter((b): b is number => b !== null);
    const waitedFor = this.config.fsdax ? [this.fileMap[this.target] ?? -1] : this.mem.map((_, b) => b);
    const b = waitedFor.find((x) => pinned.includes(x));
    if (b === undefined) return;
    const who = this.config.fsdax ? `the hole punch of page ${this.target}` : 'the P2PDMA provider removal';
    this.report(
      'blocked-on-longterm-pin',
      `${who} waits for block ${b}, which the pinned MR holds with a FOLL_LONGTERM pin: only ibv_dereg_mr can release it, so the ${this.config.fsdax ? 'truncate' : 'removal'} blocks until the application deregisters (forever, if it never does)`,
    );
  }

  perform(a: Action): StepRecord {
    const seen = this.damage.length;
    a.run();
    this.judgeWait();
    this.history.push(a.label);
    return { label: a.label, actor: a.actor, internal: a.internal, changes: [], damage: this.damage.slice(seen) };
  }

  /** Work outstanding now, by id: the revoker 1, invalidation of page p 10 + p. */
  outstanding(): ReadonlySet<number> {
    const s = new Set<number>();
    if (this.revokeTask) s.add(1);
    this.invs.forEach((t, p) => {
      if (t) s.add(10 + p);
    });
    return s;
  }

  reportHung(only?: ReadonlySet<number>, because?: string): readonly Damage[] {
    const want = (id: number) => !only || only.has(id);
    const names: string[] = [];
    if (this.revokeTask?.pending && want(1)) {
      const what = this.config.fsdax ? `the hole punch of page ${this.target}` : 'the P2PDMA provider removal';
      const pins = this.driver.pinMap.some((b) => b !== null) ? ': the pinned MR holds long-term pins that only its user can drop' : '';
      names.push(`${what}, at ${labelOf(this.revokeTask.pending)}${pins}`);
    }
    this.invs.forEach((t, p) => {
      if (t?.pending && want(10 + p)) names.push(`the invalidation of page ${p}, at ${labelOf(t.pending)}`);
    });
    if (names.length === 0) return [];
    const seen = this.damage.length;
    this.report('hung', `${because ? `never completes (${because})` : 'deadlock: nothing can move'}; waiting forever: ${names.join('; ')}`);
    return this.damage.slice(seen);
  }
}
