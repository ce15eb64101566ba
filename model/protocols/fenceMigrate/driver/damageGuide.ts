/**
 * Where the fence-migrate harness is expected to show damage, in terms of the model's state. Why this
 * module exists: a shortest counterexample usually stops before memory is damaged; the generic replay
 * on the harness searches the model for a short continuation this guide flags, then runs it on the
 * harness, whose monitor decides.
 */
import type { Model } from 'mirrorcheck';
import type { DamageGuide } from 'mirrorcheck/harness';

/**
 * A model-level guess of where memory damage shows: a DMA completing into a frame its page does not
 * own, a DMA read of a value other than the page's latest write, or a CPU-accessible page whose frame
 * does not hold its latest write. Used only to guide the search; the harness decides.
 */
export function damageGuide(model: Model): DamageGuide {
  const slot = new Map(model.layout.slotNames.map((n, i) => [n, i]));
  const at = (n: string) => {
    const i = slot.get(n);
    if (i === undefined) throw new Error(`no slot ${n}`);
    return i;
  };
  const pages = model.params.pages as number;
  const stateType = model.layout.slotTypes[at('dma[0].state')];
  const inflight = stateType?.kind === 'enum' ? stateType.values.indexOf('inflight') : -1;
  const complete = new Map<number, number>();
  for (const i of model.instances) if (i.rule.name === 'HcaCompleteDma') complete.set(i.id, i.args[0] as number);
  return (s, inst, t) => {
    const d = complete.get(inst);
    if (d !== undefined && s[at(`dma[${d}].state`)] === inflight) {
      const f = s[at(`dma[${d}].frame`)] as number;
      const p = s[at(`dma[${d}].page`)] as number;
      if (s[at(`owner[${f}]`)] !== p) return true;
      if (!s[at(`dma[${d}].write`)] && s[at(`data[${f}]`)] !== s[at(`latest[${p}]`)]) return true;
    }
    for (let p = 0; p < pages; p++) {
      if (t[at(`pte[${p}].migration`)]) continue;
      if (t[at(`data[${t[at(`pte[${p}].frame`)]}]`)] !== t[at(`latest[${p}]`)]) return true;
    }
    return false;
  };
}
