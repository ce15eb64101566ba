/**
 * The protocol: what each actor does, written as guarded rules. Why this file exists: it is the model
 * that every engine checks. Replace the toy below with your driver's protocol; spec.md says what to
 * write down first, and every rule should name the kernel function it stands for.
 *
 * The toy: a device mirrors the CPU page table, one entry per page.
 * - Actor 1, the kernel (mm), moves a page to another frame. Before it changes the PTE it opens an
 *   invalidation (mmu_notifier invalidate_range_start), and the driver's invalidate callback zaps
 *   the device's entry for the page; the invalidation closes after the PTE has changed.
 * - Actor 2, the driver's page-fault handler, copies the PTE into the device's table, but only while
 *   no invalidation of the page is open (the mmu_interval_read_begin / read_retry pattern, reduced
 *   here to one atomic step).
 */
import { type IndexType, type Ref, and, arrayOf, assign, bool, defineProtocol, intParam, isNone, ne, none, not, option, some } from 'mirrorcheck';

/** What the property set reads: the index types and the state variables. */
export interface MyDriverHandles {
  readonly Page: IndexType;
  readonly Frame: IndexType;
  /** The CPU page table: the frame each page is in. */
  readonly pte: Ref;
  /** The device's table: the frame it translates each page to, or none. */
  readonly dev: Ref;
  /** Whether an invalidation of the page is open (between range_start and range_end). */
  readonly inv: Ref;
}

export const myDriver = defineProtocol<MyDriverHandles>({
  name: 'my-driver',
  summary: 'TODO: one line saying which driver protocol this models (the scaffold: a device table kept coherent by an invalidate callback)',
  spec: 'spec.md',
  params: {
    pages: intParam(2, 1, 3, 'pages the device mirrors'),
    frames: intParam(2, 2, 4, 'frames a page can be moved between'),
  },
  variants: [
    {
      name: 'no-zap',
      summary: 'the invalidate callback returns without zapping the device entry: the device keeps translating to the old frame',
      cites:
        'TODO: the commit or thread of the bug this variant reproduces; the contract is mmu_interval_notifier_ops.invalidate in include/linux/mmu_notifier.h',
    },
  ],
  build(b, cfg) {
    const Page = b.index('Page', cfg.int('pages'));
    const Frame = b.index('Frame', cfg.int('frames'));
    const pte = b.v('pte', arrayOf(Page, Frame));
    const dev = b.v('dev', arrayOf(Page, option(Frame)));
    const inv = b.v('inv', arrayOf(Page, bool));
    // Every page starts in frame 0, not mirrored, with no invalidation open (the default values).
    b.init('start', () => []);

    // --- Actor 1: the kernel (mm) and the driver's invalidate callback, which it calls ---
    // invalidate_range_start: the callback zaps the device entry before returning.
    b.rule('MmInvalidateStart', { p: Page }, ({ p }) => ({
      guard: not(inv.at(p)),
      body: [assign(inv.at(p), true), ...(cfg.is('no-zap') ? [] : [assign(dev.at(p), none)])],
    }));
    // The PTE changes only while the invalidation is open.
    b.rule('MmMovePage', { p: Page, f: Frame }, ({ p, f }) => ({
      guard: and(inv.at(p), ne(pte.at(p), f)),
      body: [assign(pte.at(p), f)],
    }));
    // invalidate_range_end.
    b.rule('MmInvalidateEnd', { p: Page }, ({ p }) => ({
      guard: inv.at(p),
      body: [assign(inv.at(p), false)],
    }));

    // --- Actor 2: the driver's page-fault handler ---
    b.rule('DriverFault', { p: Page }, ({ p }) => ({
      guard: and(isNone(dev.at(p)), not(inv.at(p))),
      body: [assign(dev.at(p), some(pte.at(p), option(Frame)))],
    }));
    return { Page, Frame, pte, dev, inv };
  },
});
