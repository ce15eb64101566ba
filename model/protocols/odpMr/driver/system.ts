/**
 * The simulated odp-mr system: the process mm (PTEs, frames, the notifier core),
 * the mlx5-like HCA (odpHca.ts), the reference driver (mlx5Odp.ts), the invalidating threads
 * (madvise), the user (ibv_advise_mr, ibv_dereg_mr), and the one list of everything that can happen
 * next; plus the monitor that turns protocol bugs into damage in words. Why this module exists:
 * conformance to the odp-mr model and the replay of its counterexamples need every concurrency choice
 * as an explicit `Action` labelled like the model's rule instances.
 */
import {
  type Action,
  type Damage,
  type Flow,
  NotifierCore,
  type OpenRegion,
  type SimSystem,
  type StepPoint,
  type StepRecord,
  isChoicePoint,
  isInternal,
  labelOf,
  step,
  stepLabel,
} from 'mirrorcheck/harness';
import { type MrKnob, Mlx5Odp, type OdpMm } from './mlx5Odp.js';
import { OdpHca } from './odpHca.js';

/** The knobs: every odp-mr model variant. */
export const MR_KNOBS: readonly MrKnob[] = [
  'prefetch-before-fence',
  'umr-on-revoked-mkey',
  'revoked-skips-unmap',
  'ksm-update-unlocked',
  'child-release-before-ksm-update',
];

/** Sizes, budgets and knob of a simulated odp-mr system (the model's parameters). */
export interface MrSystemConfig {
  readonly implicit: boolean;
  /** Pages per child (implicit); all pages for an explicit MR. */
  readonly chunkPages: number;
  /** MR objects: 1 for an explicit MR, the children for an implicit one. */
  readonly objects: number;
  readonly pages: number;
  readonly frames: number;
  readonly invalidators: number;
  readonly invalidations: number;
  readonly prefetch: number;
  readonly dereg: number;
  readonly knob: MrKnob | null;
}

/** Kinds of concrete damage. */
export type MrDamageKind = 'freed-frame-access' | 'umr-error' | 'use-after-free' | 'freed-while-dma-mapped' | 'failed-access' | 'ksm-lost-child' | 'hung';

interface Task {
  readonly flow: Flow<unknown>;
  pending: StepPoint | null;
  readonly actor: Action['actor'];
}

/** An invalidating thread: madvise(MADV_DONTNEED) of one page; `cur` is the MR object whose callback is next. */
export interface Invalidator extends Task {
  readonly page: number;
  cur: number;
}

export class MrSystem implements SimSystem {
  readonly config: MrSystemConfig;
  readonly notifier = new NotifierCore();
  readonly hca: OdpHca;
  readonly mm: OdpMm;
  readonly driver: Mlx5Odp;
  readonly damage: Damage[] = [];
  readonly history: string[] = [];
  readonly invs: (Invalidator | null)[];
  faultTask: Task | null = null;
  prefetchTask: Task | null = null;
  deregTask: Task | null = null;
  /** The child free work of each object (implicit). */
  readonly freeWorks: (Task | null)[];
  invalidationsStarted = 0;
  prefetchesTaken = 0;
  deregsTaken = 0;
  private umrErrorSeen = false;

  constructor(config: MrSystemConfig) {
    this.config = config;
    const chunkOf = (p: number) => (config.implicit ? Math.floor(p / config.chunkPages) : 0);
    this.hca = new OdpHca({ keys: config.objects, pages: config.pages, chunks: config.implicit ? config.pages / config.chunkPages : null, chunkOf });
    const ptes: (number | null)[] = Array.from({ length: config.pages }, (_, p) => p);
    const notifier = this.notifier;
    this.mm = {
      ptes,
      notifier,
      freeFrames: () => Array.from({ length: config.frames }, (_, f) => f).filter((f) => !ptes.includes(f)),
      allocChoice: null,
    };
    this.driver = new Mlx5Odp(
      this.hca,
      this.mm,
      { pages: config.pages, implicit: config.implicit, chunkPages: config.chunkPages, objects: config.objects },
      config.knob,
    );
    this.invs = Array.from({ length: config.invalidators }, () => null);
    this.freeWorks = Array.from({ length: config.objects }, () => null);
    this.driver.monitor = {
      dmaUnmap: (p, f, who) => {
        if (this.mm.ptes[p] !== f)
          this.report(
            'freed-while-dma-mapped',
            `${who} DMA-unmaps (and marks dirty) frame ${f} for page ${p}, but that frame was freed when MADV_DONTNEED cleared the PTE: it stayed DMA mapped for the device after it was freed`,
          );
      },
      workOnDestroyedMr: (w, what) =>
        this.report(
          'use-after-free',
          `the ${w === 0 ? 'page-fault' : 'prefetch'} work runs ${what} on the MR after its destruction began (the mkey is revoked and the umem released under it): use after free`,
        ),
    };
  }

