/**
 * Replay on scripted systems: the search of `replayOnHarness` (the order in which driver actions are
 * tried, the stutters it allows, its bound on tries), the failure messages, the lasso judgement and
 * the recorded changes, each checked against a hand-made system whose every path is known. Why this
 * file exists: the pool fixture of replayOnHarness.test.ts has one driver-internal step and no
 * choice among actions, so the ranking of candidates, the stutter and try bounds, the per-element
 * change lists and the hang judgement were not checked by any fast test (mutation testing, issue 9).
 *
 * A scripted system is a graph: each node has the mapped model state (pool's `held` and `want`),
 * optional mapped values (`held` and an array `dev`, `none` where a node has none), the ids of
 * its outstanding work and its enabled actions, each leading to a node. Every action performed on any system built by a binding
 * is appended to a shared log, with `new` for every system built, so the order of the search's tries
 * (and its rebuilding of a system to cut back) is observed from outside. The expected logs, steps,
 * changes and messages below are worked out by hand from the scripts and the module's header.
 */
import { describe, expect, it } from 'vitest';
import type { Trace } from '../counterexamples/trace.js';
import type { HarnessBinding } from '../harness/binding.js';
import type { Action } from '../harness/scheduler.js';
import type { Damage, SimSystem, StepRecord } from '../harness/simSystem.js';
import { encodeState } from '../model/lang/layout.js';
import { buildModel } from '../model/lang/protocol.js';
import { pool, poolHarness } from '../test/fixtures/poolDriver.js';
import { harnessReplayLines, replayOnHarness } from './replayOnHarness.js';

interface Edge {
  readonly label: string;
  readonly internal?: boolean;
  readonly to: string;
  /** Damage the step does (kind `broken`). */
  readonly damage?: string;
}
interface ScriptNode {
  readonly held: number;
  readonly want: boolean;
  /** When set, the binding's `stateOf` says this instead of a state. */
  readonly unmapped?: string;
  /** When set, the binding's `valuesOf` says this instead of values. */
  readonly hidden?: string;
  readonly dev?: readonly number[];
  /** Ids of outstanding work. */
  readonly out?: readonly number[];
  readonly acts: readonly Edge[];
}
type Script = Readonly<Record<string, ScriptNode>>;

class ScriptSystem implements SimSystem {
  node: string;
  readonly damage: Damage[] = [];
  readonly script: Script;
  private readonly log: string[];
  private steps = 0;

  constructor(script: Script, start: string, log: string[]) {
    this.script = script;
    this.node = start;
    this.log = log;
    log.push('new');
  }

  get at(): ScriptNode {
    return this.script[this.node] as ScriptNode;
  }

  enabled(): Action[] {
    return this.at.acts.map((e) => ({
      label: e.label,
      actor: 'driver',
      internal: e.internal ?? false,
      run: () => {
        this.node = e.to;
        if (e.damage) this.damage.push({ kind: 'broken', step: this.steps + 1, message: e.damage });
      },
    }));
  }

  perform(a: Action): StepRecord {
    const seen = this.damage.length;
    a.run();
    this.steps++;
    this.log.push(a.label);
    return { label: a.label, actor: a.actor, internal: a.internal, changes: [], damage: this.damage.slice(seen) };
  }

  reportHung(only?: ReadonlySet<number>, because = 'nothing else can run'): Damage[] {
    const seen = this.damage.length;
    for (const id of only ? [...only] : (this.at.out ?? []))
      this.damage.push({ kind: 'hung', step: this.steps + 1, message: `job #${id} never completes, and ${because}` });
    return this.damage.slice(seen);
  }
}

const model = buildModel(pool);
const st = (held: number, want: boolean) => encodeState(model.layout, { held, want }) as Int32Array;

