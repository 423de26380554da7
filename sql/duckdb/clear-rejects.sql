-- Empty the connection's reject tables before the next scan.
DELETE FROM BATCHLINE_REJECTS;

DELETE FROM BATCHLINE_REJECT_SCANS;