  private report(kind: MrDamageKind, message: string): void {
    if (this.damage.some((d) => d.message === message)) return;
    this.damage.push({ kind, step: this.history.length + 1, message });
  }

  /** After every step: a UMR the device failed (an error completion on a revoked mkey). */
  private judge(): void {
    if (this.hca.umrError && !this.umrErrorSeen) {
      this.umrErrorSeen = true;
      const w = this.hca.umrError;
      const what =
        w.op === 'zap'
          ? `ZAP UMR for page ${w.page}`
          : w.op === 'mtt'
            ? `MTT UMR for page ${w.page}`
            : w.op === 'ksm'
              ? `KSM UMR for chunk ${w.chunk}`
              : w.op === 'revoke'
                ? 'revoke UMR'
                : 'parent revoke UMR';
      this.report(
        'umr-error',
        `a ${what} was posted on a revoked mkey: an error completion moves the UMR QP to the error state, and every later MR update fails until it is recovered`,
      );
    }
  }

  private advance(t: Task): void {
    const r = t.flow.next();
    t.pending = r.done ? null : r.value;
  }

  private taskActions(t: Task, done: () => void): Action[] {
    const p = t.pending;
    if (!p?.ready()) return [];
    const run = (choice: number | null) => () => {
      this.mm.allocChoice = choice;
      this.advance(t);
      if (t.pending === null) done();
    };
    if (isChoicePoint(p)) return p.alternatives().map((alt) => ({ label: alt.label, actor: t.actor, internal: isInternal(p), run: run(alt.frame) }));
    return [{ label: labelOf(p), actor: t.actor, internal: isInternal(p), run: run(null) }];
  }

  /** Starts a task and takes its first step now (the step that names it). */
  private start(flow: Flow<unknown>, actor: Action['actor']): Task | null {
    const t: Task = { flow, pending: null, actor };
    this.advance(t);
    this.advance(t);
    return t.pending ? t : null;
  }

  /**
   * madvise(MADV_DONTNEED) of page p by thread i: invalidate_range_start opens the region, then the
   * callback of every MR object's interval covering the page runs, in index order (an object whose
   * interval does not cover it, or is not in the tree, is a step that calls nothing), then the PTE is
   * cleared and the region ends.
   */
  private *madvise(i: number, p: number): Flow<void> {
    yield step('MmMadviseStart', { i, p });
    this.invalidationsStarted++;
    const region: OpenRegion = yield* this.notifier.rangeStart({ start: p, end: p + 1, event: 'unmap', owner: null });
    for (let m = 0; m < this.config.objects; m++) {
      yield step('DriverInvalidateBegin', { i }, () => !this.driver.covers(m, p) || this.driver.obj(m).lock === null);
      // The region's sequence: the mm's, odd from the start for an interval the start found; an
      // interval inserted since (a new child) was made "invalidating" with the same odd value.
      if (this.driver.covers(m, p)) yield* this.driver.invalidate(i, m, p, this.notifier.seq);
      (this.invs[i] as Invalidator).cur = Math.min(m + 1, this.config.objects - 1);
    }
    yield step('MmUpdatePte', { i });
    this.mm.ptes[p] = null;
    yield step('MmInvalidateEnd', { i });
    this.notifier.rangeEnd(region);
  }

