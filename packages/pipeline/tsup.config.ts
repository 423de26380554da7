import { defineConfig } from 'tsup';
import { packageBuild } from '../../tsup.shared';

// The bin is split so `demo` and `produce` (and the Firehose SDK behind them) load only when used.
export default defineConfig(packageBuild({ entry: ['src/index.ts', 'src/cli.ts'], esmOnly: true, splitBins: true }));
