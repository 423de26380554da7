/// <reference lib="dom" />
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { DuckDBInstance } from '@duckdb/node-api';
import { type Browser, type Page, chromium } from 'playwright-core';
import { type BatchId, toBatchId } from '@batchline/batch-id';
import type { TaskAudit } from '@batchline/snowflake-loader';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { runCli } from '../../src/cli-program.js';
import { TASK_NAMES } from '../../src/config.js';
import { type DemoResult, demo, demoBatchIds, renderDemo } from '../../src/demo.js';
import { pageBatch, renderStatusPage, statusPageData } from '../../src/status-page/index.js';
import { expectedBatches } from '../helpers.js';

const packageDir = fileURLToPath(new URL('../..', import.meta.url));
/** The test's output (the Nx output of the test target): the screenshot lands here. */
const outputDir = path.join(packageDir, 'test-results');
/** The README's copy of the screenshot, refreshed by `BATCHLINE_UPDATE_SCREENSHOT=1 npx vitest run test/browser`. */
const readmeScreenshot = path.join(packageDir, 'docs', 'status-page.png');

let base: string;
let result: DemoResult;
let pageFile: string;
let browser: Browser;

/** Words of a shell command line as the demo prints it (plain words and '...' quoting). */
function shellWords(line: string): string[] {
  const words: string[] = [];
  for (const m of line.matchAll(/'((?:[^']|'\\'')*)'|(\S+)/g)) words.push(m[1] !== undefined ? m[1].replace(/'\\''/g, "'") : m[2]!);
  return words;
}

/** BATCH_AUDIT's states read with our own SQL, straight from the DuckDB file: what each grid cell must show. */
async function auditStates(file: string): Promise<Map<string, string>> {
  const instance = await DuckDBInstance.create(file, { access_mode: 'READ_ONLY' });
  const conn = await instance.connect();
  try {
    const rows = (await conn.runAndReadAll('SELECT BATCH_ID, TASK, STATE FROM BATCH_AUDIT')).getRows();
    return new Map(rows.map((r) => [`${String(r[0])}|${String(r[1])}`, String(r[2])]));
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
}

beforeAll(async () => {
  const found = inject('chromium');
  if ('error' in found) throw new Error(`no browser for the status page test: ${found.error}`);
  base = await mkdtemp(path.join(tmpdir(), 'batchline-status-page-'));
  // The demo exactly as `npm start` runs it (default scale), then the command its closing lines name.
  result = await demo({ dir: base });
  const line = renderDemo(result)
    .split('\n')
    .find((l) => l.includes('batchline status --html'));
  if (!line) throw new Error('the demo no longer names the command that writes the status page');
  const args = shellWords(line.slice(line.indexOf('batchline status') + 'batchline '.length));
  pageFile = args[args.indexOf('--html') + 1]!;
  const stderr: string[] = [];
  const code = await runCli(args, { stdout: () => undefined, stderr: (t) => stderr.push(t), env: {}, cwd: base });
  if (code !== 0) throw new Error(`batchline ${args.join(' ')} exited ${code}: ${stderr.join('')}`);
  browser = await chromium.launch({ executablePath: found.path, args: ['--no-sandbox'] });
}, 240_000);

afterAll(async () => {
  await browser?.close();
  if (base) await rm(base, { recursive: true, force: true });
});

interface Loaded {
  readonly page: Page;
  readonly consoleErrors: string[];
  readonly requests: string[];
}

async function open(viewport = { width: 1280, height: 900 }): Promise<Loaded> {
  const page = await browser.newPage({ viewport });
  const consoleErrors: string[] = [];
  const requests: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') consoleErrors.push(`${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => consoleErrors.push(`pageerror: ${e.message}`));
  page.on('request', (r) => requests.push(r.url()));
  await page.goto(pathToFileURL(pageFile).href, { waitUntil: 'load' });
  return { page, consoleErrors, requests };
}

describe('the status page in headless Chromium, after the demo\'s two batches', () => {
  it('loads from file:// without a console error and without any request but the page itself', async () => {
    const { page, consoleErrors, requests } = await open();
    try {
      expect(consoleErrors).toEqual([]);
      expect(requests).toEqual([pathToFileURL(pageFile).href]);
      const html = await readFile(pageFile, 'utf8');
      expect(html).not.toMatch(/\b(src|href)=["']?(https?:)?\/\//i); // nothing that could load from the network
    } finally {
      await page.close();
    }
  });

  it('has a grid of 2 batches x 7 tasks in the states BATCH_AUDIT holds, newest first', async () => {
    const expected = await auditStates(fileURLToPath(new URL(result.warehouse.replace(/^duckdb:\/\//, 'file://'))));
    const { page } = await open();
    try {
      const rows = page.locator('#grid .gr[data-batch]');
      expect(await rows.count()).toBe(2);
      expect(await page.locator('#grid .c').count()).toBe(14);
      const newestFirst = [...demoBatchIds()].reverse();
      expect(await rows.evaluateAll((rs) => rs.map((r) => r.getAttribute('data-batch')))).toEqual(newestFirst);
      for (const batchId of newestFirst) {
        const cells = page.locator(`#grid .gr[data-batch="${batchId}"] .c`);
        const seen = await cells.evaluateAll((tds) => tds.map((td) => [td.getAttribute('data-task'), td.getAttribute('data-state'), getComputedStyle(td, '::before').content]));
        expect(seen.map(([task]) => task)).toEqual([...TASK_NAMES]);
        for (const [task, state, text] of seen) {
          expect(state).toBe(expected.get(`${batchId}|${task}`) ?? 'waiting');
          expect(text).toMatch(/^"[✓✕▶↷○]"$/); // a shape, not only a colour
        }
      }
    } finally {
      await page.close();
    }
  });

  it('shows each cell\'s time and attempts on focus, and moves between cells with the arrow keys', async () => {
    const { page } = await open();
    try {
      await page.locator('#grid .gr a').first().focus();
      await page.keyboard.press('ArrowRight'); // the state column is not a stop: the first task cell
      const focused = () => page.evaluate(() => [document.activeElement?.getAttribute('data-task'), document.activeElement?.closest('.gr')?.getAttribute('data-batch')]);
      expect(await focused()).toEqual(['claim:orders', demoBatchIds()[1]]);
      await page.keyboard.press('ArrowDown');
      await page.keyboard.press('ArrowRight');
      expect(await focused()).toEqual(['claim:customers', demoBatchIds()[0]]);
      const tip = page.locator('#tip');
      expect(await tip.isVisible()).toBe(true);
      expect(await tip.textContent()).toMatch(/claim:customers: succeeded/);
      expect(await tip.textContent()).toMatch(/attempt 1/);
      expect(await tip.textContent()).toMatch(/time \d/);
      // hovering another cell shows that one's
      await page.locator(`#grid .gr[data-batch="${demoBatchIds()[1]}"] .c[data-task="transform"]`).hover();
      expect(await tip.textContent()).toMatch(/^transform: succeeded/);
    } finally {
      await page.close();
    }
  });

  it('charts the orphans waiting after each batch as computed from the generated rows: 26, then 0', async () => {
    const oracle = expectedBatches(result.dataset).map((b) => b.pendingOrphans);
    expect(oracle).toEqual([26, 0]); // the demo's story: batch 2 brings the late customers
    const { page } = await open();
    try {
      const bars = page.locator('#chart-orphans g.bar');
      expect(await bars.count()).toBe(2);
      const shown = await bars.evaluateAll((gs) => gs.map((g) => [g.getAttribute('data-batch'), g.getAttribute('data-value'), g.querySelector('text.value')?.textContent]));
      expect(shown).toEqual(demoBatchIds().map((id, i) => [id, String(oracle[i]), String(oracle[i])]));
      await expect.poll(() => page.locator('#chart-orphans').isVisible()).toBe(true);
    } finally {
      await page.close();
    }
  });

  it('draws the Gantt chart of the newest batch with seven bars, and of another batch once it is selected', async () => {
    const { page } = await open();
    try {
      const [older, newest] = demoBatchIds();
      const bars = page.locator('#gantt .gbar:not(.retry)');
      expect(await page.locator('#gantt').getAttribute('data-batch')).toBe(newest);
      expect(await bars.count()).toBe(7);
      expect(await bars.evaluateAll((gs) => gs.map((g) => g.getAttribute('data-task')))).toEqual([...TASK_NAMES]);
      expect(await page.locator('#gantt .gbar rect').first().isVisible()).toBe(true);
      await page.locator(`#grid a[href="#run-${older}"]`).click();
      await expect.poll(() => page.locator('#gantt').getAttribute('data-batch')).toBe(older);
      expect(await bars.count()).toBe(7);
      expect(await page.locator(`#grid .gr.selected`).getAttribute('data-batch')).toBe(older);
    } finally {
      await page.close();
    }
  });

  it('keeps a narrow-screen layout without page-wide horizontal scrolling, and saves screenshots', async () => {
    const wide = await open({ width: 1280, height: 900 });
    const narrow = await open({ width: 390, height: 844 });
    try {
      await mkdir(outputDir, { recursive: true });
      const shot = path.join(outputDir, 'status-page.png');
      await wide.page.screenshot({ path: shot, fullPage: true });
      await narrow.page.screenshot({ path: path.join(outputDir, 'status-page-narrow.png'), fullPage: true });
      const overflow = await narrow.page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      expect(overflow).toBeLessThanOrEqual(0);
      expect((await readFile(shot)).subarray(1, 4).toString()).toBe('PNG');
      if (process.env['BATCHLINE_UPDATE_SCREENSHOT']) {
        await mkdir(path.dirname(readmeScreenshot), { recursive: true });
        await copyFile(shot, readmeScreenshot);
      }
    } finally {
      await wide.page.close();
      await narrow.page.close();
    }
  });
});

describe('the status page in headless Chromium, with every task state, retries and a hostile error text', () => {
  const b1 = toBatchId('20261126T0300');
  const b2 = toBatchId('20261126T0315');
  const at = (s: number) => new Date(Date.UTC(2026, 10, 26, 3, 17, s));
  const audit = (batchId: BatchId, task: string, fields: Partial<TaskAudit> = {}): TaskAudit => ({
    batchId,
    task,
    state: 'succeeded',
    attempt: 1,
    startedAt: at(0),
    finishedAt: at(1),
    ...fields,
  });
  let file: string;

  beforeAll(async () => {
    const newer = pageBatch(b2, 'failed at transform', [
      audit(b2, 'claim:orders'),
      audit(b2, 'claim:customers', { state: 'skipped' }),
      audit(b2, 'load:orders', { state: 'running', finishedAt: undefined }),
      audit(b2, 'load:customers'),
      audit(b2, 'transform', {
        state: 'failed',
        attempt: 3,
        startedAt: at(8),
        finishedAt: at(9),
        error: '<img src=x onerror="document.title=1"> bad row',
        attempts: [
          { attempt: 1, state: 'failed', startedAt: at(2), finishedAt: at(3), error: 'first' },
          { attempt: 2, state: 'running', startedAt: at(5) },
        ],
      }),
    ]);
    const older = pageBatch(b1, 'done', TASK_NAMES.map((t) => audit(b1, t)));
    const data = statusPageData({
      status: { landing: { orders: { files: 2, bytes: 10 }, customers: { files: 0, bytes: 0 } }, batches: [] },
      audits: new Map(),
      store: 's',
      warehouse: 'w',
      now: at(30),
    });
    file = path.join(base, 'states.html');
    await writeFile(file, renderStatusPage({ ...data, batches: [newer, older], holdingBack: { batchId: b2, reason: 'transform failed' } }));
  });

  async function load(): Promise<Loaded> {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const consoleErrors: string[] = [];
    const requests: string[] = [];
    page.on('console', (m) => m.type() === 'error' && consoleErrors.push(m.text()));
    page.on('pageerror', (e) => consoleErrors.push(e.message));
    page.on('request', (r) => requests.push(r.url()));
    await page.goto(pathToFileURL(file).href);
    return { page, consoleErrors, requests };
  }

  it('shows each state with its own glyph, in colours of readable contrast (WCAG AA, 4.5:1)', async () => {
    const { page, consoleErrors } = await load();
    try {
      expect(consoleErrors).toEqual([]);
      const states = await page.locator(`#grid .gr[data-batch="${b2}"] .c`).evaluateAll((tds) => tds.map((td) => td.getAttribute('data-state')));
      expect(states).toEqual(['succeeded', 'skipped', 'running', 'succeeded', 'failed', 'waiting', 'waiting']);
      const colours = await page.locator(`#grid .gr[data-batch="${b2}"] .c`).evaluateAll((tds) =>
        tds.map((td) => {
          const s = getComputedStyle(td);
          return [td.getAttribute('data-state'), getComputedStyle(td, '::before').content, s.color, s.backgroundColor];
        }),
      );
      const glyphs = new Map<string, string>();
      for (const [state, glyph, fg, bg] of colours) {
        glyphs.set(state!, glyph!);
        expect(contrast(fg!, bg!), `${state}: ${fg} on ${bg}`).toBeGreaterThanOrEqual(4.5);
      }
      expect(new Set(glyphs.values()).size).toBe(glyphs.size); // one shape per state
    } finally {
      await page.close();
    }
  });

  it('draws retries hatched before the last attempt, interrupted ones open-ended, and shows the error as text', async () => {
    const { page, consoleErrors, requests } = await load();
    try {
      const bars = await page.locator('#gantt .gbar[data-task="transform"]').evaluateAll((gs) => gs.map((g) => [g.getAttribute('data-attempt'), g.classList.contains('retry'), g.querySelector('.open-end') !== null]));
      expect(bars).toEqual([
        ['1', true, false],
        ['2', true, true],
        ['3', false, false],
      ]);
      await mkdir(outputDir, { recursive: true });
      await page.screenshot({ path: path.join(outputDir, 'status-page-states.png'), fullPage: true });
      expect(await page.locator('#gantt .gbar[data-task="load:orders"] .open-end').count()).toBe(1); // still running
      expect(await page.locator('#gantt .gbar:not(.retry)').count()).toBe(5);
      expect(await page.locator('#gantt dd').first().textContent()).toBe('<img src=x onerror="document.title=1"> bad row');
      expect(await page.locator('img').count()).toBe(0);
      expect(await page.title()).not.toBe('1');
      expect(await page.locator('#holding-back').textContent()).toContain(`batchline run --batch ${b2}`);
      expect(consoleErrors).toEqual([]);
      expect(requests).toEqual([pathToFileURL(file).href]);
    } finally {
      await page.close();
    }
  });

  it('prints: every row without inner scrolling, no tooltips, and a PDF', async () => {
    const { page } = await load();
    try {
      await page.emulateMedia({ media: 'print' });
      expect(await page.locator('#grid-box').evaluate((box) => getComputedStyle(box).maxHeight)).toBe('none');
      await page.locator('#grid .gr a').first().focus();
      await page.keyboard.press('ArrowRight');
      expect(await page.evaluate(() => document.activeElement?.getAttribute('data-task'))).toBe('claim:orders');
      expect(await page.locator('#tip').evaluate((tip) => [tip.classList.contains('on'), getComputedStyle(tip).display])).toEqual([true, 'none']);
      const pdf = await page.pdf({ format: 'A4', printBackground: true });
      await mkdir(outputDir, { recursive: true });
      await writeFile(path.join(outputDir, 'status-page.pdf'), pdf);
      expect(pdf.subarray(0, 5).toString()).toBe('%PDF-');
    } finally {
      await page.close();
    }
  });
});

/** WCAG contrast ratio of two computed `rgb(...)` colours. */
function contrast(a: string, b: string): number {
  const lum = (c: string) => {
    const [r, g, bl] = (c.match(/[\d.]+/g) ?? []).slice(0, 3).map(Number).map((v) => {
      const s = v / 255;
      return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r! + 0.7152 * g! + 0.0722 * bl!;
  };
  const [hi, lo] = [lum(a), lum(b)].sort((x, y) => y - x);
  return (hi! + 0.05) / (lo! + 0.05);
}
