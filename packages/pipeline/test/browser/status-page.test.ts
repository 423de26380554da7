import { copyFile, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { DuckDBInstance } from '@duckdb/node-api';
import { type Browser, type Page, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { runCli } from '../../src/cli-program.js';
import { TASK_NAMES } from '../../src/config.js';
import { type DemoResult, demo, demoBatchIds, renderDemo } from '../../src/demo.js';
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
      const rows = page.locator('#grid tbody tr');
      expect(await rows.count()).toBe(2);
      expect(await page.locator('#grid td.cell').count()).toBe(14);
      const newestFirst = [...demoBatchIds()].reverse();
      expect(await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-batch')))).toEqual(newestFirst);
      for (const batchId of newestFirst) {
        const cells = page.locator(`#grid tr[data-batch="${batchId}"] td.cell`);
        const seen = await cells.evaluateAll((tds) => tds.map((td) => [td.getAttribute('data-task'), td.getAttribute('data-state'), td.textContent]));
        expect(seen.map(([task]) => task)).toEqual([...TASK_NAMES]);
        for (const [task, state, text] of seen) {
          expect(state).toBe(expected.get(`${batchId}|${task}`) ?? 'waiting');
          expect(text).toMatch(/^[✓✕▶↷○]/); // a shape, not only a colour
        }
      }
    } finally {
      await page.close();
    }
  });

  it('shows each cell\'s time and attempts on focus, and moves between cells with the arrow keys', async () => {
    const { page } = await open();
    try {
      await page.locator('#grid tbody th a').first().focus();
      await page.keyboard.press('ArrowRight'); // the state column is not a stop: the first task cell
      const focused = () => page.evaluate(() => [document.activeElement?.getAttribute('data-task'), document.activeElement?.closest('tr')?.getAttribute('data-batch')]);
      expect(await focused()).toEqual(['claim:orders', demoBatchIds()[1]]);
      await page.keyboard.press('ArrowDown');
      await page.keyboard.press('ArrowRight');
      expect(await focused()).toEqual(['claim:customers', demoBatchIds()[0]]);
      const tip = await page.evaluate(() => getComputedStyle(document.activeElement!, '::after').content);
      expect(tip).toMatch(/claim:customers: succeeded/);
      expect(tip).toMatch(/attempt 1/);
      expect(tip).toMatch(/time \d/);
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
      const visibleBars = () => page.locator('.gantt:visible .gbar:not(.retry)');
      expect(await page.locator('.gantt:visible').getAttribute('id')).toBe(`run-${newest}`);
      expect(await visibleBars().count()).toBe(7);
      expect(await visibleBars().evaluateAll((gs) => gs.map((g) => g.getAttribute('data-task')))).toEqual([...TASK_NAMES]);
      await page.locator(`#grid a[href="#run-${older}"]`).click();
      expect(await page.locator('.gantt:visible').getAttribute('id')).toBe(`run-${older}`);
      expect(await visibleBars().count()).toBe(7);
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
