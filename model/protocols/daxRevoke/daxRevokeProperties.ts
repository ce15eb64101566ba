/**
 * Properties of `dax-revoke`, each citing its requirement in spec/dax-revoke.md (DAX-Rn), which
 * cites the kernel guarantees of digest section 7 (S1, S5, L3, L5). Why this module exists: the
 * protocol says what the filesystem, the P2PDMA provider, GUP, the ODP MR and the device do; this
 * says what must hold whatever the interleaving: memory is given back only once nothing can reach
 * it, and giving it back always finishes.
 */
import {
  type Expr,
  type Invariant,
  type Model,
  type ProofHints,
  type Property,
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
  leadsTo,
  leadsToEach,
  ne,
  not,
  or,
  ord,
  Ref,
  some,
  unwrap,
} from 'mirrorcheck';
import { type DaxRevokeHandles, daxRevoke } from './daxRevoke.js';

export const daxRevokeProperties = definePropertySet<DaxRevokeHandles>(
  daxRevoke,
  (model) => {
    const h = model.handles;
    const { Page, Block, pte, mem, inv, odp, odpDma, gup, pinMap, pinDma, pinMr, revoke, vma } = h;
    const dmaOn = (r: Ref, p: Expr) => and(r.f('busy'), eq(r.f('page'), p));
    // Every DMA in flight, through the ODP MR, a GUP pin or the pinned MR, targets the block that
    // still backs the page it was issued for.
    const dmaBacked = (r: Ref) => implies(r.f('busy'), h.backs(r.f('block'), r.f('page')));
    const props: Property[] = [
      invariant(
        'no-dma-to-freed-memory',
        'DAX-R1',
        'every DMA in flight (through the ODP MR, a GUP pin or a pinned MR) targets memory that still backs the page it was issued for: never a freed or reused block, never a removed BAR page',
        and(dmaBacked(odpDma), dmaBacked(gup), dmaBacked(pinDma)),
      ),
      invariant(
        'no-translation-to-freed-memory',
        'DAX-R2',
        'every CPU PTE and every device translation (the ODP mirror, a pinned MR) maps the memory that still backs its page',
        forall(Page, (p) =>
          and(
            implies(isSome(pte.at(p)), h.backs(unwrap(pte.at(p)), p)),
            implies(isSome(odp.at(p)), h.backs(unwrap(odp.at(p)), p)),
            implies(isSome(pinMap.at(p)), h.backs(unwrap(pinMap.at(p)), p)),
          ),
        ),
      ),
      invariant(
        'freed-only-when-unpinned',
        'DAX-R3',
        'memory is given back only once no pin (short-term GUP or long-term) holds a reference to it',
        forall(Block, (f) => implies(h.given(f), not(h.busy(f)))),
      ),
      invariant(
        'only-revocable-references',
        'DAX-R4',
        'every reference to fs-dax or P2P memory is revocable: mirrored through a notifier (ODP) or short-lived (GUP without FOLL_LONGTERM); no long-term pin exists',
        forall(Page, (p) => isNone(pinMap.at(p))),
      ),
      invariant(
        'invalidation-complete',
        'DAX-R5',
        'once the notifier callbacks for a page have returned (the PTE is about to go), the ODP MR has no mirror of it and no DMA to it in flight',
        forall(Page, (p) => implies(eq(inv.at(p), 'pte'), and(isNone(odp.at(p)), not(dmaOn(odpDma, p))))),
      ),
    ];
    const covers: Property[] = [
      h.fsdax
        ? cover(
            'revoked',
            'DAX-C1',
            'a hole punch frees a block',
            exists(Block, (f) => eq(mem.at(f), 'free')),
          )
        : cover('revoked', 'DAX-C1', 'the P2P memory is removed', eq(revoke, 'done')),
      cover('odp-dma-during-revoke', 'DAX-C2', 'the ODP MR has DMA in flight while the memory is being revoked', and(odpDma.f('busy'), ne(revoke, 'idle'))),
      cover('waited-for-pin', 'DAX-C3', 'the revoker waits for a short-term pin to drop', and(eq(revoke, 'wait'), gup.f('busy'))),
      cover('longterm-refused', 'DAX-C4', 'a long-term pinned registration is refused', eq(pinMr, 'refused')),
      cover('pinned-after-munmap', 'DAX-C5', 'a page stays pinned for DMA after its VMA is gone', and(not(vma), gup.f('busy'))),
    ];
    if (h.fsdax)
      covers.push(
        cover(
          'block-reused',
          'DAX-C6',
          'a freed block is reused by another file',
          exists(Block, (f) => eq(mem.at(f), 'other')),
        ),
      );
    const live: Property[] = [
      h.fsdax
        ? leadsTo('revoke-completes', 'DAX-R6', 'a started hole punch eventually completes (the block is freed)', ne(revoke, 'idle'), eq(revoke, 'idle'))
        : leadsTo('revoke-completes', 'DAX-R6', 'a started provider removal eventually removes the memory', ne(revoke, 'idle'), eq(revoke, 'done')),
      leadsToEach(
        'invalidation-progress',
        'DAX-R7',
        'every started invalidation of a page eventually ends (the ODP callback returns, the PTE goes)',
        Page,
        (p) => [ne(inv.at(p), 'idle'), eq(inv.at(p), 'idle')],
      ),
    ];
    return [...props, ...covers, ...live];
  },
  daxRevokeProofHints,
);

