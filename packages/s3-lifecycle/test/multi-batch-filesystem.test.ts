import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { FileObjectStore } from '../src/index.js';
import { describeMultiBatch } from './support/multi-batch-suite.js';

let dir = '';
describeMultiBatch(
  'filesystem',
  async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'batchline-multi-'));
    return { store: new FileObjectStore(dir, { fsync: false }), close: () => rm(dir, { recursive: true, force: true }) };
  },
  {
    settling: 'filesystem',
    // Entries a directory can hold that no object key can name, or that are not files.
    untakeable: () => ({
      async create(landingPrefix) {
        const landing = path.join(dir, ...landingPrefix.slice(0, -1).split('/'));
        await mkdir(path.join(landing, 'odd'), { recursive: true });
        const outside = path.join(dir, 'outside.csv');
        await writeFile(outside, 'not in landing\n');
        await symlink(outside, path.join(landing, 'odd', 'link.csv'));
        await writeFile(path.join(landing, 'odd', 'back\\slash.csv'), 'a\n');
        await writeFile(path.join(landing, 'odd', 'ctl\u0001.csv'), 'b\n');
        await writeFile(path.join(landing, 'odd', 'nel\u0085.csv'), 'c\n');
        await writeFile(Buffer.concat([Buffer.from(path.join(landing, 'odd', 'latin1-')), Buffer.from([0xe9]), Buffer.from('.csv')]), 'd\n');
        const expected = new Map<string, RegExp>([
          ['odd/link.csv', /symbolic link/],
          ['odd/back\\slash.csv', /backslash/],
          ['odd/ctl\u0001.csv', /control character/],
          ['odd/nel\u0085.csv', /control character/],
          ['odd/latin1-\ufffd.csv', /not valid UTF-8/],
        ]);
        if (spawnSync('mkfifo', [path.join(landing, 'odd', 'pipe.csv')]).status === 0) expected.set('odd/pipe.csv', /not a regular file/);
        return expected;
      },
    }),
  },
);
