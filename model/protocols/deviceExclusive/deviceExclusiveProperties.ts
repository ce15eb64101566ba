/**
 * Properties of `device-exclusive`, each citing its requirement in spec/device-exclusive.md (DX-Rn),
 * which cites the kernel properties S1-S9 / L1-L5 of the digest. Why this module exists: the
 * protocol says what the driver, the faulting CPUs and migration do; this says what must hold,
 * whatever the interleaving: exclusivity really excludes the CPU, no path uses a page it does not
 * hold a reference on, and every fault (the device's and the CPUs') makes progress.
 */
import {
  type Expr,
  type Model,
  type Operand,
  type ProofHints,
  type Property,
  add,
  and,
  count,
  cover,
  definePropertySet,
  eq,
  exists,
  forall,
  implies,
  invariant,
  isNone,
  isSome,
  ite,
  leadsTo,
  leadsToEach,
  lt,
  ne,
  not,
  or,
  ord,
  unwrap,
} from 'mirrorcheck';
import { type DeviceExclusiveHandles, deviceExclusive } from './deviceExclusive.js';

/** Predicates shared by the properties and the proof hints. */
function vocabulary(h: DeviceExclusiveHandles) {
  const { Cpu, Page, pte, cpu, drv, mig } = h;
  const cpuIn = (c: Expr, ...pcs: string[]) => or(...pcs.map((x) => eq(cpu.at(c).f('pc'), x)), false);
  const drvIn = (...pcs: string[]) => or(...pcs.map((x) => eq(drv.f('pc'), x)), false);
  const one = (c: Operand) => ite(c, 1, 0);
  // A CPU thread between folio_try_get and folio_put uses its page (waiting for or holding its lock).
  const cpuUses = (c: Expr) => cpuIn(c, 'lock', 'restore');
  // The driver holds its page from GUP to the put after mapping (or the retry).
  const drvUses = drvIn('lock', 'excl', 'map');
  const migUses = eq(mig.f('pc'), 'move');
  // Holders of frame f's references: the PTE that maps it, CPU threads, the driver, the migration.
  const holders = (f: Expr) =>
    add(
      add(
        add(
          count(Page, (p) => eq(pte.at(p).f('frame'), f)),
          count(Cpu, (c) => and(cpuUses(c), eq(cpu.at(c).f('frame'), f))),
        ),
        one(and(drvUses, eq(drv.f('frame'), f))),
      ),
      one(and(migUses, eq(mig.f('from'), f))),
    );
  // Nothing but the driver itself can invalidate page p any more: no CPU thread will take its lock
  // (those waiting for it would run their MMU_NOTIFY_CLEAR callback), no migration is running or
  // left, and the PTE is a plain one (no exclusive entry left over that the driver's own GUP would
  // fault back with an unowned MMU_NOTIFY_CLEAR).
  const quiet = (p: Operand) =>
    and(
      not(pte.at(p).f('excl')),
      forall(Cpu, (c) => not(and(cpuIn(c, 'lock'), eq(cpu.at(c).f('page'), p)))),
      eq(mig.f('pc'), 'idle'),
      eq(h.migsLeft, 0),
    );
  return { cpuIn, drvIn, cpuUses, drvUses, migUses, holders, quiet };
}

export const deviceExclusiveProperties = definePropertySet<DeviceExclusiveHandles>(
  deviceExclusive,
  (model) => {
    const h = model.handles;
    const { Cpu, Page, Frame, pte, page, cpu, drv, mig, dev } = h;
    const x = vocabulary(h);
    const allocated = (f: Operand) => lt(0, page.at(f).f('ref'));

    const props: Property[] = [
      invariant(
        'atomic-mapping-exclusive',
        'DX-R1',
        'the device holds an atomic mapping of a page only while the CPU page table holds the device-exclusive entry for that same page: no CPU can reach it meanwhile',
        forall(Page, (p) => implies(isSome(dev.at(p)), and(pte.at(p).f('excl'), eq(pte.at(p).f('frame'), unwrap(dev.at(p)))))),
      ),
      invariant(
        'no-use-of-freed-page',
        'DX-R2',
        'no page-table entry, device mapping, faulting CPU thread, driver or migration refers to a freed page (in particular, nobody waits for or holds the lock of a freed page)',
        and(
          forall(Page, (p) => and(allocated(pte.at(p).f('frame')), implies(isSome(dev.at(p)), allocated(unwrap(dev.at(p)))))),
          forall(Cpu, (c) => implies(x.cpuUses(c), allocated(cpu.at(c).f('frame')))),
          implies(x.drvUses, allocated(drv.f('frame'))),
          implies(x.migUses, allocated(mig.f('from'))),
        ),
      ),
      invariant(
        'refcount-exact',
        'DX-R3',
        "every page's reference count is the number of its holders: the PTE mapping it, each CPU thread waiting for or holding its lock in the fault path, the driver between GUP and its put, the migration",
        forall(Frame, (f) => eq(page.at(f).f('ref'), x.holders(f))),
      ),
      // --- progress, under the fairness declared on the rules ---
      leadsToEach(
        'device-atomic-progress',
        'DX-R4',
        "a device atomic fault that nothing else invalidates (no CPU thread about to take the page's lock, no migration left, the page mapped by a plain PTE) is eventually served: the driver's own events never stop it",
        Page,
        (p) => [and(eq(drv.f('pc'), 'begin'), eq(drv.f('page'), p), x.quiet(p)), isSome(dev.at(p))],
      ),
      leadsToEach(
        'cpu-fault-progress',
        'DX-R5',
        'a CPU fault on a device-exclusive entry eventually returns, the original PTE restored (by it or by another faulting thread)',
        Cpu,
        (c) => [ne(cpu.at(c).f('pc'), 'idle'), eq(cpu.at(c).f('pc'), 'idle')],
      ),
      leadsTo(
        'migration-progress',
        'DX-R6',
        'a page migration that has locked its page eventually finishes (moved, or backed off)',
        ne(mig.f('pc'), 'idle'),
        eq(mig.f('pc'), 'idle'),
      ),
    ];
    const covers: Property[] = [
      cover(
        'device-atomic-mapped',
        'DX-C1',
        'the device maps a page for atomics',
        exists(Page, (p) => isSome(dev.at(p))),
      ),
    ];
    if (h.params.accesses > 0) {
      covers.push(
        cover(
          'cpu-restored-exclusive-entry',
          'DX-C2',
          'a CPU fault restored the original PTE',
          exists(Cpu, (c) => x.cpuIn(c, 'end')),
        ),
      );
    }
    if (h.params.cpus > 1 && h.params.accesses > 1) {
      covers.push(
        cover(
          'threads-fault-together',
          'DX-C3',
          'two CPU threads fault on the same exclusive entry at once',
          exists(Cpu, (c) => exists(Cpu, (d) => and(ne(c, d), x.cpuUses(c), x.cpuUses(d), eq(cpu.at(c).f('page'), cpu.at(d).f('page'))))),
        ),
      );
    }
    if (h.params.migrations > 0) {
      covers.push(
        cover(
          'page-migrated',
          'DX-C4',
          'a page moved to another frame (its old frame freed when its last reference dropped)',
          exists(Page, (p) => ne(ord(pte.at(p).f('frame')), ord(p))),
        ),
      );
    }
    return [...props, ...covers];
  },
  deviceExclusiveProofHints,
);