  enabled(): Action[] {
    const out: Action[] = [];
    const { config, hca, driver } = this;
    // The device.
    const a = hca.acc;
    if (a.state === 'idle')
      for (let p = 0; p < config.pages; p++)
        out.push({ label: stepLabel('DevIssueAccess', { d: 0, p }), actor: 'hca', internal: false, run: () => hca.issue(p) });
    else if (a.state === 'pending') out.push({ label: stepLabel('DevRetryAccess', { d: 0 }), actor: 'hca', internal: false, run: () => this.retryAccess() });
    else if (a.state === 'inflight')
      out.push({ label: stepLabel('DevCompleteAccess', { d: 0 }), actor: 'hca', internal: false, run: () => this.completeAccess() });
    else if (a.state === 'failed')
      out.push({
        label: stepLabel('DevReportError', { d: 0 }),
        actor: 'hca',
        internal: false,
        run: () => Object.assign(a, { state: 'idle', page: 0, frame: 0 }),
      });
    // The page-fault work.
    if (this.faultTask) out.push(...this.taskActions(this.faultTask, () => (this.faultTask = null)));
    else if (a.state === 'faulted' && driver.workers[0].pc === 'idle')
      out.push({ label: 'DriverTakeFault()', actor: 'driver', internal: false, run: () => (this.faultTask = this.start(driver.faultWork(), 'driver')) });
    // The user's prefetch, and its work.
    if (this.prefetchTask) out.push(...this.taskActions(this.prefetchTask, () => (this.prefetchTask = null)));
    else if (this.prefetchesTaken < config.prefetch && driver.workers[1].pc === 'idle')
      for (let p = 0; p < config.pages; p++)
        out.push({
          label: stepLabel('UserAdviseMr', { p }),
          actor: 'driver',
          internal: false,
          run: () => {
            this.prefetchesTaken++;
            if (driver.advise(p)) {
              const t: Task = { flow: driver.prefetchWork(), pending: null, actor: 'driver' };
              this.advance(t);
              this.prefetchTask = t;
            }
          },
        });
    // Invalidating threads.
    this.invs.forEach((t, i) => {
      if (t) out.push(...this.taskActions(t, () => (this.invs[i] = null)));
      else if (this.invalidationsStarted < config.invalidations)
        for (let p = 0; p < config.pages; p++)
          out.push({
            label: stepLabel('MmMadviseStart', { i, p }),
            actor: 'mm',
            internal: false,
            run: () => {
              const t: Invalidator = { flow: this.madvise(i, p), pending: null, actor: 'mm', page: p, cur: 0 };
              this.invs[i] = t;
              this.advance(t);
              this.advance(t);
              if (t.pending === null) this.invs[i] = null;
            },
          });
    });
    // The deferred child frees (queued by the invalidate callback).
    this.freeWorks.forEach((t, m) => {
      if (t) out.push(...this.taskActions(t, () => (this.freeWorks[m] = null)));
    });
    // Deregistration.
    if (this.deregTask) out.push(...this.taskActions(this.deregTask, () => (this.deregTask = null)));
    else if (this.deregsTaken < config.dereg && driver.dereg === 'idle')
      out.push({
        label: 'UserDeregMr()',
        actor: 'driver',
        internal: false,
        run: () => {
          this.deregsTaken++;
          this.deregTask = this.start(driver.deregister(), 'driver');
        },
      });
    return out;
  }

  /**
   * DevRetryAccess: the access the driver resolved is translated again. For an implicit MR, a fault
   * again while implicit_children holds the chunk's child and no KSM update is owed means the KSM
   * lost the child: the access can never complete.
   */
  private retryAccess(): void {
    const { hca, driver } = this;
    hca.translate();
    if (!hca.parent || hca.acc.state !== 'faulted') return;
    const k = hca.chunkOf(hca.acc.page);
    const child = driver.xa[k] ?? null;
    const owed =
      driver.workers.some((w) => w.newChild && driver.chunkOf(w.page) === k) ||
      driver.objects.some((o) => o.chunk === k && (o.fw === 'wait' || o.fw === 'ksm' || o.fw === 'ksmPost'));
    if (child !== null && hca.parent.ksm[k] !== child && !owed)
      this.report(
        'ksm-lost-child',
        `the device's access to page ${hca.acc.page} faults again right after the driver resolved it: the parent's KSM entry for chunk ${k} ${hca.parent.ksm[k] === null ? 'is empty' : `names child ${hca.parent.ksm[k]}`} although implicit_children holds child ${child} (a stale KSM UMR overwrote the newer one): the access can never reach the child`,
      );
  }

