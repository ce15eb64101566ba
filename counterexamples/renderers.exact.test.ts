/**
 * The three trace renderings, written out line by line on a four-state trace of a tiny model: the
 * Mermaid diagram (participants derived from rule names or declared by the protocol, a lasso that
 * cycles or stops, a violation in the start state, text Mermaid treats specially), the HTML page
 * (the header, the verdict box, one row per step with its classes, markup escaped everywhere) and
 * the actors of each step. mermaid.test.ts and html.browser.test.ts check that real traces parse
 * and display; this file pins what each renderer writes, so a changed character is a failing test.
 */
import { describe, expect, it } from 'vitest';
import { buildModel, defineProtocol } from '../model/lang/protocol.js';
import { bool, enumOf, option, range } from '../model/lang/types.js';
import { participantsOf, ruleOfLabel, stepActors } from './actors.js';
import { escapeMarkup, renderHtml } from './html.js';
import { mermaidText, renderMermaid } from './mermaid.js';
import { type RenderInput, loopSentence, paramsLine, traceSubject } from './render.js';

const tiny = defineProtocol({
  name: 'tiny',
  summary: 'a flag, a mode, a count and an optional page',
  spec: 'counterexamples/renderers.exact.test.ts',
  params: {},
  variants: [],
  build(b) {
    const P = b.index('P', 2);
    b.v('flag', bool);
    b.v('mode', enumOf('Mode', ['idle', 'busy']));
    b.v('n', range(1, 3));
    b.v('page', option(P));
    b.init('start', () => []);
    return {};
  },
});
const model = buildModel(tiny);
const st = (...xs: number[]) => Int32Array.from(xs);
/** Step 1 changes the flag, step 2 three fields, step 3 nothing. */
const states = [st(0, 0, 1, -1), st(1, 0, 1, -1), st(1, 1, 2, 1), st(1, 1, 2, 1)];
const labels = ['init start', 'CpuWrite(p=0)', 'HcaFault<p=1>; #2', 'Mm()'];
const violation = { step: 2, property: 'no-busy', requirement: 'T-1', kind: 'invariant', doc: 'never busy' };
const input: RenderInput = { model, states, labels, violation };
const actors = { participants: { CPU: 'the CPU', HCA: 'the adapter' }, rules: { CpuWrite: ['CPU', 'HCA'] as const } };
const liveness = { property: 'fault-ends', requirement: 'L-1', doc: 'every fault ends' };

