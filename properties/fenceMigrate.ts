/**
 * Properties of `fence-migrate`, each citing its requirement in spec/fence-migrate.md.
 * Why this module exists: the protocol says what happens; this says what must hold, in the same
 * language, so that every engine checks exactly these predicates.
 */
import { and, eq, exists, forall, implies, ite, isNone, isSome, lt, ne, not, or, ord, pre, some, unwrap } from '../model/lang/expr.js';
import { option } from '../model/lang/types.js';
import { type FenceMigrateHandles, fenceMigrate } from '../model/protocols/fenceMigrate/fenceMigrate.js';
import { cover, definePropertySet, invariant, leadsToEach, stepProperty } from './property.js';

export const fenceMigrateProperties = definePropertySet<FenceMigrateHandles>(fenceMigrate, (model) => {
  const h = model.handles;
  const { Page, Frame, Slot, pte, hca, inv, mig, owner, data, latest, dma } = h;
  // The fence has returned in the steps after 'drain' (none when the variant never fences).
  const afterDrain = h.steps.includes('drain') ? h.steps.slice(h.steps.indexOf('drain') + 1) : [];
  const fenceReturned = (p: ReturnType<typeof ord>) => or(...afterDrain.map((s) => eq(mig.at(p).f('step'), s)), false);
  const inflight = (d: ReturnType<typeof ord>) => eq(dma.at(d).f('state'), 'inflight');
  // Where the page's data lives: the PTE frame, except between the copy and the remap, when a
  // migration entry blocks the CPU and the new frame already holds the data (the order of
  // Documentation/mm/hmm.rst may update and unblock the device before the CPU PTE is switched).
  const afterCopy = h.steps.includes('copy') ? h.steps.slice(h.steps.indexOf('copy') + 1) : [];
  const copied = (p: ReturnType<typeof ord>) => or(...afterCopy.map((s) => eq(mig.at(p).f('step'), s)), false);
  const current = (p: ReturnType<typeof ord>) => ite(and(pte.at(p).f('migration'), copied(p)), mig.at(p).f('to'), pte.at(p).f('frame'));
  const props = [
    invariant(
      'mirror-coherent', 'FM-R1',
      'whenever no invalidation covering a page is open, the HCA translates it to the PTE frame or not at all',
      forall(Page, (p) => implies(not(inv.at(p)), or(isNone(hca.at(p)), eq(hca.at(p), some(pte.at(p).f('frame'), option(Frame)))))),
    ),
    invariant(
      'fence-complete', 'FM-R2',
      'once the fence has returned, no DMA to the old frame is in flight until the migration ends',
      forall(Page, (p) =>
        implies(fenceReturned(p), forall(Slot, (d) => not(and(inflight(d), eq(dma.at(d).f('page'), p), eq(dma.at(d).f('frame'), mig.at(p).f('from'))))))),
    ),
    invariant(
      'no-dma-to-freed-frame', 'FM-R3',
      'every in-flight DMA targets a frame still owned by the page it was issued for (not freed, not reused)',
      forall(Slot, (d) => implies(inflight(d), eq(owner.at(dma.at(d).f('frame')), some(dma.at(d).f('page'), option(Page))))),
    ),
    invariant(
      'no-translation-to-freed-frame', 'FM-R3',
      'the HCA never translates a page to a frame that page does not own',
      forall(Page, (p) => implies(isSome(hca.at(p)), eq(owner.at(unwrap(hca.at(p))), some(p, option(Page))))),
    ),
    invariant(
      'no-lost-write', 'FM-R4',
      "the frame that holds the page's data (the PTE frame; the new frame once copied under a migration entry) has its latest completed write",
      forall(Page, (p) => eq(data.at(current(p)), latest.at(p))),
    ),
    stepProperty(
      model, 'no-stale-dma-read', 'FM-R5',
      "a DMA read returns the page's latest completed write",
      'HcaCompleteDma',
      ({ d }) => implies(not(pre(dma.at(d!).f('write'))), eq(pre(data.at(dma.at(d!).f('frame'))), pre(latest.at(dma.at(d!).f('page'))))),
    ),
  ];
  const covers = [
    cover('migration-completes', 'FM-C1', 'a page ends up in a new frame with its migration finished',
      exists(Page, (p) => and(eq(mig.at(p).f('step'), 'idle'), ne(ord(pte.at(p).f('frame')), ord(p))))),
    cover('dma-during-migration', 'FM-C2', 'DMA is in flight to a page while it is being migrated',
      exists(Slot, (d) => and(inflight(d), ne(mig.at(dma.at(d).f('page')).f('step'), 'idle')))),
    h.mode === 'fence'
      ? cover('dma-stalls-on-fence', 'FM-C3', 'a DMA operation is issued to a blocked page and stalls',
        exists(Slot, (d) => eq(dma.at(d).f('state'), 'stalled')))
      : cover('dma-faults-during-migration', 'FM-C3', 'a DMA operation faults on a zapped page while the invalidation is open',
        exists(Slot, (d) => and(eq(dma.at(d).f('state'), 'faulting'), inv.at(dma.at(d).f('page'))))),
  ];
  if (h.migrations >= 2 && model.params.pages !== 1) {
    covers.push(cover('frame-reuse', 'FM-C4', "a page lives in a frame that another page owned at the start (freed, then reused)",
      exists(Page, (p) => and(lt(ord(pte.at(p).f('frame')), Page.size), ne(ord(pte.at(p).f('frame')), ord(p))))));
  }
  // Liveness, checked under the fairness the rules declare (weakly fair driver, mm and HCA
  // completion steps; migrations, DMA issue and CPU writes are the environment's choice).
  const held = h.mode === 'fence' ? 'stalled' : 'faulting';
  const live = [
    leadsToEach('held-dma-completes', 'FM-L1',
      h.mode === 'fence'
        ? 'every DMA operation that stalls on a fence eventually completes'
        : 'every DMA operation that faults on a zapped translation eventually completes',
      Slot, (d) => [eq(dma.at(d).f('state'), held), eq(dma.at(d).f('state'), 'idle')]),
    leadsToEach('every-migration-ends', 'FM-L2', 'every migration that starts eventually finishes (the page is idle again)',
      Page, (p) => [ne(mig.at(p).f('step'), 'idle'), eq(mig.at(p).f('step'), 'idle')]),
  ];
  if (h.mode === 'zap-and-fault') {
    live.push(leadsToEach('device-fault-resolved', 'FM-L3', 'every device fault is eventually resolved: the faulting operation gets a translation',
      Slot, (d) => [eq(dma.at(d).f('state'), 'faulting'), ne(dma.at(d).f('state'), 'faulting')]));
  }
  return [...props, ...covers, ...live];
});
