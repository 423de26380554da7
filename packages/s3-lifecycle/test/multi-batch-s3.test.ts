import { describeMultiBatch } from './support/multi-batch-suite.js';
import { openS3Fixture } from './support/s3-server.js';

describeMultiBatch('S3 (fauxqs on loopback)', () => openS3Fixture({ listPageSize: 100 }), {
  settling: 's3',
  // Keys S3 accepts that the store cannot take (written straight into the server, as another S3 client could).
  untakeable: (fixture) => ({
    async create(landingPrefix) {
      // Short enough for landing/, too long once moved under processing/<BATCH_ID>/ (17 bytes longer).
      const long = `long/${'x'.repeat(1024 - landingPrefix.length - 'long/'.length - 8)}.csv`;
      const expected = new Map<string, RegExp>([
        ['odd/ctl\u0001.csv', /control character/],
        ['odd/nel\u0085.csv', /control character/],
        ['odd/back\\slash.csv', /backslash/],
        ['odd/double//slash.csv', /empty path segment/],
        ['odd/./dot.csv', /"\." segment/],
        ['odd/folder/', /folder marker/],
        [long, /would be longer than 1024 bytes once moved under .*processing\/<BATCH_ID>\//],
      ]);
      for (const path of expected.keys()) fixture.seed!(landingPrefix + path, Buffer.from('x\n'));
      return expected;
    },
  }),
});