/**
 * Strengthening invariants of device-exclusive for proofs (checker/smt): with the properties they
 * are inductive for the correct protocol. They say who holds each page lock, that a path holding
 * a reference sees the page where it found it (a referenced page cannot be migrated), what an idle
 * actor holds, and when the driver's read_begin sequence can still be current. They hold for the
 * correct protocol only; for a bug variant a proof rejects some of them. The S-numbers are local to
 * the proof.
 */
function deviceExclusiveProofHints(model: Model<DeviceExclusiveHandles>): ProofHints {
  const h = model.handles;
  const { Cpu, Page, Frame, pte, page, cpu, drv, mig, dev } = h;
  const x = vocabulary(h);
  const lockHolders = (f: Expr) =>
    add(
      add(
        count(Cpu, (c) => and(x.cpuIn(c, 'restore'), eq(cpu.at(c).f('frame'), f))),
        ite(and(x.drvIn('excl', 'map'), eq(drv.f('frame'), f)), 1, 0),
      ),
      ite(and(x.migUses, eq(mig.f('from'), f)), 1, 0),
    );
  const strengthening = [
    invariant(
      'dx-s1-actor-shapes',
      'DX-S1',
      'an idle actor holds nothing; the driver holds a page only from GUP on; its read_begin sequence can be current only after read_begin',
      and(
        forall(Cpu, (c) => implies(x.cpuIn(c, 'idle'), and(eq(cpu.at(c).f('page'), 0), eq(cpu.at(c).f('frame'), 0)))),
        implies(x.drvIn('idle'), and(eq(drv.f('page'), 0), eq(drv.f('frame'), 0))),
        implies(x.drvIn('idle', 'begin', 'gup'), eq(drv.f('frame'), 0)),
        implies(x.drvIn('idle', 'begin'), not(drv.f('seqOk'))),
        implies(eq(mig.f('pc'), 'idle'), and(eq(mig.f('page'), 0), eq(mig.f('from'), 0))),
      ),
    ),
    invariant(
      'dx-s2-page-locks',
      'DX-S2',
      'a page is locked exactly while one path holds its lock: a CPU thread restoring it, the driver making it exclusive and mapping it, or a migration; never two',
      forall(Frame, (f) => and(eq(page.at(f).f('locked'), lt(0, lockHolders(f))), lt(lockHolders(f), 2))),
    ),
    invariant(
      'dx-s3-referenced-pages-stay',
      'DX-S3',
      'a path holding a reference on a page finds it where it found it: a page with an extra reference cannot be migrated; each page maps its own frame; a migration works on a plain PTE',
      and(
        forall(Cpu, (c) => implies(x.cpuUses(c), eq(pte.at(cpu.at(c).f('page')).f('frame'), cpu.at(c).f('frame')))),
        implies(x.drvUses, eq(pte.at(drv.f('page')).f('frame'), drv.f('frame'))),
        implies(x.drvIn('map'), pte.at(drv.f('page')).f('excl')),
        implies(x.migUses, and(eq(pte.at(mig.f('page')).f('frame'), mig.f('from')), not(pte.at(mig.f('page')).f('excl')))),
        forall(Page, (p) => forall(Page, (q) => implies(ne(p, q), ne(pte.at(p).f('frame'), pte.at(q).f('frame'))))),
        forall(Frame, (f) => implies(eq(page.at(f).f('ref'), 0), not(page.at(f).f('locked')))),
      ),
    ),
    invariant(
      'dx-s4-callbacks-ran',
      'DX-S4',
      "once a CPU thread's callback has run, the device no longer maps that page, and the driver's sequence for it is no longer current; a current sequence means no such region has opened since read_begin",
      and(
        forall(Cpu, (c) => implies(x.cpuIn(c, 'restore'), isNone(dev.at(cpu.at(c).f('page'))))),
        implies(
          drv.f('seqOk'),
          forall(Cpu, (c) => implies(eq(cpu.at(c).f('page'), drv.f('page')), not(x.cpuIn(c, 'restore', 'end')))),
        ),
      ),
    ),
  ];
  return { strengthening };
}
