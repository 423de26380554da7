/** Amazon Data Firehose PutRecordBatch limits (record sizes are before base64). */
export const FIREHOSE_LIMITS = Object.freeze({
  maxRecordsPerCall: 500,
  /** 4 MiB of record data per call. */
  maxBytesPerCall: 4 * 1024 * 1024,
  /** 1,000 KiB per record. */
  maxRecordBytes: 1000 * 1024,
});
