/**
 * The Mermaid rendering is a Mermaid file: every corpus trace of both built-in protocols, and lasso
 * traces (a cycle and a stop), render to a `sequenceDiagram` that Mermaid's own parser (the `mermaid`
 * package, pinned) accepts, with messages between the actors the protocol declares for each rule,
 * only the participants used, and a lasso's repeating steps in a `loop` block. The actor
 * declarations themselves are checked: every rule of every variant of both protocols is declared.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import mermaid from 'mermaid';
import { describe, expect, it } from 'vitest';
import { livenessCheck } from '../checker/explicit/liveness.js';
import { registry } from '../cli/registry.js';
import { ModelBuildError } from '../model/lang/errors.js';
import { add, lt } from '../model/lang/expr.js';
import { buildModel, defineProtocol, intParam } from '../model/lang/protocol.js';
import { assign } from '../model/lang/stmt.js';
import { range } from '../model/lang/types.js';
import type { ProtocolPackage } from '../properties/package.js';
import { stepActors } from './actors.js';
import { itfToTrace, parseItf } from './itf.js';
import { renderMermaid } from './mermaid.js';
import { replayTrace } from './replay.js';
import type { Trace } from './trace.js';

/** Renders a trace of `pkg` as replay does. */
function diagram(pkg: ProtocolPackage, trace: Trace, liveness?: { property: string; requirement: string; doc: string }): string {
  const model = buildModel(pkg.protocol, { variant: trace.variant, params: trace.params });
  const rep = replayTrace(model, liveness ? [] : pkg.properties.build(model), trace, { checkDeadlock: !liveness });
  return renderMermaid({
    model,
    states: rep.states,
    labels: rep.labels,
    violation: rep.violation,
    actors: pkg.protocol.actors,
    ...(trace.loop !== undefined ? { loop: trace.loop } : {}),
    ...(liveness ? { liveness } : {}),
  });
}

