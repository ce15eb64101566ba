/**
 * Proof hints for k-induction on `odp-mirror` (`prove odp-mirror`): invariants true in every
 * reachable state of the correct protocol which, with the safety properties, are 1-inductive. Why
 * this module exists: the properties state only the end of each causal chain (a returned callback
 * leaves the page clean; an install is allowed by the PTE); induction also needs the links: who
 * holds the lock, which UMR is in flight and who waits for it, what the sequence values and a work
 * item's snapshot are worth while its sequence still matches, and the retry budget. Each holds for
 * the correct protocol only; a bug variant breaks one of them or a property (spec/odp-mirror.md 5).
 */
import {
  type Expr,
  type Invariant,
  type Model,
  type Operand,
  type ProofHints,
  Ref,
  add,
  and,
  count,
  eq,
  exists,
  forall,
  implies,
  invariant,
  isNone,
  isSome,
  ite,
  le,
  lit,
  lt,
  mul,
  ne,
  not,
  or,
  ord,
} from 'mirrorcheck';
import type { OdpMirrorHandles } from './odpMirror.js';

export function odpMirrorProofHints(model: Model<OdpMirrorHandles>): ProofHints {
  const h = model.handles;
  const { Page, Inv, Interval, Handler, mmSeq, ivSeq, pte, inv, ulock, shadow, dev, tlb, umr, acc, fh, snap, odd, holderOf, handlerHolder, intervalOf } = h;
  const canonical = model.params.seq !== 'kernel';
  const INVS = model.params.invalidations as number;
  const P = h.params.pages;
  const H = h.params.handlers;
  const varRef = (name: string): Ref => {
    const i = model.vars.findIndex((v) => v.name === name);
    const v = model.vars[i];
    if (!v) throw new Error(`odp-mirror proof hints: no variable ${name}`);
    return new Ref({ varIdx: i, varName: name, path: [], type: v.type });
  };
  const invsLeft = varRef('invsLeft');
  const pcType = fh.at(0).f('pc').type;
  const pcs = pcType.kind === 'enum' ? pcType.values : [];
  const pcIs = (x: Expr, ...names: string[]) => or(...names.filter((n) => pcs.includes(n)).map((n) => eq(fh.at(x).f('pc'), n)), false);
  const stageIs = (i: Expr, ...names: string[]) => or(...names.map((n) => eq(inv.at(i).f('pc'), n)));
  const overlapping = (i: Expr) => ne(inv.at(i).f('event'), 'elsewhere');
  const handlers = Array.from({ length: H }, (_, x) => lit(x, Handler));
  const iv = (x: Expr) => fh.at(x).f('iv');
  const inInterval = (x: Expr, q: Expr) => eq(intervalOf(q), iv(x));
  const walked = (x: Expr, q: Expr) => isSome(snap.at(x).at(q).f('frame'));
  const page0 = lit(0, Page);
  const s = (x: Expr) => fh.at(x).f('s');
  const myIvSeq = (x: Expr) => ivSeq.at(iv(x));
  // A work item holds a sequence from read_begin (a stale one included) from its read_begin to its read_retry.
  const hasSeq = (x: Expr) => pcIs(x, 'sleep', 'exclStart', 'exclCallback', 'exclEnd', 'check', 'walk', 'lock', 'retry', 'unlock');
  const holdsMm = (x: Expr) => pcIs(x, 'lockEarly', 'begin', 'sleep', 'exclStart', 'exclCallback', 'exclEnd', 'check', 'walk', 'lock', 'retry', 'unlock');
  const awake = (x: Expr) => and(hasSeq(x), not(pcIs(x, 'sleep')));
  const matches = (x: Expr) => eq(s(x), myIvSeq(x));
  const sameEntry = (a: Ref, b: Ref) => and(eq(a.f('frame'), b.f('frame')), eq(a.f('write'), b.f('write')));
  const allowedBy = (e: Ref, q: Operand) => and(isSome(e.f('frame')), eq(e.f('frame'), pte.at(q).f('frame')), or(not(e.f('write')), pte.at(q).f('write')));
  // The pages the current callback of invalidator i covers: its range on its current interval.
  const covers = (i: Expr, q: Expr) => and(h.inRange(i, q), eq(intervalOf(q), inv.at(i).f('iv')));
  const protect = (i: Expr) => eq(inv.at(i).f('event'), 'protect');
  const downgrades = (i: Expr) => (h.params.downgrade ? protect(i) : lit(false));
  // What a callback leaves behind on a page it covers: nothing for the device, or no write.
  const revoked = (i: Expr, q: Expr, withShadow: boolean) =>
    ite(
      downgrades(i),
      and(not(dev.at(q).f('write')), not(tlb.at(q).f('write')), withShadow ? not(shadow.at(q).f('write')) : true),
      and(isNone(dev.at(q).f('frame')), isNone(tlb.at(q).f('frame')), withShadow ? isNone(shadow.at(q).f('frame')) : true),
    );
  const noAccessLeft = (i: Expr, q: Expr) =>
    forall(h.Slot, (d) => not(and(eq(acc.at(d).f('state'), 'inflight'), eq(acc.at(d).f('page'), q), or(not(downgrades(i)), ne(acc.at(d).f('op'), 'read')))));
  const ownRegionOpen = pcIs(lit(0, Handler), 'exclCallback', 'exclZap', 'exclWait', 'exclUnlock', 'exclEnd');
  const alive: Operand = h.mmLive ? eq(h.mmLive, true) : true;
  const ivHit = (i: Expr, j: Operand) => and(overlapping(i), le(ord(intervalOf(inv.at(i).f('lo'))), ord(j)), le(ord(j), ord(intervalOf(inv.at(i).f('hi')))));
  // The callback of interval j has yet to run in invalidator i's region (the exit's is never counted:
  // it cannot overlap a work item holding a sequence).
  const pendingOn = (i: Expr, j: Operand) =>
    and(
      ivHit(i, j),
      h.mmLive ? ne(inv.at(i).f('event'), 'release') : true,
      or(and(stageIs(i, 'lock'), le(ord(inv.at(i).f('iv')), ord(j))), and(stageIs(i, 'zap', 'wait', 'unlock'), lt(ord(inv.at(i).f('iv')), ord(j)))),
    );

  // lifecycle=1: the interval is in the notifier core (the tree, or the deferred list).
  const { mr, ivNode } = h;
  const ivIn: Expr | null = ivNode ? ne(ivNode, 'none') : null;

  // Kernel values: the mm sequence plus two per invalidation left (each may open an epoch) and one
  // while odd (the epoch's end is still to come).
  const epochsSpent = add(add(mmSeq, mul(2, invsLeft)), ite(odd(mmSeq), 1, 0));

  const strengthening: Invariant[] = [
    invariant(
      'odp-s0-stage-shapes',
      'ODP-S0',
      "every field has the value the stage implies: an idle invalidator or work item is all defaults; a callback's interval lies within its range; the sequence and retry count are back to 0 once read_retry has passed; an empty device, TLB, pfn-list or snapshot entry has no write bit; a UMR not in flight is reset",
      and(
        forall(Inv, (i) =>
          and(
            implies(
              stageIs(i, 'idle'),
              and(
                eq(inv.at(i).f('event'), 'clear'),
                eq(inv.at(i).f('lo'), page0),
                eq(inv.at(i).f('hi'), page0),
                eq(inv.at(i).f('iv'), lit(0, Interval)),
                not(inv.at(i).f('blockable')),
              ),
            ),
            implies(stageIs(i, 'lock', 'zap', 'wait', 'unlock', 'eagain', 'pte'), overlapping(i)),
            implies(not(overlapping(i)), and(eq(inv.at(i).f('lo'), page0), eq(inv.at(i).f('hi'), page0), stageIs(i, 'end'))),
            implies(stageIs(i, 'pte', 'end'), and(eq(inv.at(i).f('iv'), lit(0, Interval)), not(inv.at(i).f('blockable')))),
            le(ord(inv.at(i).f('lo')), ord(inv.at(i).f('hi'))),
            // The exit's range is everything; the others' at most `span` pages (one: a single page).
            or(
              h.params.span === 1 ? eq(inv.at(i).f('hi'), inv.at(i).f('lo')) : lt(ord(inv.at(i).f('hi')), add(ord(inv.at(i).f('lo')), h.params.span)),
              h.mmLive ? eq(inv.at(i).f('event'), 'release') : false,
            ),
            implies(
              stageIs(i, 'lock', 'zap', 'wait', 'unlock', 'eagain'),
              and(le(ord(intervalOf(inv.at(i).f('lo'))), ord(inv.at(i).f('iv'))), le(ord(inv.at(i).f('iv')), ord(intervalOf(inv.at(i).f('hi'))))),
            ),
            ...(h.mmLive
              ? [implies(eq(inv.at(i).f('event'), 'release'), and(eq(ord(inv.at(i).f('lo')), 0), eq(ord(inv.at(i).f('hi')), P - 1), not(alive)))]
              : []),
          ),
        ),
        ...handlers.map((x) =>
          and(
            implies(pcIs(x, 'idle'), and(eq(fh.at(x).f('slot'), lit(0, h.Slot)), eq(iv(x), lit(0, Interval)), eq(s(x), 0), eq(fh.at(x).f('tries'), 0))),
            implies(pcIs(x, 'map', 'post', 'wait', 'resume', 'fail'), and(eq(s(x), 0), eq(fh.at(x).f('tries'), 0))),
            ...(H > 1 && x === handlers[1]
              ? [and(eq(fh.at(x).f('slot'), lit(0, h.Slot)), not(pcIs(x, 'resume', 'fail', 'exclStart', 'exclCallback', 'exclEnd')))]
              : []),
          ),
        ),
        forall(Page, (q) =>
          and(
            ...[dev, tlb, shadow].map((t) => implies(isNone(t.at(q).f('frame')), not(t.at(q).f('write')))),
            ...handlers.map((x) => implies(isNone(snap.at(x).at(q).f('frame')), not(snap.at(x).at(q).f('write')))),
          ),
        ),
        implies(
          not(umr.f('busy')),
          and(
            eq(umr.f('kind'), 'update'),
            forall(Page, (q) => not(umr.f('pages').at(q))),
          ),
        ),
      ),
    ),
    invariant(
      'odp-s1-seq-values',
      'ODP-S1',
      'every interval sequence is odd and behind the mm sequence, or equal to it while the mm sequence is odd; canonical values: mm 2 or 3 (kernel values: the mm sequence grows by 2 per epoch, each epoch spends an invalidation)',
      and(
        forall(Interval, (j) => and(odd(ivSeq.at(j)), or(lt(ivSeq.at(j), mmSeq), and(eq(ivSeq.at(j), mmSeq), odd(mmSeq))))),
        le(2, mmSeq),
        ...(canonical ? [forall(Interval, (j) => le(1, ivSeq.at(j)))] : []),
        // (lifecycle=1: an insert into a partially excluded tree opens an epoch of its own, once)
        canonical
          ? le(mmSeq, 3)
          : le(h.mr ? add(epochsSpent, ite(eq(h.mr, 'absent'), 2, 0)) : epochsSpent, 2 + 2 * (INVS + (h.mmLive ? 1 : 0) + (h.mr ? 1 : 0))),
      ),
    ),
    invariant(
      'odp-s2-open-region-odd',
      'ODP-S2',
      "while a region overlapping an interval is open (an invalidator past its start, or the fault handler's own exclusive region) the mm sequence is odd: only the last end makes it even",
      implies(
        and(
          // lifecycle=1: a region opened while the interval was not in the tree hit nothing; once the
          // interval is in the core (inserted, or still there), the insert made the sequence odd.
          ivIn ?? true,
          or(
            exists(Inv, (i) => and(ne(inv.at(i).f('pc'), 'idle'), overlapping(i))),
            ownRegionOpen,
          ),
        ),
        odd(mmSeq),
      ),
    ),
    invariant(
      'odp-s3-callback-set-seq',
      'ODP-S3',
      "once a callback has called set_seq in a still-open region, its interval's sequence equals the (odd) mm sequence: set_seq copied it, and the mm sequence changes only at the last end",
      forall(Inv, (i) =>
        forall(Interval, (j) =>
          implies(
            and(
              ivHit(i, j),
              or(
                ivIn ? and(ivIn, stageIs(i, 'pte', 'end')) : stageIs(i, 'pte', 'end'),
                and(stageIs(i, 'zap', 'wait', 'unlock', 'eagain'), le(ord(j), ord(inv.at(i).f('iv')))),
                and(stageIs(i, 'lock'), lt(ord(j), ord(inv.at(i).f('iv')))),
              ),
            ),
            eq(ivSeq.at(j), mmSeq),
          ),
        ),
      ),
    ),
    invariant(
      'odp-s4-handler-seq',
      'ODP-S4',
      "a work item holds no sequence before read_begin; after it, its sequence is odd and not newer than its interval's; awake with a matching sequence, no callback has run on its interval in the open epoch (read_begin sleeps otherwise)",
      and(
        ...handlers.map((x) =>
          and(
            implies(not(hasSeq(x)), eq(s(x), 0)),
            implies(hasSeq(x), and(odd(s(x)), le(s(x), myIvSeq(x)))),
            implies(and(awake(x), matches(x)), ne(myIvSeq(x), mmSeq)),
            // The unlock after a collision: read_retry saw the sequence move.
            implies(pcIs(x, 'unlock'), not(matches(x))),
          ),
        ),
      ),
    ),
    invariant(
      'odp-s5-snapshot-current',
      'ODP-S5',
      "a work item's snapshot holds only pages of its interval, only those already walked; while its sequence matches, each of them names the frame the PTE still maps with no more write permission (PTEs change only after a callback, which would have moved the sequence); outside the walk and the locked commit it holds nothing",
      and(
        ...handlers.map((x) =>
          forall(Page, (q) =>
            and(
              implies(or(not(inInterval(x, q)), pcIs(x, 'idle', 'mmget', 'post', 'wait', 'resume', 'fail')), isNone(snap.at(x).at(q).f('frame'))),
              implies(and(inInterval(x, q), pcIs(x, 'map')), allowedBy(snap.at(x).at(q), q)),
              implies(pcIs(x, 'lockEarly', 'begin', 'sleep', 'exclStart', 'exclCallback', 'exclEnd'), not(walked(x, q))),
              // The walk takes its interval's pages in order: the pages walked are a prefix of it.
              implies(
                pcIs(x, 'check', 'walk'),
                and(
                  implies(walked(x, q), implies(matches(x), allowedBy(snap.at(x).at(q), q))),
                  forall(Page, (r) => implies(and(inInterval(x, r), lt(ord(r), ord(q)), walked(x, q)), walked(x, r))),
                ),
              ),
              implies(
                and(inInterval(x, q), pcIs(x, 'lock', 'retry', 'unlock')),
                and(isSome(snap.at(x).at(q).f('frame')), implies(matches(x), allowedBy(snap.at(x).at(q), q))),
              ),
            ),
          ),
        ),
      ),
    ),
    invariant(
      'odp-s6-lock-owner',
      'ODP-S6',
      'the driver lock is held by a work item exactly from its read_retry to its unlock, and by an invalidator exactly from its lock to its unlock',
      and(
        ...handlers.map((x) => eq(eq(ulock, handlerHolder(x)), pcIs(x, 'retry', 'unlock', 'map', 'post', 'wait'))),
        forall(Inv, (i) => eq(eq(ulock, holderOf(i)), stageIs(i, 'zap', 'wait', 'unlock', 'eagain'))),
      ),
    ),
    invariant(
      'odp-s7-umr-owner',
      'ODP-S7',
      "a UMR is in flight only while its poster (the lock holder) waits for it, and it is the one that poster posted: a callback's zap or downgrade of the pages it covers, a work item's update of its interval",
      and(
        implies(
          umr.f('busy'),
          or(
            exists(Inv, (i) => stageIs(i, 'wait')),
            ...handlers.map((x) => pcIs(x, 'wait')),
          ),
        ),
        forall(Inv, (i) =>
          and(
            implies(stageIs(i, 'zap'), not(umr.f('busy'))),
            implies(
              and(stageIs(i, 'wait'), umr.f('busy')),
              and(
                h.params.downgrade ? ite(downgrades(i), eq(umr.f('kind'), 'downgrade'), eq(umr.f('kind'), 'zap')) : eq(umr.f('kind'), 'zap'),
                forall(Page, (q) => eq(umr.f('pages').at(q), covers(i, q))),
              ),
            ),
          ),
        ),
        ...handlers.map((x) =>
          and(
            implies(pcIs(x, 'post'), not(umr.f('busy'))),
            implies(
              and(pcIs(x, 'wait'), umr.f('busy')),
              and(
                eq(umr.f('kind'), 'update'),
                forall(Page, (q) => eq(umr.f('pages').at(q), inInterval(x, q))),
              ),
            ),
          ),
        ),
      ),
    ),
    invariant(
      'odp-s8-revoked-in-callback',
      'ODP-S8',
      'inside a callback, once its zap has completed (or there was nothing to zap) the pages it covers are revoked on the device and no access it revokes is left in flight; the pfn list follows at the unmap',
      forall(Inv, (i) =>
        forall(Page, (q) =>
          and(
            implies(and(covers(i, q), or(stageIs(i, 'unlock'), and(stageIs(i, 'wait'), not(umr.f('busy'))))), and(revoked(i, q, false), noAccessLeft(i, q))),
            implies(and(covers(i, q), stageIs(i, 'unlock')), revoked(i, q, true)),
            // A downgrade keeps the frame: the table and the pfn list differ only in the write bit.
            implies(and(covers(i, q), downgrades(i), stageIs(i, 'wait', 'unlock')), eq(dev.at(q).f('frame'), shadow.at(q).f('frame'))),
          ),
        ),
      ),
    ),
    invariant(
      'odp-s9-device-follows-pte',
      'ODP-S9',
      "every device and pfn-list entry names the frame the PTE maps, with no more write permission; the device table equals the pfn list except where a work item's update or a callback's completed zap is still to be matched; a TLB entry equals its table entry; a work item past read_retry has no callback run on its interval since",
      and(
        forall(Page, (q) =>
          and(
            implies(isSome(dev.at(q).f('frame')), allowedBy(dev.at(q), q)),
            implies(isSome(shadow.at(q).f('frame')), allowedBy(shadow.at(q), q)),
            or(
              sameEntry(dev.at(q), shadow.at(q)),
              ...handlers.map((x) => and(or(pcIs(x, 'post'), and(pcIs(x, 'wait'), umr.f('busy'))), inInterval(x, q))),
              exists(Inv, (i) => and(stageIs(i, 'wait'), not(umr.f('busy')), covers(i, q))),
            ),
            or(isNone(tlb.at(q).f('frame')), sameEntry(tlb.at(q), dev.at(q))),
          ),
        ),
        ...handlers.map((x) =>
          implies(
            pcIs(x, 'map', 'post', 'wait'),
            forall(Inv, (i) => forall(Page, (q) => implies(inInterval(x, q), not(h.calledBack(i, q))))),
          ),
        ),
        // Past its DMA map a work item's interval is mapped in full (from its complete snapshot).
        ...handlers.map((x) =>
          implies(
            pcIs(x, 'post', 'wait'),
            forall(Page, (q) => implies(inInterval(x, q), isSome(shadow.at(q).f('frame')))),
          ),
        ),
      ),
    ),
    invariant(
      'odp-s10-handler-slot-faulted',
      'ODP-S10',
      "while the fault handler works on a fault, the access it serves is faulted, on a page of the handler's interval; it fails a fault only when the mm has exited",
      and(
        implies(
          not(pcIs(lit(0, Handler), 'idle')),
          and(
            eq(acc.at(fh.at(0).f('slot')).f('state'), 'faulted'),
            eq(intervalOf(acc.at(fh.at(0).f('slot')).f('page')), iv(lit(0, Handler))),
            implies(pcIs(lit(0, Handler), 'fail'), not(alive)),
          ),
        ),
        // Once the mm has exited no work item holds a reference on it (exit_mmap waits for none: it
        // runs only when there is none, and mmget_not_zero fails afterwards).
        implies(not(alive), and(...handlers.map((x) => not(holdsMm(x))))),
        // Pages map distinct frames.
        forall(Page, (p) => forall(Page, (q) => implies(and(ne(p, q), isSome(pte.at(p).f('frame'))), ne(pte.at(p).f('frame'), pte.at(q).f('frame'))))),
      ),
    ),
    invariant(
      'odp-s11-retry-budget',
      'ODP-S11',
      'for each work item: retries taken, plus invalidations not yet started, plus callbacks on its interval not yet run, plus one for a collision it has yet to notice, never exceed the invalidations of a run: each retry is paid for by a distinct callback, so the budget (retries >= invalidations) is never exhausted',
      and(
        // Every invalidation started (the exit apart) spent one of the run's.
        le(
          add(
            invsLeft,
            count(Inv, (i) => and(ne(inv.at(i).f('pc'), 'idle'), h.mmLive ? ne(inv.at(i).f('event'), 'release') : true)),
          ),
          INVS,
        ),
        ...handlers.map((x) =>
          le(
            add(
              add(
                add(fh.at(x).f('tries'), invsLeft),
                count(Inv, (i) => pendingOn(i, iv(x))),
              ),
              ite(and(hasSeq(x), not(matches(x))), 1, 0),
            ),
            INVS,
          ),
        ),
      ),
    ),
  ];
  if (mr && ivNode) {
    const rmSeq = varRef('rmSeq');
    const quiet = and(
      forall(Page, (q) => and(isNone(dev.at(q).f('frame')), isNone(tlb.at(q).f('frame')), isNone(shadow.at(q).f('frame')))),
      ...handlers.map((x) => pcIs(x, 'idle')),
      forall(h.Slot, (d) => eq(acc.at(d).f('state'), 'idle')),
    );
    strengthening.push(
      invariant(
        'odp-s12-interval-life',
        'ODP-S12',
        "the MR's life and the interval's place in the core agree: absent, nothing is in the core and nothing mirrored; usable or revoked, the interval is in the tree or its insert deferred; a deferred insert or removal waits for an odd sequence to end, and a deferred insert already has it; remove waits on the sequence it read while the removal is deferred, and on a changed one after; outside the usable MR the device, the pfn list and the work items are idle",
        and(
          implies(eq(mr, 'absent'), and(eq(ivNode, 'none'), eq(rmSeq, 1))),
          implies(or(eq(mr, 'usable'), eq(mr, 'revoked')), and(or(eq(ivNode, 'tree'), eq(ivNode, 'deferIns')), eq(rmSeq, 1))),
          implies(
            eq(mr, 'removing'),
            // (the value read is behind for good once the final end has moved it: canonical 1)
            or(and(eq(ivNode, 'deferRem'), eq(rmSeq, mmSeq)), and(eq(ivNode, 'none'), canonical ? eq(rmSeq, 1) : lt(rmSeq, mmSeq))),
          ),
          implies(eq(mr, 'freed'), and(eq(ivNode, 'none'), eq(rmSeq, 1))),
          implies(eq(ivNode, 'deferIns'), and(odd(mmSeq), eq(ivSeq.at(0), mmSeq))),
          implies(eq(ivNode, 'deferRem'), odd(mmSeq)),
          implies(ne(mr, 'usable'), quiet),
          // Callbacks run only on an interval in the tree.
          implies(
            not(or(eq(ivNode, 'tree'), eq(ivNode, 'deferRem'))),
            forall(Inv, (i) => not(stageIs(i, 'lock', 'zap', 'wait', 'unlock', 'eagain'))),
          ),
          // With its insert deferred, nothing is mirrored yet: read_begin sleeps on the odd sequence
          // the interval got, until the final end applies the insert.
          implies(
            eq(ivNode, 'deferIns'),
            and(
              forall(Page, (q) => and(isNone(dev.at(q).f('frame')), isNone(tlb.at(q).f('frame')), isNone(shadow.at(q).f('frame')))),
              not(umr.f('busy')),
              ...handlers.map((x) => and(pcIs(x, 'idle', 'begin', 'sleep'), implies(pcIs(x, 'sleep'), eq(s(x), mmSeq)))),
            ),
          ),
          ...(canonical ? [or(eq(rmSeq, 1), eq(rmSeq, 3))] : []),
        ),
      ),
    );
  }

  // The start, without index literals beyond the first (for the proof for every size): every page
  // mapped, writable, to a frame of its own; nothing mirrored, open, posted or in flight.
  const empty = (t: Ref, p: Expr) => and(isNone(t.at(p).f('frame')), not(t.at(p).f('write')));
  const initCondition = and(
    eq(mmSeq, 2),
    forall(Interval, (j) => eq(ivSeq.at(j), 1)),
    eq(h.active, 0),
    eq(invsLeft, INVS),
    eq(ulock, 'free'),
    h.mmLive ? eq(h.mmLive, true) : true,
    ...handlers.map((x) =>
      and(
        pcIs(x, 'idle'),
        eq(fh.at(x).f('slot'), lit(0, h.Slot)),
        eq(iv(x), lit(0, Interval)),
        eq(s(x), 0),
        eq(fh.at(x).f('tries'), 0),
        forall(Page, (q) => empty(snap.at(x), q)),
      ),
    ),
    forall(Page, (p) => and(isSome(pte.at(p).f('frame')), pte.at(p).f('write'), ...[dev, tlb, shadow].map((t) => empty(t, p)))),
    forall(Page, (p) => forall(Page, (q) => implies(ne(p, q), ne(pte.at(p).f('frame'), pte.at(q).f('frame'))))),
    forall(Inv, (i) =>
      and(
        stageIs(i, 'idle'),
        eq(inv.at(i).f('event'), 'clear'),
        eq(inv.at(i).f('lo'), page0),
        eq(inv.at(i).f('hi'), page0),
        eq(inv.at(i).f('iv'), lit(0, Interval)),
        not(inv.at(i).f('blockable')),
      ),
    ),
    forall(h.Slot, (d) => eq(acc.at(d).f('state'), 'idle')),
    forall(h.Frame, (f) => not(h.dirty.at(f))),
    not(umr.f('busy')),
    eq(umr.f('kind'), 'update'),
    forall(Page, (q) => not(umr.f('pages').at(q))),
    // lifecycle=1: no MR yet, the interval in no structure, no remover waiting.
    ...(h.mr && h.ivNode ? [eq(h.mr, 'absent'), eq(h.ivNode, 'none'), eq(varRef('rmSeq'), 1)] : []),
  );
  // Kept at their built size: the invalidators (one lock-holder value each, and start-end-paired
  // counts them), the intervals and the work items (a few, each named by its literal).
  return { strengthening, initCondition, fixedIndexes: ['Inv', 'Interval', 'Handler'] };
}
