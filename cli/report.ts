/**
 * Formatting check results for people (text), scripts (JSON lines) and CI (JUnit XML). Why this
 * module exists: the engines return data; this is the one place that turns it into output, so the
 * JSON fields stay stable for CI users.
 */
import type { CheckResult } from '../checker/engine.js';
import type { ParamValues } from '../model/lang/protocol.js';

/** One checked protocol/variant, as printed with `--format json` (one object per line). */
export interface CheckRecord {
  readonly protocol: string;
  readonly variant: string | null;
  readonly params: ParamValues;
  readonly engine: string;
  readonly strategy?: string;
  /** Whether symmetry reduction was applied (states then counts canonical representatives). */
  readonly symmetry?: boolean;
  readonly status: CheckResult['status'];
  readonly guarantee: string | null;
  readonly bound?: number;
  readonly states: number;
  readonly transitions: number;
  readonly depth: number;
  readonly elapsedMs: number;
  readonly statesPerSec: number;
  readonly bytesPerState: number;
  readonly violations: readonly {
    readonly property: string;
    readonly requirement: string;
    readonly kind: string;
    readonly length: number | null;
    readonly trace: string | null;
    readonly message: string;
    readonly loop?: number;
  }[];
  readonly covers: readonly { readonly name: string; readonly requirement: string; readonly reached: boolean; readonly depth: number | null }[];
  readonly reason?: string;
  /** Selected properties this engine does not check (liveness outside the explicit engine): not part of the verdict. */
  readonly unchecked?: readonly string[];
  readonly error?: { readonly code: string; readonly message: string; readonly trace: string | null };
  readonly seed?: string;
  readonly runs?: number;
}

const fmtNum = (n: number) => (n >= 1e6 ? `${(n / 1e6).toFixed(2)}M` : n >= 1e4 ? `${(n / 1e3).toFixed(1)}k` : String(n));

export function paramsText(p: ParamValues): string {
  return Object.entries(p)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
}

/** Human-readable summary of one record. */
export function textRecord(r: CheckRecord): string {
  const lines: string[] = [];
  const head = `${r.protocol}${r.variant ? ` (variant ${r.variant})` : ''} [${paramsText(r.params)}] engine ${r.engine}${r.strategy ? ` ${r.strategy}` : ''}${r.symmetry ? ' symmetry' : ''}`;
  lines.push(head);
  switch (r.status) {
    case 'ok':
      lines.push(
        `  OK: every ${r.unchecked?.length ? 'checked ' : ''}property holds (${r.guarantee}${r.bound !== undefined ? ` to depth ${r.bound}` : ''}${r.runs !== undefined ? `, ${r.runs} runs, seed ${r.seed}` : ''})`,
      );
      break;
    case 'violated':
      for (const v of r.violations) {
        lines.push(`  VIOLATED ${v.property} [${v.requirement}]${v.length !== null ? ` after ${v.length} steps` : ''}: ${v.message}`);
        if (v.trace) lines.push(`    trace: ${v.trace}   (mirrorcheck replay ${v.trace})`);
      }
      break;
    case 'incomplete':
      lines.push(`  INCOMPLETE: ${r.reason} (no guarantee)`);
      break;
    case 'error':
      lines.push(`  ERROR ${r.error?.code}: ${r.error?.message}`);
      if (r.error?.trace) lines.push(`    trace: ${r.error.trace}`);
      break;
  }
  if (r.unchecked?.length) lines.push(`  not checked by the ${r.engine} engine (liveness; use --engine explicit): ${r.unchecked.join(', ')}`);
  const unreached = r.covers.filter((c) => !c.reached).map((c) => c.name);
  if (r.covers.length)
    lines.push(
      `  covers reached: ${r.covers.length - unreached.length}/${r.covers.length}${unreached.length ? ` (not reached: ${unreached.join(', ')})` : ''}`,
    );
  if (r.engine === 'smt')
    lines.push(
      `  bounded model checking: ${r.status === 'violated' ? 'the counterexample is a shortest one' : `no violation within ${r.bound ?? r.depth} steps`}, ${fmtNum(r.transitions)} solver queries, ${(r.elapsedMs / 1000).toFixed(2)} s`,
    );
  else if (r.engine === 'random')
    lines.push(
      `  ${r.runs ?? '?'} runs of up to ${r.bound ?? '?'} steps (seed ${r.seed ?? '?'}), ${fmtNum(r.transitions)} steps taken, ${fmtNum(r.states)} distinct states seen, ${(r.elapsedMs / 1000).toFixed(2)} s`,
    );
  else
    lines.push(
      `  ${fmtNum(r.states)} distinct states, ${fmtNum(r.transitions)} transitions, depth ${r.depth}, ${(r.elapsedMs / 1000).toFixed(2)} s, ${fmtNum(r.statesPerSec)} states/s, ${r.bytesPerState} bytes/state`,
    );
  return lines.join('\n');
}

const xml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** JUnit XML: one test suite per record, one test case per violation (or one passing case). */
export function junit(records: readonly CheckRecord[]): string {
  const suites = records.map((r) => {
    const name = `${r.protocol}${r.variant ? `.${r.variant}` : ''}`;
    const cases: string[] = [];
    if (r.status === 'ok') cases.push(`    <testcase classname="${xml(name)}" name="all properties (${r.guarantee})" time="${r.elapsedMs / 1000}"/>`);
    for (const v of r.violations) {
      cases.push(
        `    <testcase classname="${xml(name)}" name="${xml(`${v.property} [${v.requirement}]`)}"><failure message="${xml(v.message)}">${xml(v.trace ?? '')}</failure></testcase>`,
      );
    }
    if (r.status === 'incomplete')
      cases.push(`    <testcase classname="${xml(name)}" name="completeness"><failure message="${xml(r.reason ?? 'incomplete')}"/></testcase>`);
    if (r.status === 'error') cases.push(`    <testcase classname="${xml(name)}" name="model"><error message="${xml(r.error?.message ?? '')}"/></testcase>`);
    const failures = cases.filter((c) => c.includes('<failure')).length;
    const errors = cases.filter((c) => c.includes('<error')).length;
    return `  <testsuite name="${xml(name)}" tests="${cases.length}" failures="${failures}" errors="${errors}" time="${r.elapsedMs / 1000}">\n${cases.join('\n')}\n  </testsuite>`;
  });
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites>\n${suites.join('\n')}\n</testsuites>`;
}
