import { describeMultiBatch } from './support/multi-batch-suite.js';
import { openS3Fixture } from './support/s3-server.js';

describeMultiBatch('S3 (fauxqs on loopback)', () => openS3Fixture({ listPageSize: 100 }));
