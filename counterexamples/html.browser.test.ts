/**
 * The HTML trace page in a real browser: Debian's Chromium, headless, driven by playwright-core
 * (pinned; it downloads no browser of its own). The page must render with no script and no request
 * beyond itself, name the protocol, variant and parameters, show the violating step without
 * scrolling (unchanged fields collapsed, the violation first), and shade a lasso's loop. Skipped
 * with the reason when Chromium is missing, unless MIRRORCHECK_REQUIRE_TOOLS=1 (CI), where
 * test/tools.test.ts fails instead.
 */
// biome-ignore-all lint/performance/useDomNodeTextContent: playwright's innerText is the text as rendered, which is what these tests read
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type BrowserContext, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { haveTool, needs } from '../test/tools.js';

const root = join(import.meta.dirname, '..');
const bin = join(root, 'dist/cli/main.js');
const HAVE_CHROMIUM = haveTool('chromium');
const VIEWPORT = { width: 1280, height: 800 };
let tmp = '';
let browser: BrowserContext | null = null;

/** Writes the page `replay ... --render html` prints for `trace` and returns its path and exit code. */
function page(trace: string, name: string): { file: string; code: number | null } {
  const r = spawnSync(process.execPath, [bin, 'replay', trace, '--render', 'html'], { cwd: root, encoding: 'utf8' });
  const file = join(tmp, `${name}.html`);
  writeFileSync(file, r.stdout);
  return { file, code: r.status };
}

/** Opens a page file; records every request and console error it causes. */
async function open(file: string) {
  const p = await (browser as BrowserContext).newPage();
  const requests: string[] = [];
  const errors: string[] = [];
  p.on('request', (q) => requests.push(q.url()));
  p.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  p.on('pageerror', (e) => errors.push(e.message));
  await p.setViewportSize(VIEWPORT);
  await p.goto(pathToFileURL(file).href);
  return { p, requests, errors };
}

/** Whether a box lies wholly within the first screen (no scrolling). */
const onFirstScreen = (b: { x: number; y: number; width: number; height: number } | null) =>
  b !== null && b.y >= 0 && b.y + b.height <= VIEWPORT.height && b.x >= 0 && b.x + b.width <= VIEWPORT.width;

describe.skipIf(!HAVE_CHROMIUM)(`the HTML trace page in headless Chromium (${needs('chromium')})`, () => {
  beforeAll(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'mc-html-'));
    browser = await chromium.launchPersistentContext(join(tmp, 'profile'), {
      executablePath: '/usr/bin/chromium',
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    });
  });
  afterAll(async () => {
    await browser?.close();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('renders a counterexample: names protocol, variant and parameters; the violating step is on the first screen; unchanged fields collapsed', async () => {
    const { file, code } = page(join(root, 'model/protocols/fenceMigrate/corpus/unblock-before-copy.itf.json'), 'safety');
    expect(code).toBe(1);
    const { p, requests, errors } = await open(file);
    expect(await p.title()).toBe('fence-migrate (variant unblock-before-copy): no-lost-write [FM-R4]');
    const about = await p.locator('dl.about').innerText();
    expect(about).toMatch(/protocol\s+fence-migrate/);
    expect(about).toMatch(/variant\s+unblock-before-copy/);
    expect(about).toMatch(/parameters\s+pages=2 frames=3 slots=1 migrations=2 writes=2 mode=fence order=remap-first fault=atomic/);
    // The violation first, and the violating row itself, without scrolling.
    const verdict = p.locator('#verdict');
    expect(await verdict.innerText()).toMatch(/invariant no-lost-write \[FM-R4\] is violated at step 7: HcaCompleteDma\(d=0\)/);
    expect(onFirstScreen(await verdict.boundingBox())).toBe(true);
    const bad = p.locator('tr.bad');
    expect(await bad.count()).toBe(1);
    expect(await bad.getAttribute('id')).toBe('step-7');
    expect(onFirstScreen(await bad.boundingBox())).toBe(true);
    expect(await bad.innerText()).toMatch(/HCA → MM\s+HcaCompleteDma\(d=0\)/);
    // Unchanged fields (and the whole start state) are collapsed until asked for.
    const startFields = p.locator('#step-0 details code');
    expect(await startFields.count()).toBe(31);
    expect(await startFields.first().isVisible()).toBe(false);
    await p.locator('#step-0 summary').click();
    expect(await startFields.first().isVisible()).toBe(true);
    expect(await p.locator('#step-7 td.fields > code').first().isVisible()).toBe(true);
    expect(requests).toEqual([pathToFileURL(file).href]);
    expect(errors).toEqual([]);
    await p.close();
  });

  it('renders a lasso with its loop shaded and the liveness property named', async () => {
    const out = join(tmp, 'lasso');
    spawnSync(
      process.execPath,
      [
        bin,
        'check',
        'fence-migrate',
        '--variant',
        'stale-seq-retry',
        '--param',
        'mode=zap-and-fault',
        '--param',
        'fault=retry',
        '--property',
        'held-dma-completes',
        '--out',
        out,
        '--progress',
        'false',
      ],
      { cwd: root },
    );
    const trace = readdirSync(out).find((f) => f.includes('held-dma-completes'));
    expect(trace).toBeDefined();
    const { file, code } = page(join(out, trace as string), 'lasso');
    expect(code).toBe(1);
    const { p, errors } = await open(file);
    expect(await p.locator('#verdict').innerText()).toMatch(
      /liveness held-dma-completes \[FM-L1\] never holds on this run[\s\S]*Steps \d+\.\.\d+ lead back to state \d+: these steps repeat forever/,
    );
    expect(onFirstScreen(await p.locator('#verdict').boundingBox())).toBe(true);
    const loopRows = p.locator('tr.loop');
    expect(await loopRows.count()).toBeGreaterThan(0);
    const shade = await loopRows
      .first()
      .locator('td')
      .first()
      .evaluate((td) => (globalThis as unknown as { getComputedStyle(e: unknown): { backgroundColor: string } }).getComputedStyle(td).backgroundColor);
    const plain = await p
      .locator('#step-0 td')
      .first()
      .evaluate((td) => (globalThis as unknown as { getComputedStyle(e: unknown): { backgroundColor: string } }).getComputedStyle(td).backgroundColor);
    expect(shade).not.toBe(plain);
    expect(errors).toEqual([]);
    await p.close();
  });
});
