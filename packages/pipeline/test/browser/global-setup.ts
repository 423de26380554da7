import type { TestProject } from 'vitest/node';
import { type ChromiumResult, ensureChromium } from './chromium.js';

declare module 'vitest' {
  export interface ProvidedContext {
    chromium: ChromiumResult;
  }
}

/**
 * Vitest global setup of the pipeline package: make sure Debian's Chromium is there for the browser test
 * (installed with apt-get on a fresh root CI machine, once). Never fails the run: a machine without a browser
 * still runs every other test, and the browser test reports why it has none.
 */
export default async function setup(project: TestProject): Promise<void> {
  project.provide('chromium', await ensureChromium());
}
