import { describeLifecycle } from './support/lifecycle-suite.js';
import { openS3Fixture } from './support/s3-server.js';

describeLifecycle('S3 (fauxqs on loopback)', () => openS3Fixture());
describeLifecycle('S3 with copy threads', () => openS3Fixture({ copyThreads: 2 }));
describeLifecycle('S3 with signed copies', () => openS3Fixture({ signed: true }));