describe('renderMermaid writes exactly this diagram', () => {
  it('a safety trace: participants from the rule names in order of use, one message and note per step, the violation over all', () => {
    expect(renderMermaid(input)).toBe(
      [
        'sequenceDiagram',
        '    participant Cpu',
        '    participant Hca',
        '    participant Mm',
        '    Note over Cpu,Mm: tiny []: no-busy (T-1)<br/>0. init start',
        '    Cpu->>Cpu: 1. CpuWrite(p=0)',
        '    Note over Cpu: flag: false → true',
        '    Hca->>Hca: 2. HcaFault#60;p=1#62;#59; #35;2',
        '    Note over Hca: mode: idle → busy<br/>n: 1 → 2<br/>page: none → 1',
        '    Note over Cpu,Mm: VIOLATION no-busy (T-1): never busy',
        '    Mm->>Mm: 3. Mm()',
      ].join('\n'),
    );
  });

  it('a lasso that cycles: declared actors, a message between two of them, the repeating steps in a loop block', () => {
    expect(renderMermaid({ ...input, violation: null, loop: 1, liveness, actors })).toBe(
      [
        'sequenceDiagram',
        '    participant CPU',
        '    participant HCA',
        '    participant Mm',
        '    Note over CPU,Mm: tiny []: fault-ends (L-1)<br/>0. init start',
        '    CPU->>HCA: 1. CpuWrite(p=0)',
        '    Note over CPU,HCA: flag: false → true',
        '    loop steps 2..3 repeat forever: fault-ends never holds',
        '    HCA->>HCA: 2. HcaFault#60;p=1#62;#59; #35;2',
        '    Note over HCA: mode: idle → busy<br/>n: 1 → 2<br/>page: none → 1',
        '    Mm->>Mm: 3. Mm()',
        '    end',
      ].join('\n'),
    );
  });

  it('a lasso of a whole run from the start state: the loop opens before the first message; without liveness it names no property', () => {
    const text = renderMermaid({ ...input, violation: null, loop: 0 });
    expect(text.split('\n').slice(4, 6)).toEqual(['    Note over Cpu,Mm: tiny []<br/>0. init start', '    loop steps 1..3 repeat forever']);
    expect(text.split('\n').at(-1)).toBe('    end');
  });

  it('a lasso that stops: no loop block, the stop said in a last note over every participant', () => {
    const text = renderMermaid({ ...input, violation: null, loop: 3, liveness });
    expect(text).not.toMatch(/\bloop\b|\bend$/m);
    expect(text.split('\n').slice(-2)).toEqual(['    Mm->>Mm: 3. Mm()', '    Note over Cpu,Mm: State 3: no rule is enabled#59; the run stays here forever.']);
  });

  it('a violation in the start state is a note after the steps; one participant is the whole span', () => {
    const one = renderMermaid({ ...input, states: states.slice(0, 2), labels: labels.slice(0, 2), violation: { ...violation, step: 0 } });
    expect(one).toBe(
      [
        'sequenceDiagram',
        '    participant Cpu',
        '    Note over Cpu: tiny []: no-busy (T-1)<br/>0. init start',
        '    Cpu->>Cpu: 1. CpuWrite(p=0)',
        '    Note over Cpu: flag: false → true',
        '    Note over Cpu: VIOLATION in the start state: no-busy (T-1)',
      ].join('\n'),
    );
  });

  it('a trace of the start state alone is drawn over the protocol, with its variant and parameters, as a valid identifier', () => {
    const m = { ...model, protocol: 'my-proto', variant: 'no-fence', params: { pages: 2, mode: 'a;b' } };
    expect(renderMermaid({ model: m, states: states.slice(0, 1), labels: [], violation: null })).toBe(
      ['sequenceDiagram', '    participant my_proto', '    Note over my_proto: my-proto (variant no-fence) [pages=2 mode=a#59;b]<br/>0. start'].join('\n'),
    );
  });

  it('mermaidText: arrows become →, runs of white space (line breaks too) one space, the special characters entity codes', () => {
    expect(mermaidText('a ->\n\tb')).toBe('a → b');
    expect(mermaidText('x;#<>y')).toBe('x#59;#35;#60;#62;y');
    expect(mermaidText('plain text, (p=0) & more')).toBe('plain text, (p=0) & more');
  });
});

describe('the helpers every rendering shares', () => {
  it('paramsLine and traceSubject: name=value pairs in order, the variant only when there is one', () => {
    const m = { ...model, variant: 'v1', params: { a: 1, b: 'x' } };
    expect(paramsLine(m)).toBe('a=1 b=x');
    expect(traceSubject(m)).toBe('tiny (variant v1) [a=1 b=x]');
    expect(traceSubject(model)).toBe('tiny []');
  });

  it('loopSentence: null without a loop; a stop at the last state; a cycle otherwise (also from state 0)', () => {
    expect(loopSentence(input)).toBeNull();
    expect(loopSentence({ ...input, loop: 3 })).toBe('State 3: no rule is enabled; the run stays here forever.');
    expect(loopSentence({ ...input, loop: 2 })).toBe('Steps 3..3 lead back to state 2: these steps repeat forever.');
    expect(loopSentence({ ...input, loop: 0 })).toBe('Steps 1..3 lead back to state 0: these steps repeat forever.');
  });
});

