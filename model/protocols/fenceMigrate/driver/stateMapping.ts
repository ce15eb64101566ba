/**
 * The abstraction function from the simulated system (hardware + reference driver + application) to
 * a fence-migrate model state. Why this module exists: "the reference driver does what the model
 * says" is checked by mapping every system state to a model state and comparing steps; the mapping is
 * the one place that says which hardware field stands for which model variable:
 *
 *   pte[p]      CPU PTE: frame, present, and whether a migration entry stands in it
 *   hca[p]      HCA MTT entry (none when zapped)          blocked[p]  HCA block flag
 *   inv[p]      the migration's own invalidation region covering p is open
 *   mig[p]      the running migration of p: its next step (the label it waits at), old and new frame,
 *               copied, held (collected), failed, hit (read_retry on the driver's read_begin seq)
 *   discard[p]  the page's madvise(MADV_DONTNEED) task: the step it waits at (zap, drain, clear)
 *   discardsLeft, failsLeft  zaps and migration failures the system may still make
 *   owner, data the page allocator's frames               latest[p]   the application's last completed write
 *   dma[d]      HCA DMA slot: state, direction, page, frame (0 until translated), value
 *   written     writes issued                            migsLeft    migrations the mm may still start
 *   seq[p]      (fault=retry) invalidations that have reached page p's interval notifier
 *   fault[p]    (fault=retry) the page's fault work: next step of its loop, the invalidation count
 *               its read_begin saw, the frame its hmm_range_fault found
 */
import { McError, type Model, type ScalarType, type Value, encodeState, inType, isScalar } from 'mirrorcheck';
import { labelOf, ruleName } from 'mirrorcheck/harness';
import { fenceMigrate, migrationSteps } from '../fenceMigrate.js';
import { DRIVER_KNOBS, type MigrationMode, isDriverKnob } from './driverOptions.js';
import type { MirrorSystem, SystemConfig } from './system.js';

/** The model's migration step each migration-sequence label stands for. */
const STEP_OF_RULE: Readonly<Record<string, string>> = {
  DriverFenceDma: 'fence',
  DriverZapMkey: 'zap',
  DriverFenceWait: 'drain',
  MmInvalidateEnd: 'collect',
  MmCopyPage: 'copy',
  MmMigratePages: 'pages',
  MmFinalize: 'finalize',
  DriverUpdateMkey: 'update',
  DriverUnblockDma: 'unblock',
  MmFreeFrame: 'free',
};

/** The model's zap stage each step of a madvise(MADV_DONTNEED) task stands for. */
const DISCARD_STAGE_OF_RULE: Readonly<Record<string, string>> = {
  DriverDiscardZap: 'zap',
  DriverDiscardWait: 'drain',
  MmDiscardEnd: 'clear',
};

/**
 * The system configuration that corresponds to a built fence-migrate model: its params size the
 * hardware, `knob` (default: the model's variant) is the driver's bug knob. Throws McError (MC030)
 * for a model of another protocol, a knob the driver does not have, or a migration order the
 * reference driver does not follow.
 */
export function systemConfigFor(model: Model, knob: string | null = model.variant): SystemConfig {
  if (model.protocol !== fenceMigrate.name)
    throw new McError('MC030', `the ${fenceMigrate.name} reference driver runs ${fenceMigrate.name} models only, not ${model.protocol}`);
  if (knob !== null && !isDriverKnob(knob))
    throw new McError('MC030', `no reference-driver knob for variant ${knob} of ${fenceMigrate.name} (knobs: ${DRIVER_KNOBS.join(', ')})`);
  const p = model.params;
  const mode = p.mode as MigrationMode;
  // The reference driver migrates remap-first; a model whose migration follows another order is not simulated.
  if (migrationSteps(mode, model.variant, String(p.order)).join() !== migrationSteps(mode, model.variant).join())
    throw new McError('MC030', `order=${p.order} is not simulated: the reference driver remaps the CPU PTE before it updates the HCA (order=remap-first)`);
  return {
    pages: p.pages as number,
    frames: p.frames as number,
    slots: p.slots as number,
    writes: p.writes as number,
    migrations: p.migrations as number,
    discards: p.discards as number,
    failures: p.failures as number,
    mode,
    knob,
    faultSteps: p.fault === 'retry' ? 'retry' : 'atomic',
  };
}