/** A binding of a script; `outstanding`, `valuesOf` and `setting` only when asked for. */
function bind(
  script: Script,
  log: string[],
  o: { start?: string; outstanding?: boolean; values?: boolean; setting?: string; guide?: HarnessBinding['damageGuide'] } = {},
): HarnessBinding<ScriptSystem> {
  return {
    knobs: [],
    system: () => new ScriptSystem(script, o.start ?? 'A', log),
    stateOf: (m, sys) => sys.at.unmapped ?? encodeState(m.layout, { held: sys.at.held, want: sys.at.want }),
    ...(o.values ? { valuesOf: (_m: unknown, sys: ScriptSystem) => sys.at.hidden ?? { held: sys.at.held, dev: sys.at.dev ?? 'none' } } : {}),
    ...(o.outstanding ? { outstanding: (sys: ScriptSystem) => new Set(sys.at.out ?? []) } : {}),
    ...(o.setting ? { setting: () => o.setting as string } : {}),
    damageGuide: o.guide ?? (() => () => false),
    continuation: { maxAdded: 2, maxSeen: 100, deadlocks: false },
    words: { intact: ' and the script is intact', before: 'the script breaks', shown: 'it' },
  };
}

/** A trace through the given states with the given step labels (not model instances: choice -1). */
function traceOf(states: readonly Int32Array[], labels: readonly string[], loop?: number): Trace {
  return {
    protocol: model.protocol,
    variant: model.variant,
    params: model.params,
    engine: 'test',
    property: null,
    requirement: null,
    steps: states.map((state, i) => ({ choice: i === 0 ? 0 : -1, label: i === 0 ? 'init empty' : (labels[i - 1] as string), state })),
    ...(loop === undefined ? {} : { loop }),
  };
}

const bad = (n: number): Edge[] => Array.from({ length: n }, () => ({ label: 'Bad()', to: 'D' }));

/** A chain of `n` driver-internal `Spin()` steps that leave the mapped state alone, then `Go()` to `goTo`. */
function chain(n: number, goTo: string): Record<string, ScriptNode> {
  const out: Record<string, ScriptNode> = {
    W: { held: 1, want: false, acts: [] },
    L: { held: 0, want: false, unmapped: 'the driver lost track of the unit', out: [2], acts: [] },
  };
  for (let i = 0; i <= n; i++)
    out[i === 0 ? 'A' : `c${i}`] = {
      held: 0,
      want: false,
      acts: i < n ? [{ label: 'Spin()', internal: true, to: `c${i + 1}` }] : [{ label: 'Go()', to: goTo }],
    };
  return out;
}

