/**
 * Properties of `dmirror`, each citing its requirement in spec/dmirror.md, and the proof hints that
 * make them inductive. Why this module exists: the protocol says what the driver does; this says what
 * the kernel requires of it, so that each variant is caught by a requirement, not by a test written
 * for that variant.
 */
import {
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
  le,
  ne,
  not,
  option,
  or,
  some,
  stepProperty,
  unwrap,
} from 'mirrorcheck';
import { type DmirrorHandles, dmirror } from './dmirror.js';

export const dmirrorProperties = definePropertySet<DmirrorHandles>(
  dmirror,
  (model) => {
    const { Page, pte, owner, pt, fault, mniSeq, cur } = model.handles;
    return [
      invariant(
        'device-table-not-stale',
        'DM-R1',
        'every device table entry translates a page to the frame the CPU page table maps it to, a frame the page still owns (the table holds no page reference)',
        forall(Page, (p) => implies(isSome(pt.at(p)), and(eq(pt.at(p), pte.at(p)), eq(owner.at(unwrap(pt.at(p))), some(p, option(Page)))))),
      ),
      stepProperty(
        model,
        'device-reads-mapped-frame',
        'DM-R2',
        "a device read returns the page's data from the frame the CPU maps it to",
        'DeviceRead',
        ({ p }) => eq(pt.at(p!), pte.at(p!)),
      ),
      cover(
        'refault-after-invalidation',
        'DM-C1',
        'after an invalidation the device faults a page in again',
        and(
          ne(cur, 0),
          exists(Page, (p) => isSome(pt.at(p))),
        ),
      ),
      cover(
        'fault-collides-with-invalidation',
        'DM-C2',
        'the fault handler reaches read_retry after an invalidation changed the interval seq (the collision the retry exists for)',
        and(eq(fault.f('stage'), 'lock'), ne(mniSeq, fault.f('seq'))),
      ),
    ];
  },
  (model) => {
    const { Page, Frame, pte, owner, pt, mutex, mm, cur, mniSeq, fault } = model.handles;
    const mmIn = (...stages: string[]) => or(...stages.map((s) => eq(mm.f('stage'), s)));
    const faultIn = (...stages: string[]) => or(...stages.map((s) => eq(fault.f('stage'), s)));
    return {
      strengthening: [
        invariant(
          'mapped-frames-owned',
          'DM-R1',
          'a page the CPU maps owns its frame',
          forall(Page, (p) => implies(isSome(pte.at(p)), eq(owner.at(unwrap(pte.at(p))), some(p, option(Page))))),
        ),
        invariant(
          'owned-frames-mapped',
          'DM-R1',
          'an owned frame is the one its page maps (no two pages share a frame)',
          forall(Frame, (f) => implies(isSome(owner.at(f)), eq(pte.at(unwrap(owner.at(f))), some(f, option(Frame))))),
        ),
        invariant(
          'mutex-held-to-store',
          'DM-R1',
          'the fault handler holds dmirror->mutex exactly while it stores',
          and(implies(mutex, faultIn('store')), implies(faultIn('store'), mutex)),
        ),
        invariant(
          'seq-follows-invalidation',
          'DM-R1',
          'the interval seq is the current invalidation once its callback has run, the one before until then',
          and(implies(mmIn('idle', 'unmap', 'end'), eq(mniSeq, cur)), implies(mmIn('callback'), eq(add(mniSeq, 1), cur))),
        ),
        invariant(
          'fault-seq-not-newer',
          'DM-R1',
          'read_begin returned a seq no newer than the interval seq',
          implies(faultIn('walk', 'lock'), le(fault.f('seq'), mniSeq)),
        ),
        invariant(
          'no-fresh-seq-during-invalidation',
          'DM-R1',
          'once the callback of an open invalidation has run, no fault in progress holds the current seq (read_begin slept)',
          implies(and(mmIn('unmap', 'end'), faultIn('walk', 'lock')), ne(fault.f('seq'), mniSeq)),
        ),
        invariant(
          'fresh-snapshot',
          'DM-R1',
          'a snapshot whose seq is still current is the PTE',
          implies(and(faultIn('lock'), eq(fault.f('seq'), mniSeq)), eq(pte.at(fault.f('page')), some(fault.f('frame'), option(Frame)))),
        ),
        invariant(
          'store-is-fresh',
          'DM-R1',
          'what the fault handler stores is the PTE, and no invalidation callback has run since its read_retry',
          implies(faultIn('store'), and(eq(pte.at(fault.f('page')), some(fault.f('frame'), option(Frame))), mmIn('idle', 'callback'))),
        ),
        invariant(
          'invalidated-page-unmirrored',
          'DM-R1',
          'after the callback the invalidated page has no device entry until the invalidation ends',
          implies(mmIn('unmap', 'end'), isNone(pt.at(mm.f('page')))),
        ),
        invariant(
          'invalidated-page-mapped',
          'DM-R1',
          'the page being invalidated stays mapped until it is unmapped',
          implies(mmIn('callback', 'unmap'), isSome(pte.at(mm.f('page')))),
        ),
      ],
      // The start states at every size (for prove --unbounded): every page mapped to a frame it owns
      // alone, nothing mirrored, nothing in progress.
      initCondition: and(
        forall(Page, (p) => and(isSome(pte.at(p)), eq(owner.at(unwrap(pte.at(p))), some(p, option(Page))), isNone(pt.at(p)))),
        forall(Frame, (f) => implies(isSome(owner.at(f)), eq(pte.at(unwrap(owner.at(f))), some(f, option(Frame))))),
        not(mutex),
        mmIn('idle'),
        faultIn('idle'),
        eq(cur, 0),
        eq(mniSeq, 0),
      ),
    };
  },
);