describe('the actors of a step', () => {
  it('ruleOfLabel: the name before the parenthesis, trimmed; a label without one is the whole label', () => {
    expect(ruleOfLabel('DriverFenceDma(p=0)')).toBe('DriverFenceDma');
    expect(ruleOfLabel(' Mm (p=0)')).toBe('Mm');
    expect(ruleOfLabel('  Tick  ')).toBe('Tick');
    expect(ruleOfLabel('(p=0)')).toBe('');
  });

  it('stepActors: a declared actor for both ends; an exact participant before one it only starts; else the first word; a lower-case name whole', () => {
    expect(stepActors({ participants: { CPU: 'c' }, rules: { Tick: 'CPU' } }, 'Tick()')).toEqual({ from: 'CPU', to: 'CPU' });
    expect(stepActors({ participants: { Driver: 'd', Drv: 'x' } }, 'DrvMap(p=0)')).toEqual({ from: 'Drv', to: 'Drv' });
    expect(stepActors({ participants: { Hcax: 'x', HCA: 'h' } }, 'HcaFault()')).toEqual({ from: 'HCA', to: 'HCA' });
    expect(stepActors({ participants: { Driver: 'd' } }, 'Dev2Map()')).toEqual({ from: 'Dev2', to: 'Dev2' });
    expect(stepActors(undefined, 'tick(p=0)')).toEqual({ from: 'tick', to: 'tick' });
    expect(stepActors({ participants: {} }, 'CPUWrite()')).toEqual({ from: 'C', to: 'C' });
  });

  it('participantsOf: the declared ones in declared order (only those used), then the derived ones in order of use, each once', () => {
    const a = { participants: { MM: 'mm', Driver: 'd', HCA: 'h', Unused: 'u' }, rules: { HcaDma: 'HCA', MmStart: ['MM', 'Driver'] as const } };
    expect(participantsOf(a, ['HcaDma(d=0)', 'ZapPte()', 'MmStart(p=0)', 'CpuRead()', 'ZapPte()'])).toEqual(['MM', 'Driver', 'HCA', 'Zap', 'Cpu']);
    expect(participantsOf(undefined, [])).toEqual([]);
  });
});

