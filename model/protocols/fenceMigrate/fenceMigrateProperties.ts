/**
 * Properties of `fence-migrate`, each citing its requirement in spec/fence-migrate.md.
 * Why this module exists: the protocol says what happens; this says what must hold, in the same
 * language, so that every engine checks exactly these predicates.
 */
import {
  type Expr,
  type Model,
  type ProofHints,
  add,
  and,
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
  leadsToEach,
  lt,
  ne,
  not,
  option,
  or,
  ord,
  pre,
  Ref,
  some,
  stepProperty,
  unwrap,
} from 'mirrorcheck';
import { type FenceMigrateHandles, fenceMigrate } from './fenceMigrate.js';

export const fenceMigrateProperties = definePropertySet<FenceMigrateHandles>(
  fenceMigrate,
  (model) => {
    const h = model.handles;
    const { Page, Slot, pte, hca, blocked, inv, discard, mig, owner, data, latest, dma } = h;
    const inflight = (d: ReturnType<typeof ord>) => eq(dma.at(d).f('state'), 'inflight');
    // None of these reads the migration's step: each is stated from what the kernel must guarantee,
    // over the state the steps change (the PTE, the HCA table, the fence, frame ownership, data), so a
    // variant that drops or reorders steps cannot make one vacuous.
    const invOpen = (p: ReturnType<typeof ord>) => or(inv.at(p), ne(discard.at(p), 'idle'));
    // The frame that holds a page's data: the PTE frame, except once a migration that has not failed
    // has copied the page while its migration entry still keeps the CPU out: then the new frame
    // (Documentation/mm/hmm.rst lets the device use it before migrate_vma_finalize remaps the PTE).
    const dataFrame = (p: ReturnType<typeof ord>) =>
      ite(and(pte.at(p).f('migration'), mig.at(p).f('copied'), not(mig.at(p).f('failed'))), mig.at(p).f('to'), pte.at(p).f('frame'));
    // A translation the HCA can use: present and not blocked by a fence (a blocked entry translates
    // nothing; DMA stalls until the unblock and translates then).
    const usable = (p: ReturnType<typeof ord>) => and(isSome(hca.at(p)), not(blocked.at(p)));
    const props = [
      invariant(
        'mirror-coherent',
        'FM-R1',
        "whenever no invalidation covering a page is open, a translation the HCA can use for it points at the frame holding the page's data, which the CPU maps",
        forall(Page, (p) => implies(and(not(invOpen(p)), usable(p)), and(pte.at(p).f('present'), eq(unwrap(hca.at(p)), dataFrame(p))))),
      ),
      invariant(
        'fence-complete',
        'FM-R2',
        'once a page has been copied for a migration that has not failed, no DMA for the page is in flight to its old frame',
        forall(Page, (p) =>
          implies(
            and(mig.at(p).f('copied'), not(mig.at(p).f('failed'))),
            forall(Slot, (d) => not(and(inflight(d), eq(dma.at(d).f('page'), p), eq(dma.at(d).f('frame'), mig.at(p).f('from'))))),
          ),
        ),
      ),
      invariant(
        'no-dma-to-freed-frame',
        'FM-R3',
        'every in-flight DMA targets a frame still owned by the page it was issued for (not freed, not reused)',
        forall(Slot, (d) => implies(inflight(d), eq(owner.at(dma.at(d).f('frame')), some(dma.at(d).f('page'), option(Page))))),
      ),
      invariant(
        'no-translation-to-freed-frame',
        'FM-R3',
        'the HCA never has a usable translation of a page to a frame that page does not own',
        forall(Page, (p) => implies(usable(p), eq(owner.at(unwrap(hca.at(p))), some(p, option(Page))))),
      ),
      invariant(
        'no-lost-write',
        'FM-R4',
        'a page the CPU can access (a present PTE, not a migration entry) holds its latest completed write',
        forall(Page, (p) => implies(and(pte.at(p).f('present'), not(pte.at(p).f('migration'))), eq(data.at(pte.at(p).f('frame')), latest.at(p)))),
      ),
      stepProperty(model, 'no-stale-dma-read', 'FM-R5', "a DMA read returns the page's latest completed write", 'HcaCompleteDma', ({ d }) =>
        implies(not(pre(dma.at(d!).f('write'))), eq(pre(data.at(dma.at(d!).f('frame'))), pre(latest.at(dma.at(d!).f('page'))))),
      ),
    ];
    const covers = [
      cover(
        'migration-completes',
        'FM-C1',
        'a page ends up in a new frame with its migration finished',
        exists(Page, (p) => and(eq(mig.at(p).f('step'), 'idle'), ne(ord(pte.at(p).f('frame')), ord(p)))),
      ),
      cover(
        'dma-during-migration',
        'FM-C2',
        'DMA is in flight to a page while it is being migrated',
        exists(Slot, (d) => and(inflight(d), ne(mig.at(dma.at(d).f('page')).f('step'), 'idle'))),
      ),
      h.mode === 'fence'
        ? cover(
            'dma-stalls-on-fence',
            'FM-C3',
            'a DMA operation is issued to a blocked page and stalls',
            exists(Slot, (d) => eq(dma.at(d).f('state'), 'stalled')),
          )
        : cover(
            'dma-faults-during-migration',
            'FM-C3',
            'a DMA operation faults on a zapped page while the invalidation is open',
            exists(Slot, (d) => and(eq(dma.at(d).f('state'), 'faulting'), inv.at(dma.at(d).f('page')))),
          ),
    ];
    if (h.discards > 0 && h.migrations > 0) {
      covers.push(
        cover(
          'zap-during-migration',
          'FM-C5',
          'a concurrent zap (madvise(MADV_DONTNEED)) has an invalidation open on a page whose migration window is closed',
          exists(Page, (p) => and(ne(discard.at(p), 'idle'), ne(mig.at(p).f('step'), 'idle'), not(inv.at(p)))),
        ),
      );
    }
    if (h.failures > 0 && h.migrations > 0) {
      covers.push(
        cover(
          'migration-rolls-back',
          'FM-C6',
          'a migration that collected its page fails, and finalize will restore the source',
          exists(Page, (p) => and(mig.at(p).f('failed'), mig.at(p).f('held'))),
        ),
      );
    }
    if (h.migrations >= 2 && model.params.pages !== 1) {
      covers.push(
        cover(
          'frame-reuse',
          'FM-C4',
          'a page lives in a frame that another page owned at the start (freed, then reused)',
          exists(Page, (p) => and(lt(ord(pte.at(p).f('frame')), Page.size), ne(ord(pte.at(p).f('frame')), ord(p)))),
        ),
      );
    }
    // Liveness, checked under the fairness the rules declare (weakly fair driver, mm and HCA
    // completion steps; migrations, DMA issue and CPU writes are the environment's choice).
    const held = h.mode === 'fence' ? 'stalled' : 'faulting';
    const live = [
      leadsToEach(
        'held-dma-completes',
        'FM-L1',
        h.mode === 'fence'
          ? 'every DMA operation that stalls on a fence eventually completes'
          : 'every DMA operation that faults on a zapped translation eventually completes',
        Slot,
        (d) => [eq(dma.at(d).f('state'), held), eq(dma.at(d).f('state'), 'idle')],
      ),
      leadsToEach('every-migration-ends', 'FM-L2', 'every migration that starts eventually finishes (the page is idle again)', Page, (p) => [
        ne(mig.at(p).f('step'), 'idle'),
        eq(mig.at(p).f('step'), 'idle'),
      ]),
    ];
    if (h.mode === 'zap-and-fault') {
      live.push(
        leadsToEach('device-fault-resolved', 'FM-L3', 'every device fault is eventually resolved: the faulting operation gets a translation', Slot, (d) => [
          eq(dma.at(d).f('state'), 'faulting'),
          ne(dma.at(d).f('state'), 'faulting'),
        ]),
      );
    }
    return [...props, ...covers, ...live];
  },
  fenceMigrateProofHints,
);

