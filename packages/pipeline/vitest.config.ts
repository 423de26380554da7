import { mergeConfig } from 'vitest/config';
import { packageTests } from '../../vitest.shared.ts';

export default mergeConfig(packageTests(import.meta.dirname), {
  // Installs Debian's chromium for test/browser when it is missing (CI: `npm ci && npm test` as root).
  test: { globalSetup: ['test/browser/global-setup.ts'] },
});
