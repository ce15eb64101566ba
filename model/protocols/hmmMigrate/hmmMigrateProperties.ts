/**
 * Properties of `hmm-migrate`, each citing its requirement in spec/hmm-migrate.md (HM-Rn), which
 * cites the kernel properties S1-S9 / L1-L5 of the digest. Why this module exists: the protocol says
 * what the kernel and the driver do; this says what must hold whatever the interleaving, in the
 * same language, so that every engine checks exactly these predicates. The properties speak of the
 * page (its translations, its data, its references), not of any one variant.
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
  le,
  leadsTo,
  leadsToEach,
  lt,
  ne,
  not,
  option,
  or,
  pre,
  some,
  stepProperty,
  unwrap,
} from 'mirrorcheck';
import { type HmMigrateHandles, hmmMigrate } from './hmmMigrate.js';

/** Predicates shared by the properties and the proof hints. */
function vocabulary(h: HmMigrateHandles) {
  const { Cpu, Frame, DevFrame, pte, swap, cpu, fwd, pin } = h;
  const kindIs = (k: string) => eq(pte.f('kind'), k);
  const fwdIn = (...pcs: string[]) => {
    const t = fwd.f('pc').type;
    const known = t.kind === 'enum' ? pcs.filter((x) => t.values.includes(x)) : pcs;
    return or(...known.map((x) => eq(fwd.f('pc'), x)), false);
  };
  const cpuIn = (c: Expr, ...pcs: string[]) => or(...pcs.map((x) => eq(cpu.at(c).f('pc'), x)), false);
  const one = (c: Operand) => ite(c, 1, 0);
  // The forward migration holds its source (from collect to the end of finalize).
  const fwdHoldsSrc = fwdIn('flush', 'copy', 'map', 'finalize');
  // ... and its destination device page, once allocated (copy to finalize).
  const fwdHoldsDst = and(fwdIn('map', 'finalize'), fwd.f('ok'));
  // A CPU thread in the device-private fault path uses its fault page (it holds a reference).
  const faulting = (c: Expr) => cpuIn(c, 'collect', 'copy', 'finalize', 'ret');
  const content = h.content;
  // Holders of each page's references, as the kernel counts them.
  const frameHolders = (f: Expr) =>
    add(
      add(
        add(add(one(and(kindIs('present'), eq(pte.f('frame'), f))), one(eq(swap.f('cached'), some(f, option(Frame))))), one(eq(pin, some(f, option(Frame))))),
        one(and(fwdHoldsSrc, eq(fwd.f('src'), f))),
      ),
      count(Cpu, (c) => and(cpuIn(c, 'finalize'), eq(cpu.at(c).f('dst'), f))),
    );
  const devHolders = (d: Expr) =>
    add(
      add(
        add(one(and(kindIs('devpriv'), eq(pte.f('dev'), d))), one(and(fwdHoldsDst, eq(fwd.f('dst'), some(d, option(DevFrame)))))),
        count(Cpu, (c) => and(faulting(c), eq(cpu.at(c).f('page'), d))),
      ),
      count(Cpu, (c) => and(cpu.at(c).f('ok'), eq(cpu.at(c).f('page'), d))),
    );
  return { kindIs, fwdIn, cpuIn, one, fwdHoldsSrc, fwdHoldsDst, faulting, content, frameHolders, devHolders, Cpu, Frame, DevFrame };
}