/** The structured model state of a system (variable name -> value, as layout.decodeState gives). */
export function modelValueOf(sys: MirrorSystem): Record<string, Value> {
  const { mm, hca, memory, workload, config } = sys;
  const pages = Array.from({ length: config.pages }, (_, p) => p);
  return {
    pte: pages.map((p) => ({ frame: mm.pte(p).pfn ?? 0, present: mm.pte(p).pfn !== null, migration: mm.pte(p).migration })),
    hca: pages.map((p) => hca.table[p] ?? null),
    blocked: pages.map((p) => hca.blocked[p] as boolean),
    inv: pages.map((p) => sys.migrationOf(p)?.tag.progress.open ?? false),
    mig: pages.map((p) => {
      const t = sys.migrationOf(p);
      if (!t?.pending) return { step: 'idle', from: 0, to: 0, copied: false, held: false, failed: false, hit: false };
      const rule = ruleName(labelOf(t.pending));
      const seq = sys.driver.migrationSeq.get(p);
      const sub = sys.driver.subs[p];
      const hit = seq !== undefined && sub !== undefined && sys.notifier.readRetry(sub, seq);
      const { copied, held, failed } = t.tag.progress;
      return { step: STEP_OF_RULE[rule] ?? `?${rule}`, from: t.tag.from, to: t.tag.to, copied, held, failed, hit };
    }),
    discard: pages.map((p) => {
      const t = sys.discardOf(p);
      if (!t?.pending) return 'idle';
      const rule = ruleName(labelOf(t.pending));
      return DISCARD_STAGE_OF_RULE[rule] ?? `?${rule}`;
    }),
    owner: memory.owner.map((o) => o),
    data: [...memory.data],
    latest: [...workload.latest],
    dma: hca.slots.map((op) =>
      op === null
        ? { state: 'idle', write: false, page: 0, frame: 0, val: 0 }
        : { state: op.state, write: op.write, page: op.page, frame: op.frame ?? 0, val: op.val },
    ),
    written: workload.written,
    migsLeft: workload.migrationsLeft,
    discardsLeft: sys.discardsLeft,
    failsLeft: sys.failsLeft,
    // fault=retry models only: invalidations that reached each page, and each page's fault work.
    seq: sys.driver.subs.map((sub) => sys.notifier.invalidationsAt(sub, sub.invalidateSeq)),
    fault: pages.map((p) => {
      const w = sys.driver.faultWork.get(p);
      if (!w) return { stage: 'idle', seq: 0, frame: 0, ok: false };
      const sub = sys.driver.subs[p];
      return { stage: w.stage, seq: w.sampled && sub ? sys.notifier.invalidationsAt(sub, w.seq) : 0, frame: w.pfn ?? 0, ok: w.ok };
    }),
  };
}

/** How to read one slot out of the structured value: variable, optional array index, optional field. */
interface SlotPlan {
  readonly v: string;
  readonly i: number;
  readonly f: string | null;
  readonly t: ScalarType;
}

const plans = new WeakMap<Model, readonly SlotPlan[] | null>();

/**
 * A flat plan of the layout when every variable is a scalar, an array of scalars or an array of
 * records of scalars (true of fence-migrate); null otherwise, and the generic encoder is used.
 */
function planOf(model: Model): readonly SlotPlan[] | null {
  if (plans.has(model)) return plans.get(model) ?? null;
  const out: SlotPlan[] = [];
  let ok = true;
  for (const v of model.layout.vars) {
    const t = v.type;
    if (isScalar(t)) out.push({ v: v.name, i: -1, f: null, t });
    else if (t.kind === 'array' && isScalar(t.elem)) for (let i = 0; i < t.index.size; i++) out.push({ v: v.name, i, f: null, t: t.elem });
    else if (t.kind === 'array' && t.elem.kind === 'record' && Object.values(t.elem.fields).every(isScalar)) {
      for (let i = 0; i < t.index.size; i++) for (const [f, ft] of Object.entries(t.elem.fields)) out.push({ v: v.name, i, f, t: ft as ScalarType });
    } else ok = false;
  }
  const plan = ok ? out : null;
  plans.set(model, plan);
  return plan;
}

/** The natural value of a structured scalar, or undefined when it is not a value of `t`. */
function natural(t: ScalarType, x: Value): number | undefined {
  switch (t.kind) {
    case 'bool':
      return typeof x === 'boolean' ? (x ? 1 : 0) : undefined;
    case 'enum': {
      const k = typeof x === 'string' ? t.values.indexOf(x) : -1;
      return k >= 0 ? k : undefined;
    }
    case 'option':
      return x === null ? -1 : natural(t.inner, x);
    default:
      return typeof x === 'number' && inType(t, x) ? x : undefined;
  }
}

/** The model state of a system, or a description of why it does not fit the model's state space. */
export function modelStateOf(model: Model, sys: MirrorSystem): Int32Array | string {
  const value = modelValueOf(sys);
  const plan = planOf(model);
  if (plan === null) return encodeState(model.layout, value);
  const s = new Int32Array(plan.length);
  for (let k = 0; k < plan.length; k++) {
    const p = plan[k] as SlotPlan;
    let x = value[p.v] as Value;
    if (p.i >= 0) x = (x as readonly Value[])[p.i] as Value;
    if (p.f !== null) x = (x as Readonly<Record<string, Value>>)[p.f] as Value;
    const n = natural(p.t, x);
    if (n === undefined) return `${model.layout.slotNames[k]}: ${JSON.stringify(x)} is not a value of this field`;
    s[k] = n;
  }
  return s;
}
