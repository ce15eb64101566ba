import { describe, expect, it } from 'vitest';
import { DmaMap } from './dmaMap.js';
import { labelOf } from './scheduler.js';

describe('the DMA mappings of a mirror', () => {
  it('map and unmap are steps; unmap returns what was mapped, for the caller to dirty', () => {
    const m = new DmaMap(3);
    const map = m.map(
      0,
      1,
      [
        { frame: 2, write: true },
        { frame: 0, write: false },
        { frame: 1, write: true },
      ],
      'DriverDmaMap(h=0)',
    );
    const p = map.next();
    if (p.done) throw new Error('map did not yield');
    expect(labelOf(p.value)).toBe('DriverDmaMap(h=0)');
    expect(m.entries).toEqual([null, null, null]);
    map.next();
    // Only pages [lo, hi] are mapped.
    expect(m.entries).toEqual([{ frame: 2, write: true }, { frame: 0, write: false }, null]);
    const un = m.unmap(0, 2);
    const q = un.next();
    if (q.done) throw new Error('unmap did not yield');
    expect(labelOf(q.value)).toBe('hmm_dma_unmap_pfn(lo=0, hi=2)');
    const r = un.next();
    expect(r).toEqual({
      done: true,
      value: [
        { page: 0, entry: { frame: 2, write: true } },
        { page: 1, entry: { frame: 0, write: false } },
      ],
    });
    expect(m.entries).toEqual([null, null, null]);
  });

  it('a downgrade keeps the mappings read-only and returns only the pages that were writable', () => {
    const m = new DmaMap(2);
    const map = m.map(0, 1, [
      { frame: 0, write: true },
      { frame: 1, write: false },
    ]);
    map.next();
    map.next();
    const d = m.downgrade(0, 1);
    d.next();
    expect(d.next()).toEqual({ done: true, value: [{ page: 0, entry: { frame: 0, write: true } }] });
    expect(m.entries).toEqual([
      { frame: 0, write: false },
      { frame: 1, write: false },
    ]);
  });
});