/** The participants a diagram declares, and the messages it draws. */
function shape(text: string) {
  const lines = text.split('\n');
  const declared = lines.flatMap((l) => /^\s+participant (\w+)$/.exec(l)?.slice(1) ?? []);
  const messages = lines.flatMap((l) => {
    const m = /^\s+(\w+)->>(\w+): \d+\. (\w+)\(/.exec(l);
    return m ? [{ from: m[1] as string, to: m[2] as string, rule: m[3] as string }] : [];
  });
  return { lines, declared, messages };
}

const corpus = registry.flatMap((pkg) => {
  const dir = fileURLToPath(pkg.corpus as URL);
  return readdirSync(dir)
    .filter((f) => f.endsWith('.itf.json'))
    .map((f) => ({ pkg, name: `${pkg.protocol.name}/${f}`, text: readFileSync(`${dir}/${f}`, 'utf8') }));
});

describe('replay --render mermaid is a Mermaid sequence diagram', () => {
  it.each(corpus.map((c) => [c.name, c] as const))(
    '%s: parsed by Mermaid, each message between the actors declared for its rule, only participants used',
    async (_, c) => {
      const { header, doc } = parseItf(c.text);
      const model = buildModel(c.pkg.protocol, { variant: header.variant, params: header.params });
      // A lasso (a liveness counterexample) is drawn with its loop, a safety trace with its violation.
      const live = c.pkg.properties.build(model).find((p) => p.kind === 'liveness' && p.name === header.property);
      const liveness = header.loop !== undefined && live ? { property: live.name, requirement: live.requirement, doc: live.doc } : undefined;
      const text = diagram(c.pkg, itfToTrace(header, doc, model), liveness);
      expect(text.split('\n')[0]).toBe('sequenceDiagram');
      await expect(mermaid.parse(text)).resolves.toMatchObject({ diagramType: 'sequence' });
      const { declared, messages } = shape(text);
      expect(messages.length).toBe((doc.states as unknown[]).length - 1);
      const used = new Set(messages.flatMap((m) => [m.from, m.to]));
      expect(new Set(declared)).toEqual(used);
      for (const m of messages) expect(stepActors(c.pkg.protocol.actors, m.rule)).toEqual({ from: m.from, to: m.to });
      // Not every step is a self-arrow: the steps between actors are drawn between them.
      expect(messages.some((m) => m.from !== m.to)).toBe(true);
      if (liveness) expect(text).toMatch(new RegExp(`(loop steps \\d+\\.\\.\\d+ repeat forever: ${liveness.property} never holds|stays there forever)`));
      else expect(text).toMatch(/Note over \w+,\w+: VIOLATION /);
    },
  );

  const fm = registry.find((p) => p.protocol.name === 'fence-migrate') as ProtocolPackage;
  const lassoOf = (variant: string, params: Record<string, string>, property: string) => {
    const model = buildModel(fm.protocol, { variant, params });
    const props = fm.properties.build(model);
    const r = livenessCheck({ model, properties: props, limits: {} });
    const v = r.status === 'violated' ? r.violations.find((x) => x.property === property) : undefined;
    const p = props.find((x) => x.name === property);
    if (!v?.trace || !p) throw new Error(`no lasso for ${variant}/${property}`);
    return { trace: v.trace, liveness: { property: p.name, requirement: p.requirement, doc: p.doc } };
  };

  it('a lasso that cycles draws its repeating steps in a loop block, and Mermaid parses it', async () => {
    const { trace, liveness } = lassoOf('stale-seq-retry', { mode: 'zap-and-fault', fault: 'retry' }, 'held-dma-completes');
    expect(trace.loop).toBeLessThan(trace.steps.length - 1);
    const text = diagram(fm, trace, liveness);
    await expect(mermaid.parse(text)).resolves.toMatchObject({ diagramType: 'sequence' });
    const { lines, messages } = shape(text);
    const start = lines.findIndex((l) => /^\s+loop steps \d+\.\.\d+ repeat forever: held-dma-completes never holds$/.test(l));
    expect(start).toBeGreaterThan(0);
    expect(lines.at(-1)).toBe('    end');
    // Exactly the steps after the loop state are inside the block.
    const inside = shape(lines.slice(start).join('\n')).messages;
    expect(inside.length).toBe(trace.steps.length - 1 - (trace.loop as number));
    expect(messages.length).toBe(trace.steps.length - 1);
  });

  it('a lasso that stops says so in a note over every participant, and Mermaid parses it', async () => {
    const { trace, liveness } = lassoOf('never-unblock', {}, 'held-dma-completes');
    expect(trace.loop).toBe(trace.steps.length - 1);
    const text = diagram(fm, trace, liveness);
    await expect(mermaid.parse(text)).resolves.toMatchObject({ diagramType: 'sequence' });
    expect(text.split('\n').at(-1)).toMatch(/^\s+Note over \w+,\w+: State \d+: no rule is enabled#59; the run stays here forever\.$/);
  });

  it('text Mermaid treats specially is written as entity codes, and the result still parses', async () => {
    const { mermaidText } = await import('./mermaid.js');
    expect(mermaidText('a;b #c <d> x -> y')).toBe('a#59;b #35;c #60;d#62; x → y');
    await expect(mermaid.parse(`sequenceDiagram\n    A->>B: ${mermaidText('a;b #c <d> end')}`)).resolves.toBeTruthy();
  });
});

describe('protocols declare the actors of their rules', () => {
  it.each(registry.map((p) => [p.protocol.name, p] as const))('%s: every rule of every variant and mode names declared participants', (_, pkg) => {
    const actors = pkg.protocol.actors;
    expect(actors).toBeDefined();
    const names = Object.keys(actors?.participants ?? {});
    const enumParams = Object.entries(pkg.protocol.params).filter(([, s]) => s.kind === 'enum');
    const combos: Record<string, string>[] = [{}];
    for (const [k, s] of enumParams) {
      if (s.kind !== 'enum') continue;
      const next = combos.flatMap((c) => s.values.map((v) => ({ ...c, [k]: v })));
      combos.splice(0, combos.length, ...next);
    }
    let built = 0;
    for (const params of combos) {
      for (const variant of [null, ...pkg.protocol.variants.map((v) => v.name)]) {
        let model: ReturnType<typeof buildModel>;
        try {
          model = buildModel(pkg.protocol, { variant, params });
        } catch {
          continue; // a variant or combination that does not apply
        }
        built++;
        for (const r of model.rules) {
          expect(actors?.rules?.[r.name], `${r.name} (${variant ?? 'correct'} ${JSON.stringify(params)})`).toBeDefined();
          const a = stepActors(actors, `${r.name}()`);
          expect(names).toContain(a.from);
          expect(names).toContain(a.to);
        }
      }
    }
    expect(built).toBeGreaterThan(pkg.protocol.variants.length);
  });

  const counter = (actors: object) =>
    defineProtocol({
      name: 'counter',
      summary: 'a counter',
      spec: 'none',
      params: { max: intParam(2, 1, 3, 'largest value') },
      variants: [],
      actors: actors as never,
      build(b, cfg) {
        const n = b.v('n', range(0, cfg.int('max')));
        b.init('zero', () => []);
        b.rule('CpuInc', {}, () => ({ guard: lt(n, cfg.int('max')), body: [assign(n, add(n, 1))] }));
        return { n };
      },
    });

  it('an actors declaration naming an undeclared participant, or a participant that is not an identifier, is a build error (MC010)', () => {
    expect(() => buildModel(counter({ participants: { CPU: 'x' }, rules: { CpuInc: ['CPU', 'Memory'] } }))).toThrow(ModelBuildError);
    expect(() => buildModel(counter({ participants: { CPU: 'x' }, rules: { CpuInc: ['CPU', 'Memory'] } }))).toThrow(
      /names 'Memory', which is not a participant/,
    );
    expect(() => buildModel(counter({ participants: { 'the CPU': 'x' } }))).toThrow(/participant 'the CPU' is not an identifier/);
    expect(() => buildModel(counter({ participants: { CPU: 'x', Memory: 'y' }, rules: { CpuInc: ['CPU', 'Memory'] } }))).not.toThrow();
  });

  it('a rule the protocol does not declare is drawn from the actor its name starts with', () => {
    expect(stepActors(undefined, 'HcaCompleteDma(d=0)')).toEqual({ from: 'Hca', to: 'Hca' });
    expect(stepActors({ participants: { HCA: 'the adapter', MM: 'mm' } }, 'HcaCompleteDma(d=0)')).toEqual({ from: 'HCA', to: 'HCA' });
    expect(stepActors({ participants: { Device: 'the device' } }, 'DevTranslate(d=0)')).toEqual({ from: 'Device', to: 'Device' });
    expect(stepActors({ participants: { MM: 'mm', Driver: 'd' }, rules: { MmStart: ['MM', 'Driver'] } }, 'MmStart(p=1)')).toEqual({ from: 'MM', to: 'Driver' });
  });
});