describe('renderHtml writes exactly this page', () => {
  const page = renderHtml({ ...input, title: 'Trace <of> "tiny"', engine: 'explicit & bfs', note: 'B1 <race>' });
  const rows = page.split('\n').filter((l) => l.startsWith('<tr id='));

  it('the title and the header list are escaped; no variant is said so; the engine and note only when given', () => {
    expect(page.startsWith('<!doctype html>\n<html lang="en"><head><meta charset="utf-8">')).toBe(true);
    expect(page).toContain('<title>Trace &lt;of&gt; &quot;tiny&quot;</title>');
    expect(page).toContain('<h1>Trace &lt;of&gt; &quot;tiny&quot;</h1>');
    expect(page).toContain(
      '<dl class="about"><dt>protocol</dt><dd>tiny</dd><dt>variant</dt><dd>none (the protocol as specified)</dd><dt>parameters</dt><dd></dd><dt>engine</dt><dd>explicit &amp; bfs</dd><dt>note</dt><dd>B1 &lt;race&gt;</dd></dl>',
    );
    const m = { ...model, variant: 'no<fence>', params: { pages: 2, mode: 'a&b' } };
    expect(renderHtml({ ...input, model: m, title: 't' })).toContain(
      '<dl class="about"><dt>protocol</dt><dd>tiny</dd><dt>variant</dt><dd>no&lt;fence&gt;</dd><dt>parameters</dt><dd><code>pages=2</code> <code>mode=a&amp;b</code></dd></dl>',
    );
    expect(page.endsWith('</tbody></table>\n</body></html>')).toBe(true);
    expect(page).not.toMatch(/<script|<link|src=/);
  });

  it('the verdict box: the violated property and step, its doc, what the step changed; marked bad', () => {
    expect(page).toContain(
      '<section id="verdict" class="bad"><p><strong>invariant no-busy [T-1] is violated at step 2: HcaFault&lt;p=1&gt;; #2</strong> (<a href="#step-2">the step in the table</a>)</p><p>never busy</p><p>That step changed: <code>mode: idle -&gt; busy</code>, <code>n: 1 -&gt; 2</code>, <code>page: none -&gt; 1</code></p></section>',
    );
  });

  it('one row per state: the start state collapsed, changed fields shown and the others collapsed, the violating row marked', () => {
    expect(rows).toEqual([
      '<tr id="step-0"><td>0</td><td class="who"></td><td class="step"><code>init start</code></td><td class="fields"><details><summary>start state: 4 fields</summary><code>flag = false</code> <code>mode = idle</code> <code>n = 1</code> <code>page = none</code></details></td></tr>',
      '<tr id="step-1"><td>1</td><td class="who">Cpu</td><td class="step"><code>CpuWrite(p=0)</code></td><td class="fields"><code>flag: false -&gt; true</code><details><summary>3 unchanged fields</summary><code>mode = idle</code> <code>n = 1</code> <code>page = none</code></details></td></tr>',
      '<tr id="step-2" class="bad"><td>2</td><td class="who">Hca</td><td class="step"><code>HcaFault&lt;p=1&gt;; #2</code><div class="why">invariant no-busy [T-1] violated here</div></td><td class="fields"><code>mode: idle -&gt; busy</code> <code>n: 1 -&gt; 2</code> <code>page: none -&gt; 1</code><details><summary>1 unchanged fields</summary><code>flag = true</code></details></td></tr>',
      '<tr id="step-3"><td>3</td><td class="who">Mm</td><td class="step"><code>Mm()</code></td><td class="fields"><span class="none">no field changed</span><details><summary>4 unchanged fields</summary><code>flag = true</code> <code>mode = busy</code> <code>n = 2</code> <code>page = 1</code></details></td></tr>',
    ]);
  });

  it('a cycling lasso: the rows after the loop state shaded, the loop state says so, the liveness verdict and loop sentence on top', () => {
    const p = renderHtml({ ...input, violation: null, loop: 1, liveness, actors, verdict: 'Replay: the lasso <holds>.', title: 't' });
    const r = p.split('\n').filter((l) => l.startsWith('<tr id='));
    expect(r.map((l) => /^<tr id="step-\d"( class="[^"]*")?>/.exec(l)?.[1] ?? '')).toEqual(['', '', ' class="loop"', ' class="loop"']);
    expect(r[1]).toContain(
      '<td class="who">CPU → HCA</td><td class="step"><code>CpuWrite(p=0)</code><div class="loopstart">the loop goes back to this state</div></td>',
    );
    expect(r[2]).toContain('<td class="who">HCA</td>');
    expect(p).toContain(
      '<section id="verdict" class="bad"><p><strong>liveness fault-ends [L-1] never holds on this run</strong></p><p>every fault ends</p><p class="loopnote">Steps 2..3 lead back to state 1: these steps repeat forever. (shaded below)</p><p>Replay: the lasso &lt;holds&gt;.</p></section>',
    );
    expect(p).not.toContain('class="why"');
  });

  it('a stopping lasso: only the last row is shaded and is where the loop goes back to', () => {
    const p = renderHtml({ ...input, violation: null, loop: 3, title: 't' });
    const r = p.split('\n').filter((l) => l.startsWith('<tr id='));
    expect(r.map((l) => /^<tr id="step-\d"( class="[^"]*")?>/.exec(l)?.[1] ?? '')).toEqual(['', '', '', ' class="loop"']);
    expect(r.filter((l) => l.includes('loopstart'))).toHaveLength(1);
    expect(r[3]).toContain('<div class="loopstart">the loop goes back to this state</div>');
    // Without a violation or a liveness property the box is not marked bad.
    expect(p).toContain('<section id="verdict"><p class="loopnote">State 3: no rule is enabled; the run stays here forever. (shaded below)</p></section>');
  });

  it('a violation in the start state: no "that step changed"; a violating row in a loop has both classes', () => {
    const p = renderHtml({ ...input, violation: { ...violation, step: 0 }, title: 't' });
    expect(p).toContain(
      '<p><strong>invariant no-busy [T-1] is violated at the start state</strong> (<a href="#step-0">the step in the table</a>)</p><p>never busy</p></section>',
    );
    const q = renderHtml({ ...input, loop: 1, title: 't' });
    expect(q).toContain('<tr id="step-2" class="bad loop">');
  });

  it('a step that changes nothing gives no "that step changed"; nothing to say gives no verdict box; full opens every list', () => {
    const p = renderHtml({ ...input, violation: { ...violation, step: 3 }, title: 't' });
    expect(p).toContain('<p>never busy</p></section>');
    expect(p).not.toContain('That step changed');
    const quiet = renderHtml({ ...input, violation: null, title: 't' });
    expect(quiet).not.toContain('<section id="verdict"');
    expect(quiet).not.toContain('<details open>');
    const full = renderHtml({ ...input, violation: null, full: true, title: 't' });
    expect(full.match(/<details open>/g)).toHaveLength(4);
    expect(full).not.toMatch(/<details>/);
  });

  it('escapeMarkup escapes &, <, > and " (the ampersand first), and nothing else', () => {
    expect(escapeMarkup(`<a href="x">&amp;'</a>`)).toBe("&lt;a href=&quot;x&quot;&gt;&amp;amp;'&lt;/a&gt;");
  });
});
