/**
 * Where the odp-mirror harness is expected to show damage, in terms of the model's state. Why this
 * module exists: a shortest counterexample usually stops before any damage; the generic replay on the
 * harness searches the model for a short continuation this guide flags (or one into a deadlock), then
 * runs it on the harness, whose monitor decides.
 */
import type { Model } from 'mirrorcheck';
import type { DamageGuide } from 'mirrorcheck/harness';

/**
 * A model-level guess of the step at which the harness will see damage; used only to guide the
 * search, the harness decides. True for: a completion of an access whose frame its page no longer
 * maps, a failed fault while the mm lives, a translation that hits a read-only TLB entry under a
 * writable table entry, the writeback of a page that is not marked dirty, a non-blockable callback
 * that takes the lock by sleeping, a thread starting to wait for U while U is held by an invalidator
 * outside its callback.
 */
export function damageGuide(model: Model): DamageGuide {
  const slot = new Map(model.layout.slotNames.map((n, i) => [n, i]));
  const at = (n: string) => {
    const i = slot.get(n);
    if (i === undefined) throw new Error(`no slot ${n}`);
    return i;
  };
  const enumVal = (n: string, v: string) => {
    const t = model.layout.slotTypes[at(n)];
    return t?.kind === 'enum' ? t.values.indexOf(v) : -2;
  };
  const inflight = enumVal('acc[0].state', 'inflight');
  const pending = enumVal('acc[0].state', 'pending');
  const failed = enumVal('acc[0].state', 'failed');
  const read = enumVal('acc[0].op', 'read');
  const protect = enumVal('inv[0].event', 'protect');
  const byRule = new Map<number, { rule: string; arg: number }>();
  for (const i of model.instances) {
    if (['DevCompleteAccess', 'DevTranslate', 'MmUpdatePte', 'DriverInvalidateLock'].includes(i.rule.name))
      byRule.set(i.id, { rule: i.rule.name, arg: i.args[0] as number });
  }
  const slots = model.params.slots as number;
  const invs = model.params.invalidators as number;
  const handlers = 1 + (model.params.prefetch as number);
  const pages = model.params.pages as number;
  const inCallback = ['zap', 'wait', 'unlock', 'eagain'].map((v) => enumVal('inv[0].pc', v));
  const lockStage = enumVal('inv[0].pc', 'lock');
  const fhWaits = [enumVal('fh[0].pc', 'lock'), enumVal('fh[0].pc', 'lockEarly')];
  const holderType = model.layout.slotTypes[at('ulock')];
  const holderInv = (v: number) => (holderType?.kind === 'enum' ? /^inv(\d+)$/.exec(holderType.values[v] ?? '')?.[1] : undefined);
  const live = (s: Int32Array) => !slot.has('mmLive') || s[at('mmLive')] === 1;
  // U held by an invalidator that is not in its callback, and someone waits for it.
  const lockLeakWait = (t: Int32Array) => {
    const i = holderInv(t[at('ulock')] as number);
    if (i === undefined || inCallback.includes(t[at(`inv[${i}].pc`)] as number)) return false;
    for (let h = 0; h < handlers; h++) if (fhWaits.includes(t[at(`fh[${h}].pc`)] as number)) return true;
    for (let j = 0; j < invs; j++) if (t[at(`inv[${j}].pc`)] === lockStage && t[at(`inv[${j}].blockable`)]) return true;
    return false;
  };
  return (s, inst, t) => {
    for (let d = 0; d < slots; d++) if (t[at(`acc[${d}].state`)] === failed && s[at(`acc[${d}].state`)] !== failed && live(t)) return true;
    if (lockLeakWait(t) && !lockLeakWait(s)) return true;
    const r = byRule.get(inst);
    if (!r) return false;
    if (r.rule === 'MmUpdatePte') {
      if (s[at(`inv[${r.arg}].event`)] !== protect) return false;
      for (let p = 0; p < pages; p++) {
        const f = s[at(`pte[${p}].frame`)] as number;
        if (f >= 0 && !s[at(`dirty[${f}]`)] && (s[at(`inv[${r.arg}].lo`)] as number) <= p && p <= (s[at(`inv[${r.arg}].hi`)] as number)) return true;
      }
      return false;
    }
    if (r.rule === 'DriverInvalidateLock') return s[at(`inv[${r.arg}].blockable`)] === 0 && t[at(`inv[${r.arg}].pc`)] === enumVal('inv[0].pc', 'zap');
    const p = s[at(`acc[${r.arg}].page`)] as number;
    if (r.rule === 'DevCompleteAccess' && s[at(`acc[${r.arg}].state`)] === inflight) return s[at(`pte[${p}].frame`)] !== s[at(`acc[${r.arg}].frame`)];
    if (r.rule === 'DevTranslate' && s[at(`acc[${r.arg}].state`)] === pending && s[at(`acc[${r.arg}].op`)] !== read) {
      const tf = s[at(`tlb[${p}].frame`)] as number;
      return tf >= 0 && !s[at(`tlb[${p}].write`)] && s[at(`dev[${p}].frame`)] === tf && s[at(`dev[${p}].write`)] === 1;
    }
    return false;
  };
}