/**
 * Proof hints for k-induction (`prove dax-revoke`): invariants true in every reachable state of the
 * correct protocol that, with the safety properties, are 1-inductive: what an invalidation's stage,
 * the ODP mirror and its DMA, the file's block map and the revoker's stage imply. Each holds for the
 * correct protocol only.
 */
function daxRevokeProofHints(model: Model<DaxRevokeHandles>): ProofHints {
  const h = model.handles;
  const { Page, Block, fileMap, mem, pte, inv, odp, odpDma, gup, pinMap, pinDma, revoke } = h;
  const varRef = (name: string): Ref | null => {
    const i = model.vars.findIndex((v) => v.name === name);
    const v = model.vars[i];
    return v ? new Ref({ varIdx: i, varName: name, path: [], type: v.type }) : null;
  };
  const idleRecord = (r: Ref) => implies(not(r.f('busy')), and(eq(r.f('page'), 0), eq(r.f('block'), 0)));
  const live = h.fsdax ? 'file' : 'present';
  const strengthening: Invariant[] = [
    invariant(
      'dax-s1-invalidation-stages',
      'DAX-S1',
      'a page being invalidated is still mapped until its PTE goes; once the callback has run the ODP mirror is gone, and once the ZAP has completed no ODP DMA to the page is in flight',
      forall(Page, (p) => and(implies(ne(inv.at(p), 'idle'), isSome(pte.at(p))), implies(or(eq(inv.at(p), 'drain'), eq(inv.at(p), 'pte')), isNone(odp.at(p))))),
    ),
    invariant(
      'dax-s2-odp-mirror',
      'DAX-S2',
      'the ODP mirror of a page is the block its PTE maps; an ODP DMA in flight goes to the block the PTE still maps, through the mirror or while the ZAP waits for it',
      and(
        forall(Page, (p) => implies(isSome(odp.at(p)), eq(odp.at(p), pte.at(p)))),
        implies(
          odpDma.f('busy'),
          and(
            eq(pte.at(odpDma.f('page')), some(odpDma.f('block'))),
            or(eq(odp.at(odpDma.f('page')), some(odpDma.f('block'))), eq(inv.at(odpDma.f('page')), 'drain')),
          ),
        ),
      ),
    ),
    invariant(
      'dax-s3-block-map',
      'DAX-S3',
      "fs-dax: the file's pages map distinct blocks, each in use by the file, and every block in use by the file backs one of its pages; idle DMA records are blank; a pinned-MR DMA goes through the pinned MR",
      and(
        ...(h.fsdax
          ? [
              forall(Page, (p) => implies(isSome(fileMap.at(p)), eq(mem.at(unwrap(fileMap.at(p))), live))),
              forall(Page, (p) => forall(Page, (q) => implies(and(isSome(fileMap.at(p)), eq(fileMap.at(p), fileMap.at(q))), eq(p, q)))),
              forall(Block, (f) =>
                implies(
                  eq(mem.at(f), live),
                  exists(Page, (p) => eq(fileMap.at(p), some(f))),
                ),
              ),
            ]
          : []),
        idleRecord(odpDma),
        idleRecord(gup),
        idleRecord(pinDma),
        implies(pinDma.f('busy'), eq(pinMap.at(pinDma.f('page')), some(pinDma.f('block')))),
      ),
    ),
  ];
  if (h.fsdax) {
    const ML = varRef('mmapLock') as Ref;
    const T = h.target as Ref;
    strengthening.push(
      invariant(
        'dax-s4-punch',
        'DAX-S4',
        'the punch holds MMAPLOCK exactly while it unmaps and scans (not while it sleeps); idle, it has no target; at the scan the target page is unmapped',
        and(
          eq(ML, or(eq(revoke, 'unmap'), eq(revoke, 'scan'))),
          implies(eq(revoke, 'idle'), eq(T, 0)),
          implies(eq(revoke, 'scan'), and(isNone(pte.at(T)), eq(inv.at(T), 'idle'))),
        ),
      ),
    );
  } else {
    strengthening.push(
      invariant(
        'dax-s4-removal',
        'DAX-S4',
        'each page of the p2pmem file is its own BAR page; the memory is removed exactly when the removal is done; after the unmap no page is mapped or mirrored',
        and(
          forall(Page, (p) => and(isSome(fileMap.at(p)), eq(ord(unwrap(fileMap.at(p))), ord(p)))),
          forall(Block, (f) => eq(eq(mem.at(f), 'removed'), eq(revoke, 'done'))),
          implies(
            or(eq(revoke, 'wait'), eq(revoke, 'done')),
            forall(Page, (p) => and(isNone(pte.at(p)), eq(inv.at(p), 'idle'), isNone(odp.at(p)))),
          ),
        ),
      ),
    );
  }
  return { strengthening };
}
