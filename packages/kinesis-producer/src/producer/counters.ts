/** The producer's counters (see ProducerMetrics), shared by its parts. */
export class Counters {
  linesRead = 0;
  recordsSent = 0;
  bytesSent = 0;
  calls = 0;
  retries = 0;
  failedRecords = 0;
  deadLetters = 0;
  firehoseRecordsSent = 0;
  recordsSkipped = 0;
}