describe('replay on scripted systems', () => {
  it('tries the labelled action, then its rule, then internal steps about its page, other internal steps, the rest; records changes per array element', () => {
    // Step 1 `Go(p=1)`: only `Rest()` (index 0, rank 4 among non-internal steps of other rules,
    // before `Put(p=1)`) reaches the wanted state. Ranks: Go(p=1) 0, Go(p=3) 1, Peek(p=1) 2,
    // Tick(p=2) and Tick() 3 (in index order), Rest() and Put(p=1) 4. Step 2 `Go()` has no page:
    // Tick(p=2) and Tick() are both rank 3, in index order, then Fin(). Step 3 `Hide()` needs one
    // stutter (Sync). Steps 3 and 4 go to and from a node whose values are not mapped: no changes.
    const script: Script = {
      A: {
        held: 0,
        want: false,
        dev: [0, 1],
        acts: [
          { label: 'Rest()', to: 'W' },
          { label: 'Tick(p=2)', internal: true, to: 'D' },
          { label: 'Tick()', internal: true, to: 'D' },
          { label: 'Put(p=1)', to: 'D' },
          { label: 'Peek(p=1)', internal: true, to: 'D' },
          { label: 'Go(p=3)', to: 'D' },
          { label: 'Go(p=1)', to: 'D' },
        ],
      },
      D: { held: 0, want: true, acts: [] },
      W: {
        held: 1,
        want: false,
        dev: [2, 1],
        acts: [
          { label: 'Fin()', to: 'X' },
          { label: 'Tick(p=2)', internal: true, to: 'D' },
          { label: 'Tick()', internal: true, to: 'D' },
        ],
      },
      X: { held: 2, want: false, dev: [2, 3], acts: [{ label: 'Sync()', internal: true, to: 'X2' }] },
      X2: { held: 2, want: false, dev: [2, 3], acts: [{ label: 'Hide()', to: 'Y' }] },
      Y: { held: 3, want: false, hidden: 'dev not mapped', acts: [{ label: 'Show()', to: 'Z' }] },
      Z: { held: 3, want: true, dev: [0, 0], out: [4], acts: [] },
    };
    const log: string[] = [];
    const trace = traceOf([st(0, false), st(1, false), st(2, false), st(3, false), st(3, true)], ['Go(p=1)', 'Go()', 'Hide()', 'Show()']);
    const rep = replayOnHarness(bind(script, log, { values: true, outstanding: true, setting: 'mode scripted' }), model, trace);
    expect(log).toEqual([
      ...['new', 'Go(p=1)', 'new', 'Go(p=3)', 'new', 'Peek(p=1)', 'new', 'Tick(p=2)', 'new', 'Tick()', 'new', 'Rest()'],
      ...['Tick(p=2)', 'new', 'Rest()', 'Tick()', 'new', 'Rest()', 'Fin()'],
      ...['Sync()', 'Hide()', 'Show()'],
    ]);
    expect(rep.mismatch).toBeNull();
    expect(rep.steps.map((s) => [s.record.label, s.traceStep, s.added, s.record.changes])).toEqual([
      ['Rest()', 1, false, ['held: 0 -> 1', 'dev[0]: 0 -> 2']],
      ['Fin()', 2, false, ['held: 1 -> 2', 'dev[1]: 1 -> 3']],
      ['Sync()', null, false, []],
      ['Hide()', 3, false, []],
      ['Show()', 4, false, []],
    ]);
    // The trace ends where nothing can run and job 4 is outstanding: a hang at the trace's end.
    const hang = 'job #4 never completes, and nothing else can run';
    expect(rep.damage).toEqual([{ kind: 'hung', step: 6, message: hang }]);
    expect(rep.damageInTrace).toBe(true);
    expect(rep.setting).toBe('mode scripted');
    expect(harnessReplayLines(rep)).toEqual([
      'Replay on the reference driver and simulated hardware: pool, correct driver, mode scripted',
      '  1. Rest()',
      '       held: 0 -> 1',
      '       dev[0]: 0 -> 2',
      '  2. Fin()',
      '       held: 1 -> 2',
      '       dev[1]: 1 -> 3',
      '  3. Sync() (driver-internal)',
      '  4. Hide()',
      '  5. Show()',
      `     DAMAGE (hung): ${hang}`,
      `Damage reproduced at the end of the trace: ${hang}`,
    ]);
  });

  it('allows 12 stutters before the step, not 13, and explains a failure after taking the stutters', () => {
    const log: string[] = [];
    const trace = traceOf([st(0, false), st(1, false)], ['Go()'], 0);
    // 12 stutters then Go(): found; a lasso at 0 with no outstanding work in the binding is not judged.
    const ok = replayOnHarness(bind(chain(12, 'W'), log), model, trace);
    expect(ok.mismatch).toBeNull();
    expect(ok.steps.map((s) => [s.record.label, s.traceStep])).toEqual([...Array(12).fill(['Spin()', null]), ['Go()', 1]]);
    expect(ok.damage).toEqual([]);
    expect(ok.damageInTrace).toBe(false);
    expect(ok.summary).toBe('no damage: the reference driver ran the 1 steps and the script is intact');
    // 13 stutters: not found; the explanation takes 13 internal steps and Go() is still not enabled.
    const far = replayOnHarness(bind(chain(13, 'W'), log), model, traceOf([st(0, false), st(1, false)], ['Go()']));
    expect(far.mismatch).toEqual({ step: 1, message: 'Go() did not become enabled after 12 driver-internal steps' });
    expect(far.steps.map((s) => s.record.label)).toEqual(Array(13).fill('Spin()'));
    // 12 stutters then a Go() into a state the binding cannot map: the explanation takes the 12 stutters
    // and Go(), and says what the binding said. No hang is reported after a mismatch.
    const lost = replayOnHarness(bind(chain(12, 'L'), log), model, traceOf([st(0, false), st(1, false)], ['Go()']));
    expect(lost.mismatch).toEqual({ step: 1, message: 'the driver lost track of the unit' });
    expect(lost.steps.map((s) => [s.record.label, s.traceStep])).toEqual([...Array(12).fill(['Spin()', null]), ['Go()', 1]]);
    expect(lost.damage).toEqual([]);
    expect(lost.summary).toBe('the harness could not follow the trace at step 1: the driver lost track of the unit');
  });

  it('tries at most 400 actions for one model step', () => {
    const trace = traceOf([st(0, false), st(1, false)], ['Go()']);
    const script = (n: number): Script => ({
      A: { held: 0, want: false, acts: [...bad(n), { label: 'Win()', to: 'W' }] },
      D: { held: 0, want: true, acts: [] },
      W: { held: 1, want: false, acts: [{ label: 'Bad()', to: 'D' }] },
    });
    // Every action is rank 4 (another rule, not internal), so Win() is tried last: the 400th try...
    const in400 = replayOnHarness(bind(script(399), []), model, trace);
    expect(in400.mismatch).toBeNull();
    expect(in400.steps.map((s) => s.record.label)).toEqual(['Win()']);
    // ...or the 401st, which is not made.
    const log: string[] = [];
    const in401 = replayOnHarness(bind(script(400), log), model, trace);
    expect(in401.mismatch).toEqual({ step: 1, message: `Go() is not enabled on the harness (enabled: ${[...Array(400).fill('Bad()'), 'Win()'].join(', ')})` });
    expect(in401.steps).toEqual([]);
    // Each try is cut back by building a fresh system; the explanation starts where the search did,
    // so it builds none.
    expect(log).toEqual(['new', ...Array.from({ length: 400 }, () => ['Bad()', 'new']).flat()]);
  });

  it('a start state that differs, cannot be mapped, or an empty trace is a mismatch at step 0', () => {
    const script: Script = { A: { held: 1, want: false, acts: [] }, U: { held: 0, want: false, unmapped: 'no unit at start', acts: [] } };
    const trace = traceOf([st(0, false), st(1, false)], ['Go()']);
    const differs = replayOnHarness(bind(script, []), model, trace);
    expect(differs.mismatch).toEqual({ step: 0, message: 'start state differs: held: trace 0, harness 1' });
    expect(differs.steps).toEqual([]);
    expect(replayOnHarness(bind(script, [], { start: 'U' }), model, trace).mismatch).toEqual({ step: 0, message: 'no unit at start' });
    expect(replayOnHarness(bind(script, []), model, { ...trace, steps: [] }).mismatch).toEqual({ step: 0, message: 'the trace is empty' });
  });

  it('a lasso reports the work outstanding at its loop start and at its end, and only that', () => {
    // Work 7 and 9 are outstanding after step 1 (the loop start); 7 and 8 at the end: only 7 hangs.
    const script: Script = {
      A: { held: 0, want: false, acts: [{ label: 'A()', to: 'n1' }] },
      n1: { held: 1, want: false, out: [7, 9], acts: [{ label: 'B()', to: 'n2' }] },
      n2: { held: 2, want: false, out: [7], acts: [{ label: 'C()', to: 'n3' }] },
      n3: { held: 3, want: false, out: [7, 8], acts: [{ label: 'Again()', to: 'n3' }] },
    };
    const states = [st(0, false), st(1, false), st(2, false), st(3, false)];
    const labels = ['A()', 'B()', 'C()'];
    const rep = replayOnHarness(bind(script, [], { outstanding: true }), model, traceOf(states, labels, 1));
    expect(rep.damage).toEqual([{ kind: 'hung', step: 4, message: 'job #7 never completes, and steps 2..3 repeat forever without it' }]);
    expect(rep.steps.map((s) => s.traceStep)).toEqual([1, 2, 3]);
    // A loop that starts at the last state repeats no step: no judgement (and steps are still enabled).
    expect(replayOnHarness(bind(script, [], { outstanding: true }), model, traceOf(states, labels, 3)).damage).toEqual([]);
    // A loop from the start: the work outstanding there (5) is outstanding at the end.
    const back: Script = {
      A: { held: 0, want: false, out: [5], acts: [{ label: 'A()', to: 'm1' }] },
      m1: { held: 1, want: false, out: [5], acts: [{ label: 'Back()', to: 'A' }] },
    };
    expect(replayOnHarness(bind(back, [], { outstanding: true }), model, traceOf(states.slice(0, 2), ['A()'], 0)).damage).toEqual([
      { kind: 'hung', step: 2, message: 'job #5 never completes, and steps 1..1 repeat forever without it' },
    ]);
    // A lasso whose loop completes its work but ends where nothing can run: a plain hang.
    const stuck: Script = {
      A: { held: 0, want: false, acts: [{ label: 'A()', to: 'm1' }] },
      m1: { held: 1, want: false, out: [6], acts: [] },
    };
    expect(replayOnHarness(bind(stuck, [], { outstanding: true }), model, traceOf(states.slice(0, 2), ['A()'], 0)).damage).toEqual([
      { kind: 'hung', step: 2, message: 'job #6 never completes, and nothing else can run' },
    ]);
    // Without a lasso, work outstanding where steps are still enabled is no damage.
    expect(replayOnHarness(bind(script, [], { outstanding: true }), model, traceOf(states, labels)).damage).toEqual([]);
  });
});

