import { defineConfig } from 'tsup';
import { packageBuild } from '../../tsup.shared';

// The bin is split so `demo` and `produce` (and the Firehose SDK behind them) load only when used.
export default defineConfig(
  packageBuild({ entry: ['src/index.ts', 'src/cli.ts'], esmOnly: true }).map((build, i) => (i === 1 ? { ...build, splitting: true } : build)),
);
