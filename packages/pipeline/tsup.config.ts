import { defineConfig } from 'tsup';
import { packageBuild } from '../../tsup.shared';

// `@batchline/pipeline/demo` is its own entry, so the library entry never loads the producer or the CLI;
// the bin is split so `demo` and `produce` (and the Firehose SDK behind them) load only when used.
export default defineConfig(
  packageBuild({ entry: ['src/index.ts', 'src/cli.ts'], subpaths: { demo: 'src/demo-entry.ts' }, esmOnly: true, splitBins: true }),
);