describe('replay on scripted systems: continuations after the trace', () => {
  // The guide flags a Use() taken while a unit is asked for: from the trace's end (1 held, none
  // asked for) the only continuation of at most 2 steps it flags is Ask() then Use().
  const use = new Set(model.instances.filter((i) => i.rule.name === 'Use').map((i) => i.id));
  const wantSlot = model.layout.slotNames.indexOf('want');
  const guide = () => (s: Int32Array, inst: number) => use.has(inst) && s[wantSlot] === 1;
  const trace = (loop?: number) => traceOf([st(0, false), st(1, false)], ['Go()'], loop);

  it('a continuation the harness cannot follow is dropped, even when its failed step did damage and a later one would follow', () => {
    // Ask() leads the harness to 2 held (not the model's 1 held and asked for), doing damage; from
    // there Boom() would reach the state the model's Use() leads to, also with damage.
    const script: Script = {
      A: { held: 0, want: false, acts: [{ label: 'Go()', to: 'E' }] },
      E: { held: 1, want: false, acts: [{ label: 'Ask()', to: 'F', damage: 'asked twice' }] },
      F: { held: 2, want: true, acts: [{ label: 'Boom()', to: 'G', damage: 'boom' }] },
      G: { held: 1, want: true, acts: [] },
    };
    const rep = replayOnHarness(bind(script, [], { guide }), model, trace());
    expect(rep.mismatch).toBeNull();
    expect(rep.added).toEqual([]);
    expect(rep.damage).toEqual([]);
    expect(rep.steps.map((s) => s.record.label)).toEqual(['Go()']);
  });

  it('a continuation the harness follows with damage is reported, unless the trace is a lasso judged by outstanding work', () => {
    const script: Script = {
      A: { held: 0, want: false, acts: [{ label: 'Go()', to: 'E' }] },
      E: { held: 1, want: false, acts: [{ label: 'Ask()', to: 'G' }] },
      G: { held: 1, want: true, acts: [{ label: 'Use()', to: 'G', damage: 'used while asked' }] },
    };
    const rep = replayOnHarness(bind(script, [], { guide }), model, trace());
    expect(rep.added).toEqual(['Ask()', 'Use()']);
    expect(rep.damage).toEqual([{ kind: 'broken', step: 3, message: 'used while asked' }]);
    expect(rep.damageInTrace).toBe(false);
    // A lasso with no binding for outstanding work is extended the same way...
    expect(replayOnHarness(bind(script, [], { guide }), model, trace(0)).added).toEqual(['Ask()', 'Use()']);
    // ...but with one it is judged by that work alone (none here): no damage, nothing added.
    const judged = replayOnHarness(bind(script, [], { guide, outstanding: true }), model, trace(0));
    expect(judged.added).toEqual([]);
    expect(judged.damage).toEqual([]);
  });

  it('a continuation the harness follows without damage is not reported', () => {
    const script: Script = {
      A: { held: 0, want: false, acts: [{ label: 'Go()', to: 'E' }] },
      E: { held: 1, want: false, acts: [{ label: 'Ask()', to: 'G' }] },
      G: { held: 1, want: true, acts: [{ label: 'Use()', to: 'G' }] },
    };
    const rep = replayOnHarness(bind(script, [], { guide }), model, trace());
    expect(rep.added).toEqual([]);
    expect(rep.steps.map((s) => s.record.label)).toEqual(['Go()']);
    expect(rep.summary).toBe('no damage: the reference driver ran the 1 steps and the script is intact');
  });
});

