import { describeCrashInjection, describeOperationCrashInjection } from './support/crash-suite.js';
import { openS3Fixture } from './support/s3-server.js';

// Final states are compared by the server's MD5 ETags here (the clean run is checked byte by byte),
// which saves downloading 51 objects in each of the ~250 scenarios. Copies go through the adapter's
// copy threads, which take the SDK's CPU off the thread that also runs the test server.
describeCrashInjection('S3 (fauxqs on loopback)', () => openS3Fixture({ listPageSize: 1000, copyThreads: 2 }), 'etag', 600_000);
describeOperationCrashInjection('S3 (fauxqs on loopback)', () => openS3Fixture({ listPageSize: 1000, copyThreads: 2 }), 'etag', 600_000);
