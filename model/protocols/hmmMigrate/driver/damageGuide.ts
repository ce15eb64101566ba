/**
 * Where the hmm-migrate harness is expected to show damage, in terms of the model's state. Why this
 * module exists: a shortest counterexample usually stops at the first broken property, before any
 * access has gone wrong; the generic replay on the harness searches the model for a short
 * continuation this guide flags, then runs it on the harness, whose monitor decides.
 */
import { type Model, type Value, decodeState } from 'mirrorcheck';
import type { DamageGuide } from 'mirrorcheck/harness';

type Rec = Record<string, Value>;
const rec = (v: Value | undefined): Rec => (v ?? {}) as Rec;
const arr = (v: Value | undefined): Rec[] => (v ?? []) as Rec[];

/**
 * True for a step that the system's monitor will judge as damage: a CPU access through a TLB entry
 * whose frame is free or no longer the page's, a CPU or device read of a value other than the last
 * write, a device access to a device page that is free or no longer the page's, and a fault path
 * that uses a freed device page.
 */
export function damageGuide(model: Model): DamageGuide {
  const byRule = new Map<number, { rule: string; c: number }>();
  for (const i of model.instances) byRule.set(i.id, { rule: i.rule.name, c: (i.args[0] as number | undefined) ?? 0 });
  return (s, inst) => {
    const r = byRule.get(inst);
    if (!r) return false;
    const a = decodeState(model.layout, s);
    const pte = rec(a.pte);
    const page = arr(a.page);
    const dpage = arr(a.dpage);
    const latest = a.latest as number;
    const homeFrame = (f: number) => (pte.kind === 'present' || pte.kind === 'migration') && pte.frame === f;
    switch (r.rule) {
      case 'CpuRead':
      case 'CpuWrite': {
        const tl = rec(arr(a.tlb)[r.c]);
        const f = (tl.frame ?? (pte.kind === 'present' ? pte.frame : null)) as number | null;
        if (f === null) return false;
        if (rec(page[f]).ref === 0 || !homeFrame(f)) return true;
        return r.rule === 'CpuRead' && rec(page[f]).data !== latest;
      }
      case 'DevRead':
      case 'DevWrite': {
        const d = a.devPt as number | null;
        if (d === null) return false;
        const named = (pte.kind === 'devpriv' || pte.kind === 'devmigration') && pte.dev === d;
        const fwd = rec(a.fwd);
        const installing = fwd.ok === true && fwd.dst === d;
        if (rec(dpage[d]).ref === 0 || (!named && !installing)) return true;
        return r.rule === 'DevRead' && rec(dpage[d]).data !== latest;
      }
      case 'DriverFaultCopy':
      case 'CpuFaultReturn': {
        const d = rec(arr(a.cpu)[r.c]).page as number;
        return rec(dpage[d]).ref === 0;
      }
      default:
        return false;
    }
  };
}