describe('replay on the pool fixture: how the report words damage', () => {
  const overdraw = buildModel(pool, { variant: 'overdraw' });
  const poolTrace = (labels: readonly string[]) => {
    const t = traceOf([st(0, false)], []);
    let s = t.steps[0]?.state as Int32Array;
    const steps = [...t.steps];
    for (const label of labels) {
      const inst = overdraw.instances.find((i) => i.label === label);
      if (!inst) throw new Error(`no instance ${label}`);
      const held = s[overdraw.layout.slotNames.indexOf('held')] as number;
      s = label === 'Ask()' ? st(held, true) : label === 'Take()' ? st(held + 1, false) : s;
      steps.push({ choice: inst.id, label, state: s });
    }
    return { ...t, variant: overdraw.variant, steps };
  };

  it('two added steps are counted in the plural', () => {
    // After Ask Take Ask Take Ask, 2 units are held and one is asked for: the overdraw knob grants a
    // third (Take) and a Use then overdraws the pool; no shorter continuation does damage.
    const rep = replayOnHarness(poolHarness, overdraw, poolTrace(['Ask()', 'Take()', 'Ask()', 'Take()', 'Ask()']));
    expect(rep.added).toEqual(['Take()', 'Use()']);
    expect(rep.summary).toBe("damage reproduced 2 steps after the trace ends (Take(), Use()): a unit was used while 3 are held, over the pool's 2");
    expect(harnessReplayLines(rep).slice(-2)).toEqual([
      'The trace ends before the pool is overdrawn; 2 added steps show it.',
      "Damage reproduced 2 steps after the trace ends (Take(), Use()): a unit was used while 3 are held, over the pool's 2",
    ]);
  });

  it('damage at the last step taken is shown once, under that step', () => {
    const rep = replayOnHarness(poolHarness, overdraw, poolTrace(['Ask()', 'Take()', 'Ask()', 'Take()', 'Ask()', 'Take()', 'Use()']));
    const lines = harnessReplayLines(rep);
    // 7 trace steps and 3 internal checks: Use() is step 10, the last; its damage line follows it.
    expect(lines.filter((l) => l.includes('DAMAGE'))).toEqual(["       DAMAGE (overdrawn): a unit was used while 3 are held, over the pool's 2"]);
    expect(lines[lines.indexOf(' 10. Use()') + 1]).toBe("       DAMAGE (overdrawn): a unit was used while 3 are held, over the pool's 2");
  });
});