  /** After every step: an access that failed with an error completion while the MR is registered and in use. */
  private judgeFailedAccess(): void {
    const a = this.hca.acc;
    if (a.state !== 'failed' || !this.driver.findable) return;
    const k = this.hca.chunkOf(a.page);
    const named = this.hca.parent ? (this.hca.parent.ksm[k] ?? null) : 0;
    this.report(
      'failed-access',
      `the device's access to page ${a.page} failed with an error completion although the MR is registered: ${named === null ? 'its translation is gone' : `the ${this.hca.parent ? `KSM entry for chunk ${k} names child ${named}` : 'MR'}, whose mkey ${this.hca.mkey[named] ? 'is valid' : 'was revoked (the child was destroyed before the KSM stopped naming it)'}`}`,
    );
  }

  /** DevCompleteAccess: the DMA lands in the frame it translated to; damage if the page no longer maps it. */
  private completeAccess(): void {
    const a = this.hca.acc;
    const owner = this.mm.ptes.indexOf(a.frame);
    if (this.mm.ptes[a.page] !== a.frame)
      this.report(
        'freed-frame-access',
        `the device's DMA for page ${a.page} landed in frame ${a.frame} ${owner < 0 ? 'after it was freed' : `after it was freed and reused by page ${owner}`}: the page's data is lost${owner < 0 ? '' : ` and page ${owner}'s is overwritten`}`,
      );
    Object.assign(a, { state: 'idle', page: 0, frame: 0, via: 0 });
  }

  perform(a: Action): StepRecord {
    const seen = this.damage.length;
    a.run();
    // A child free the invalidate callback queued starts as a work item.
    this.driver.objects.forEach((o, m) => {
      if (o.fw === 'wait' && this.freeWorks[m] === null) {
        const t: Task = { flow: this.driver.childFreeWork(m), pending: null, actor: 'driver' };
        this.advance(t);
        this.freeWorks[m] = t.pending ? t : null;
      }
    });
    this.history.push(a.label);
    this.judge();
    this.judgeFailedAccess();
    return { label: a.label, actor: a.actor, internal: a.internal, changes: [], damage: this.damage.slice(seen) };
  }

  /** Work outstanding now, by id: the fault work 1, the prefetch work 2, deregistration 3, invalidator i 10 + i, child m's free 20 + m. */
  outstanding(): ReadonlySet<number> {
    const s = new Set<number>();
    if (this.faultTask) s.add(1);
    if (this.prefetchTask) s.add(2);
    if (this.deregTask) s.add(3);
    this.freeWorks.forEach((t, m) => {
      if (t) s.add(20 + m);
    });
    this.invs.forEach((t, i) => {
      if (t) s.add(10 + i);
    });
    return s;
  }

  reportHung(only?: ReadonlySet<number>, because?: string): readonly Damage[] {
    const want = (id: number) => !only || only.has(id);
    const names: string[] = [];
    if (this.faultTask?.pending && want(1)) names.push(`the page-fault work, at ${labelOf(this.faultTask.pending)}`);
    if (this.prefetchTask?.pending && want(2)) names.push(`the prefetch work, at ${labelOf(this.prefetchTask.pending)}`);
    if (this.deregTask?.pending && want(3)) names.push(`ibv_dereg_mr, at ${labelOf(this.deregTask.pending)}`);
    this.freeWorks.forEach((t, m) => {
      if (t?.pending && want(20 + m)) names.push(`the free of child ${m}, at ${labelOf(t.pending)}`);
    });
    this.invs.forEach((t, i) => {
      if (t?.pending && want(10 + i)) names.push(`invalidator ${i}, at ${labelOf(t.pending)}`);
    });
    if (names.length === 0) return [];
    const seen = this.damage.length;
    this.report(
      'hung',
      `${because ? `never completes (${because})` : 'deadlock: nothing can move'}; waiting forever: ${names.join('; ')}; umem_mutex ${this.driver.objects.map((o, m) => `${m}: ${o.lock ?? 'free'}`).join(', ')}`,
    );
    return this.damage.slice(seen);
  }
}