/**
 * Strengthening invariants and the start condition of fence-migrate, for proofs (checker/smt).
 * Together with FM-R1..R5 they are inductive for the correct protocol in both modes, both step
 * orders and both fault handlers: each says where a page's migration stands and what that implies
 * for its PTE, its frames, the HCA entry, the fence, a concurrent zap and in-flight DMA. Unlike the
 * requirements they are written from the step sequence, so a variant that reorders steps gets the
 * facts of its own order; for a buggy variant they are not all true, and a proof rejects them. The
 * S-numbers are local to the proof.
 */
function fenceMigrateProofHints(model: Model<FenceMigrateHandles>): ProofHints {
  const h = model.handles;
  const { Page, Frame, Slot, pte, hca, blocked, inv, discard, mig, owner, data, latest, dma, migsLeft, discardsLeft, steps } = h;
  const varRef = (name: string): Ref | null => {
    const i = model.vars.findIndex((v) => v.name === name);
    const v = model.vars[i];
    return v ? new Ref({ varIdx: i, varName: name, path: [], type: v.type }) : null;
  };
  const stepIn = (p: Expr | Ref, names: readonly string[]) => or(...names.map((x) => eq(mig.at(p).f('step'), x)), false);
  // Steps pending up to and including x (x not yet done), and steps after x (x done).
  const upTo = (x: string) => (steps.includes(x as never) ? steps.slice(0, steps.indexOf(x as never) + 1) : []);
  const after = (x: string) => (steps.includes(x as never) ? steps.slice(steps.indexOf(x as never) + 1) : []);
  const between = (x: string, y: string) => after(x).filter((s) => upTo(y).includes(s));
  const idle = (p: Expr | Ref) => eq(mig.at(p).f('step'), 'idle');
  const m = (p: Expr | Ref, f: string) => mig.at(p).f(f);
  const someFrame = (x: Expr | Ref) => some(x, option(Frame));
  const ownedBy = (f: Expr | Ref, p: Expr | Ref) => eq(owner.at(f), some(p, option(Page)));
  const present = (p: Expr | Ref) => pte.at(p).f('present');
  const entry = (p: Expr | Ref) => pte.at(p).f('migration');
  // The frame holding the page's data (as in FM-R1).
  const dataFrame = (p: Expr | Ref) => ite(and(entry(p), m(p, 'copied'), not(m(p, 'failed'))), m(p, 'to'), pte.at(p).f('frame'));
  const fence = h.mode === 'fence';
  const discardIn = (p: Expr | Ref, xs: string[]) => or(...xs.map((x) => eq(discard.at(p), x)));
  // No DMA of the page can be in flight: drained, and new DMA is blocked (fence) or finds no
  // translation (zap) until the unblock (fence) or the end of the migration (zap).
  const quiet = fence ? between('drain', 'unblock') : after('drain');
  const strengthening = [
    invariant(
      'pte-frame-owned',
      'FM-S1',
      "a present PTE's frame is owned by its page; a migration entry implies a present PTE",
      forall(Page, (p) => and(implies(present(p), ownedBy(pte.at(p).f('frame'), p)), implies(entry(p), present(p)))),
    ),
    invariant(
      'migration-frames-owned',
      'FM-S2',
      'a migrating page owns its new frame until finalize, and its old one too while it holds it; the two differ',
      forall(Page, (p) =>
        and(
          implies(not(idle(p)), ne(m(p, 'from'), m(p, 'to'))),
          implies(stepIn(p, upTo('finalize')), ownedBy(m(p, 'to'), p)),
          implies(and(stepIn(p, upTo('finalize')), m(p, 'held')), ownedBy(m(p, 'from'), p)),
        ),
      ),
    ),
    invariant(
      'pte-follows-migration',
      'FM-S3',
      'before collect a present PTE maps the old frame; from collect to finalize the page is held under a migration entry, or zapped, or was never collected; after finalize a present PTE maps the new frame, or the old one if the migration failed',
      forall(Page, (p) =>
        and(
          implies(idle(p), and(not(entry(p)), not(m(p, 'copied')), not(m(p, 'held')), not(m(p, 'failed')), not(m(p, 'hit')))),
          implies(
            stepIn(p, upTo('collect')),
            and(not(entry(p)), not(m(p, 'held')), not(m(p, 'failed')), implies(present(p), eq(pte.at(p).f('frame'), m(p, 'from')))),
          ),
          implies(entry(p), and(stepIn(p, between('collect', 'finalize')), m(p, 'held'), eq(pte.at(p).f('frame'), m(p, 'from')))),
          implies(
            stepIn(p, between('collect', 'finalize')),
            and(implies(m(p, 'held'), or(entry(p), not(present(p)))), implies(not(m(p, 'held')), and(m(p, 'failed'), not(present(p))))),
          ),
          implies(
            stepIn(p, after('finalize')),
            and(not(entry(p)), implies(present(p), eq(pte.at(p).f('frame'), ite(m(p, 'failed'), m(p, 'from'), m(p, 'to'))))),
          ),
          implies(stepIn(p, between('collect', 'pages')), ne(m(p, 'held'), m(p, 'failed'))),
          eq(m(p, 'copied'), and(m(p, 'held'), stepIn(p, after('copy')))),
          implies(and(m(p, 'copied'), stepIn(p, upTo('pages'))), and(eq(data.at(m(p, 'from')), data.at(m(p, 'to'))), not(m(p, 'failed')))),
        ),
      ),
    ),
    invariant(
      'invalidation-open-while-migrating',
      'FM-S4',
      "the migration's invalidation is open from its start until collect",
      forall(Page, (p) => eq(inv.at(p), stepIn(p, upTo('collect')))),
    ),
    invariant(
      'blocked-while-fenced',
      'FM-S5',
      'DMA to a page is blocked exactly between its fence and its unblock',
      forall(Page, (p) => eq(blocked.at(p), fence ? stepIn(p, between('fence', 'unblock')) : false)),
    ),
    invariant(
      'zap-in-progress',
      'FM-S10',
      'a zap in progress has a present PTE; once its callback ran the HCA entry is empty; in fence mode a migration that overlaps the callback is marked hit, and one that is not hit keeps its PTE',
      forall(Page, (p) =>
        and(
          implies(ne(discard.at(p), 'idle'), present(p)),
          implies(discardIn(p, ['drain', 'clear']), isNone(hca.at(p))),
          ...(fence
            ? [
                implies(and(ne(discard.at(p), 'idle'), not(idle(p))), m(p, 'hit')),
                implies(m(p, 'hit'), or(ne(discard.at(p), 'idle'), not(present(p)))),
                implies(and(not(idle(p)), not(m(p, 'hit'))), and(present(p), implies(stepIn(p, after('collect')), m(p, 'held')))),
              ]
            : []),
        ),
      ),
    ),
    fence
      ? invariant(
          'hca-follows-migration',
          'FM-S6',
          'the HCA entry is the old frame until the update (empty once hit), then the new frame, the old one after a failure, or empty once hit; when idle, the PTE frame or empty',
          forall(Page, (p) =>
            and(
              implies(and(idle(p), present(p), eq(discard.at(p), 'idle')), eq(hca.at(p), someFrame(pte.at(p).f('frame')))),
              implies(and(idle(p), eq(discard.at(p), 'zap')), or(isNone(hca.at(p)), eq(hca.at(p), someFrame(pte.at(p).f('frame'))))),
              implies(and(idle(p), not(present(p))), isNone(hca.at(p))),
              implies(stepIn(p, upTo('update')), or(isNone(hca.at(p)), eq(hca.at(p), someFrame(m(p, 'from'))))),
              implies(and(stepIn(p, upTo('update')), not(m(p, 'hit'))), eq(hca.at(p), someFrame(m(p, 'from')))),
              implies(stepIn(p, after('update')), or(isNone(hca.at(p)), eq(hca.at(p), someFrame(ite(m(p, 'failed'), m(p, 'from'), m(p, 'to')))))),
              implies(and(stepIn(p, after('update')), not(m(p, 'hit'))), eq(hca.at(p), someFrame(ite(m(p, 'failed'), m(p, 'from'), m(p, 'to'))))),
              implies(and(m(p, 'hit'), isSome(hca.at(p))), eq(discard.at(p), 'zap')),
            ),
          ),
        )
      : invariant(
          'hca-follows-migration',
          'FM-S6',
          'the HCA entry is empty from the zap to the end of the migration, otherwise empty or the frame of a present, plain PTE',
          forall(Page, (p) =>
            and(
              implies(stepIn(p, after('zap')), isNone(hca.at(p))),
              implies(isSome(hca.at(p)), and(present(p), not(entry(p)), eq(hca.at(p), someFrame(pte.at(p).f('frame'))))),
            ),
          ),
        ),
    invariant(
      'usable-translation-is-data-frame',
      'FM-S11',
      "a translation the HCA can use points at the frame holding its page's data, which is present",
      forall(Page, (p) => implies(and(isSome(hca.at(p)), not(blocked.at(p))), and(present(p), eq(unwrap(hca.at(p)), dataFrame(p))))),
    ),
    invariant(
      'inflight-dma-targets-data-frame',
      'FM-S7',
      "in-flight DMA targets the frame holding its present page's data, and none is in flight while the page is quiet or its zap is clearing the PTE",
      forall(Slot, (d) => {
        const q = dma.at(d).f('page');
        return implies(
          eq(dma.at(d).f('state'), 'inflight'),
          and(present(q), eq(dma.at(d).f('frame'), dataFrame(q)), not(stepIn(q, quiet)), ne(discard.at(q), 'clear')),
        );
      }),
    ),
    invariant(
      'data-frame-holds-latest',
      'FM-S9',
      "the frame that holds a present page's data has its latest completed write",
      forall(Page, (p) => implies(present(p), eq(data.at(dataFrame(p)), latest.at(p)))),
    ),
  ];
  const seq = varRef('seq');
  const fault = varRef('fault');
  if (seq && fault) {
    const fh = (p: Expr) => fault.at(p);
    strengthening.push(
      invariant(
        'fault-handler-seq',
        'FM-S8',
        'the fault handler holds a seq no newer than the notifier; while it matches, no invalidation has started since read_begin and the snapshot is the frame of a present, plain PTE',
        forall(Page, (p) =>
          and(
            le(fh(p).f('seq'), seq.at(p)),
            le(add(add(seq.at(p), migsLeft), discardsLeft), h.migrations + h.discards),
            implies(and(ne(fh(p).f('stage'), 'idle'), eq(fh(p).f('seq'), seq.at(p))), and(not(inv.at(p)), eq(discard.at(p), 'idle'))),
            implies(
              and(eq(fh(p).f('stage'), 'commit'), eq(fh(p).f('seq'), seq.at(p)), fh(p).f('ok')),
              and(present(p), not(entry(p)), idle(p), eq(fh(p).f('frame'), pte.at(p).f('frame'))),
            ),
          ),
        ),
      ),
    );
  }
  const initCondition = and(
    forall(Page, (p) =>
      and(
        idle(p),
        present(p),
        not(entry(p)),
        not(inv.at(p)),
        not(blocked.at(p)),
        eq(discard.at(p), 'idle'),
        not(m(p, 'copied')),
        not(m(p, 'held')),
        not(m(p, 'failed')),
        not(m(p, 'hit')),
        eq(hca.at(p), someFrame(pte.at(p).f('frame'))),
        ownedBy(pte.at(p).f('frame'), p),
        eq(data.at(pte.at(p).f('frame')), latest.at(p)),
        ...(seq && fault ? [eq(fault.at(p).f('stage'), 'idle'), eq(seq.at(p), 0), eq(fault.at(p).f('seq'), 0)] : []),
      ),
    ),
    forall(Slot, (d) => eq(dma.at(d).f('state'), 'idle')),
  );
  return { strengthening, initCondition };
}