export const hmmMigrateProperties = definePropertySet<HmMigrateHandles>(
  hmmMigrate,
  (model) => {
    const h = model.handles;
    const { Cpu, Frame, DevFrame, pte, page, dpage, swap, tlb, cpu, fwd, devPt, zap, pin, latest } = h;
    const x = vocabulary(h);
    const tlbFrame = (c: Expr) => unwrap(tlb.at(c).f('frame'));
    const allocated = (f: Operand) => lt(0, page.at(f).f('ref'));
    const devAllocated = (d: Operand) => lt(0, dpage.at(d).f('ref'));

    const props: Property[] = [
      invariant(
        'tlb-follows-pte',
        'HM-R1',
        'a CPU TLB entry names the frame the PTE maps, or the frame whose migration entry stands in the PTE: no CPU keeps a translation the page table no longer holds',
        forall(Cpu, (c) => implies(isSome(tlb.at(c).f('frame')), and(or(x.kindIs('present'), x.kindIs('migration')), eq(pte.f('frame'), tlbFrame(c))))),
      ),
      invariant(
        'content-preserved',
        'HM-R2',
        "the page's data, wherever it lives (its frame, the device page, the swap slot; the migration's destination once copied), is the last value written (zero after MADV_DONTNEED; while one is in progress either may be seen)",
        implies(eq(zap.f('pc'), 'idle'), eq(x.content, latest)),
      ),
      stepProperty(
        model,
        'cpu-read-sees-last-write',
        'HM-R3',
        'a CPU load returns the last value written (outside a MADV_DONTNEED in progress)',
        'CpuRead',
        ({ c }) =>
          implies(eq(pre(zap.f('pc')), 'idle'), eq(pre(page.at(ite(isSome(tlb.at(c!).f('frame')), tlbFrame(c!), pte.f('frame'))).f('data')), pre(latest))),
      ),
      stepProperty(
        model,
        'device-read-sees-last-write',
        'HM-R3',
        'a device load returns the last value written (outside a MADV_DONTNEED in progress)',
        'DevRead',
        () => implies(eq(pre(zap.f('pc')), 'idle'), eq(pre(dpage.at(unwrap(devPt)).f('data')), pre(latest))),
      ),
      invariant(
        'dirty-tracked',
        'HM-R4',
        'a page whose data differs from its swap copy is marked dirty: in its PTE, in the migration entry that replaced the PTE, or in the page flag',
        forall(Frame, (f) =>
          implies(
            and(eq(swap.f('cached'), some(f, option(Frame))), ne(page.at(f).f('data'), swap.f('data'))),
            or(page.at(f).f('dirty'), and(or(x.kindIs('present'), x.kindIs('migration')), eq(pte.f('frame'), f), pte.f('dirty'))),
          ),
        ),
      ),
      invariant(
        'device-mapping-coherent',
        'HM-R5',
        'the device maps a device page only while the CPU page table names it (device-private or device migration entry), or while the migration that installs it holds the migration entry it will replace',
        implies(
          isSome(devPt),
          or(
            and(or(x.kindIs('devpriv'), x.kindIs('devmigration')), eq(pte.f('dev'), unwrap(devPt))),
            and(x.fwdIn('finalize'), x.fwdHoldsDst, eq(fwd.f('dst'), devPt), x.kindIs('migration'), eq(pte.f('frame'), fwd.f('src'))),
          ),
        ),
      ),
      invariant(
        'no-use-of-freed-page',
        'HM-R6',
        'no TLB entry, device mapping, page-table entry, pin, migration or fault path refers to a freed page',
        and(
          forall(Cpu, (c) => implies(isSome(tlb.at(c).f('frame')), allocated(tlbFrame(c)))),
          implies(isSome(devPt), devAllocated(unwrap(devPt))),
          implies(isSome(pin), allocated(unwrap(pin))),
          implies(x.kindIs('present'), allocated(pte.f('frame'))),
          implies(x.kindIs('devpriv'), devAllocated(pte.f('dev'))),
          implies(x.fwdHoldsSrc, allocated(fwd.f('src'))),
          implies(x.fwdHoldsDst, devAllocated(unwrap(fwd.f('dst')))),
          forall(Cpu, (c) => and(implies(x.faulting(c), devAllocated(cpu.at(c).f('page'))), implies(x.cpuIn(c, 'finalize'), allocated(cpu.at(c).f('dst'))))),
        ),
      ),
      invariant(
        'refcount-exact',
        'HM-R7',
        "every page's reference count is the number of its holders: its mapping, the swap cache, a pin, a migration, a fault path using it outside the PTL",
        and(
          forall(Frame, (f) => eq(page.at(f).f('ref'), x.frameHolders(f))),
          forall(DevFrame, (d) => eq(dpage.at(d).f('ref'), x.devHolders(d))),
        ),
      ),
      // --- progress, under the fairness declared on the rules ---
      leadsToEach(
        'cpu-fault-returns',
        'HM-R8',
        'a CPU fault on a device-private entry eventually returns from do_swap_page (its page unlocked and put)',
        Cpu,
        (c) => [ne(cpu.at(c).f('pc'), 'idle'), eq(cpu.at(c).f('pc'), 'idle')],
      ),
      leadsToEach(
        'cpu-fault-migrates-back',
        'HM-R9',
        'a CPU fault on a device-private entry eventually brings its page back to system memory (unless that page is unmapped meanwhile): migrate_to_ram may not keep failing',
        Cpu,
        (c) => [x.cpuIn(c, 'collect', 'copy', 'finalize'), not(and(or(x.kindIs('devpriv'), x.kindIs('devmigration')), eq(pte.f('dev'), cpu.at(c).f('page'))))],
      ),
      leadsTo(
        'migration-completes',
        'HM-R10',
        'a migration to device memory that has started eventually finishes (its pages unlocked, the migration entry replaced)',
        ne(fwd.f('pc'), 'idle'),
        eq(fwd.f('pc'), 'idle'),
      ),
      leadsTo('madvise-completes', 'HM-R11', 'a MADV_DONTNEED that has started eventually returns', ne(zap.f('pc'), 'idle'), eq(zap.f('pc'), 'idle')),
    ];
    const covers: Property[] = [];
    if (h.params.migrations > 0) {
      covers.push(
        cover('page-on-device', 'HM-C1', 'the page lives in device memory behind a device-private entry', x.kindIs('devpriv')),
        cover('device-mapped', 'HM-C2', 'the device maps the migrated page', isSome(devPt)),
        cover('device-wrote', 'HM-C3', 'the device wrote the page', and(x.kindIs('devpriv'), eq(dpage.at(pte.f('dev')).f('data'), latest), lt(0, latest))),
        cover(
          'migrated-back',
          'HM-C4',
          'a CPU fault migrated the page back to system memory',
          exists(Cpu, (c) => and(x.cpuIn(c, 'ret'), x.kindIs('present'))),
        ),
      );
    }
    if (h.params.reclaim > 0) covers.push(cover('swapped-out', 'HM-C5', 'reclaim moved the page to swap', x.kindIs('swap')));
    if (h.params.pins > 0 && h.params.migrations > 0) {
      covers.push(
        cover(
          'pinned-during-migration',
          'HM-C6',
          'a pinned page is under migration (the unexpected-reference check will restore it)',
          and(x.fwdIn('copy'), eq(pin, some(fwd.f('src'), option(Frame)))),
        ),
      );
    }
    if (h.params.zaps > 0 && h.params.migrations > 0) {
      covers.push(
        cover('migration-entry-zapped', 'HM-C7', 'MADV_DONTNEED removed the migration entry of a migration in progress', and(x.fwdHoldsSrc, x.kindIs('none'))),
      );
    }
    return [...props, ...covers];
  },
  hmmMigrateProofHints,
);

/**
 * Strengthening invariants of hmm-migrate for proofs (checker/smt): with the properties they are
 * inductive for the correct protocol (every `dirty` mode). They say which PTE kind goes with which
 * stage of each actor, who holds each page lock and who else may hold a page a path has just
 * taken, where the swap slot stands, and that a freed page is scrubbed. They hold for the correct
 * protocol only; for a bug variant a proof rejects some of them.
 * The S-numbers are local to the proof.
 */
function hmmMigrateProofHints(model: Model<HmMigrateHandles>): ProofHints {
  const h = model.handles;
  const { Cpu, Frame, DevFrame, pte, page, dpage, swap, tlb, cpu, fwd, devPt, zap, pin, latest, written } = h;
  const x = vocabulary(h);
  const FrameOpt = option(Frame);
  const DevOpt = option(DevFrame);
  const presentAt = (f: Operand) => and(x.kindIs('present'), eq(pte.f('frame'), f));
  const migrationAt = (f: Operand) => and(x.kindIs('migration'), eq(pte.f('frame'), f));
  const devprivAt = (d: Operand) => and(x.kindIs('devpriv'), eq(pte.f('dev'), d));
  const devmigrationAt = (d: Operand) => and(x.kindIs('devmigration'), eq(pte.f('dev'), d));
  const srcIs = (f: Operand) => and(x.fwdHoldsSrc, eq(fwd.f('src'), f));
  const dstIs = (d: Operand) => and(x.fwdHoldsDst, eq(fwd.f('dst'), some(d, DevOpt)));
  const backDstIs = (c: Expr, f: Operand) => and(x.cpuIn(c, 'finalize'), eq(cpu.at(c).f('dst'), f));
  const strengthening = [
    invariant(
      'hm-s1-entry-shapes',
      'HM-S1',
      'fields an entry kind does not use are zero; a migration entry belongs to the migration holding its page, a device migration entry to the fault migrating its page back; a swap entry has a valid slot and no cached page',
      and(
        implies(or(x.kindIs('none'), x.kindIs('swap')), and(eq(pte.f('frame'), 0), eq(pte.f('dev'), 0), not(pte.f('dirty')))),
        implies(or(x.kindIs('present'), x.kindIs('migration')), eq(pte.f('dev'), 0)),
        implies(or(x.kindIs('devpriv'), x.kindIs('devmigration')), and(eq(pte.f('frame'), 0), not(pte.f('dirty')))),
        implies(x.kindIs('migration'), srcIs(pte.f('frame'))),
        implies(x.fwdHoldsSrc, not(or(x.kindIs('devpriv'), x.kindIs('devmigration')))),
        implies(
          x.kindIs('devmigration'),
          exists(Cpu, (c) => and(cpu.at(c).f('ok'), eq(cpu.at(c).f('page'), pte.f('dev')))),
        ),
        implies(x.kindIs('swap'), and(swap.f('valid'), isNone(swap.f('cached')))),
      ),
    ),
    invariant(
      'hm-s2-actor-shapes',
      'HM-S2',
      'an idle actor holds nothing; a migration to the device has a destination exactly when it committed; the fault path holds the migration reference exactly from collect to finalize; a fault page is held by one thread at a time',
      and(
        implies(eq(fwd.f('pc'), 'idle'), and(eq(fwd.f('src'), 0), isNone(fwd.f('dst')), not(fwd.f('ok')), not(fwd.f('seqOk')))),
        implies(x.fwdIn('collect', 'flush', 'copy'), and(isNone(fwd.f('dst')), not(fwd.f('ok')))),
        implies(x.fwdIn('collect'), eq(fwd.f('src'), 0)),
        implies(x.fwdIn('map'), fwd.f('ok')),
        eq(isSome(fwd.f('dst')), fwd.f('ok')),
        forall(Cpu, (c) =>
          and(
            implies(x.cpuIn(c, 'idle'), and(eq(cpu.at(c).f('page'), 0), eq(cpu.at(c).f('dst'), 0), not(cpu.at(c).f('ok')))),
            eq(cpu.at(c).f('ok'), x.cpuIn(c, 'copy', 'finalize')),
            implies(not(x.cpuIn(c, 'finalize')), eq(cpu.at(c).f('dst'), 0)),
          ),
        ),
        forall(DevFrame, (d) =>
          lt(
            count(Cpu, (c) => and(x.faulting(c), eq(cpu.at(c).f('page'), d))),
            2,
          ),
        ),
      ),
    ),
    invariant(
      'hm-s3-page-locks',
      'HM-S3',
      'a system page is locked exactly while a migration holds it as its source, or a fault holds it as its new page; a device page exactly while it is a destination being filled or a fault page',
      and(
        forall(Frame, (f) =>
          eq(
            page.at(f).f('locked'),
            or(
              srcIs(f),
              exists(Cpu, (c) => backDstIs(c, f)),
            ),
          ),
        ),
        forall(DevFrame, (d) =>
          eq(
            dpage.at(d).f('locked'),
            or(
              dstIs(d),
              exists(Cpu, (c) => and(x.faulting(c), eq(cpu.at(c).f('page'), d))),
            ),
          ),
        ),
      ),
    ),
    invariant(
      'hm-s4-exclusive-holders',
      'HM-S4',
      "a page a migration or a fault has just allocated has no other holder; a migration's source is no longer mapped; a mapped device page is not a destination or fault page",
      and(
        forall(Frame, (f) =>
          and(
            implies(srcIs(f), not(presentAt(f))),
            forall(Cpu, (c) =>
              implies(
                backDstIs(c, f),
                and(
                  not(presentAt(f)),
                  not(migrationAt(f)),
                  ne(swap.f('cached'), some(f, FrameOpt)),
                  ne(pin, some(f, FrameOpt)),
                  not(srcIs(f)),
                  forall(Cpu, (c2) => implies(ne(c2, c), not(backDstIs(c2, f)))),
                ),
              ),
            ),
          ),
        ),
        forall(DevFrame, (d) =>
          and(
            implies(
              dstIs(d),
              and(
                not(devprivAt(d)),
                not(devmigrationAt(d)),
                forall(Cpu, (c) => not(and(x.faulting(c), eq(cpu.at(c).f('page'), d)))),
              ),
            ),
            forall(Cpu, (c) =>
              implies(
                and(x.faulting(c), eq(cpu.at(c).f('page'), d)),
                and(implies(cpu.at(c).f('ok'), not(devprivAt(d))), implies(x.cpuIn(c, 'collect', 'ret'), not(devmigrationAt(d)))),
              ),
            ),
          ),
        ),
      ),
    ),
    invariant(
      'hm-s5-free-pages-scrubbed',
      'HM-S5',
      'a free page (no reference) is unlocked, clean and zeroed',
      and(
        forall(Frame, (f) => implies(eq(page.at(f).f('ref'), 0), and(not(page.at(f).f('locked')), not(page.at(f).f('dirty')), eq(page.at(f).f('data'), 0)))),
        forall(DevFrame, (d) => implies(eq(dpage.at(d).f('ref'), 0), and(not(dpage.at(d).f('locked')), eq(dpage.at(d).f('data'), 0)))),
      ),
    ),
    invariant(
      'hm-s6-swap-slot',
      'HM-S6',
      'the swap slot is valid when a page is cached for it or the PTE is a swap entry, and then only; a cached page is the one the PTE maps (or the source of the migration replacing it); an invalid slot is zeroed',
      and(
        implies(isSome(swap.f('cached')), and(swap.f('valid'), or(presentAt(unwrap(swap.f('cached'))), migrationAt(unwrap(swap.f('cached')))))),
        implies(swap.f('valid'), or(isSome(swap.f('cached')), x.kindIs('swap'))),
        implies(not(swap.f('valid')), eq(swap.f('data'), 0)),
        implies(x.fwdHoldsDst, ne(swap.f('cached'), some(fwd.f('src'), FrameOpt))),
      ),
    ),
    invariant(
      'hm-s7-tlb-exact',
      'HM-S7',
      'a TLB entry names exactly the present frame of the PTE (the flush comes with every PTE change, under the PTL), and a dirty TLB entry means a dirty PTE',
      forall(Cpu, (c) =>
        and(
          implies(isSome(tlb.at(c).f('frame')), presentAt(unwrap(tlb.at(c).f('frame')))),
          implies(tlb.at(c).f('dirty'), and(isSome(tlb.at(c).f('frame')), pte.f('dirty'))),
          implies(not(x.cpuIn(c, 'idle')), isNone(tlb.at(c).f('frame'))),
        ),
      ),
    ),
    invariant(
      'hm-s8-retry-window',
      'HM-S8',
      'while no other invalidation has run since read_begin, the migration entry of a migration past collect is still in place and no MADV_DONTNEED is open; the device maps nothing the migration has not yet committed',
      and(
        implies(fwd.f('seqOk'), eq(zap.f('pc'), 'idle')),
        implies(ne(zap.f('pc'), 'idle'), isNone(devPt)),
        implies(and(fwd.f('seqOk'), x.fwdHoldsSrc), migrationAt(fwd.f('src'))),
        implies(and(isSome(devPt), x.fwdIn('map')), ne(devPt, fwd.f('dst'))),
      ),
    ),
    invariant(
      'hm-s9-content-exact',
      'HM-S9',
      "the page's data is the last value written in every state, a MADV_DONTNEED in progress included (its zap and the TLB flush are one step)",
      and(
        eq(x.content, latest),
        le(latest, written),
        forall(Cpu, (c) =>
          implies(
            x.cpuIn(c, 'finalize'),
            and(eq(page.at(cpu.at(c).f('dst')).f('data'), dpage.at(cpu.at(c).f('page')).f('data')), ne(devPt, some(cpu.at(c).f('page'), DevOpt))),
          ),
        ),
      ),
    ),
  ];
  return { strengthening };
}
