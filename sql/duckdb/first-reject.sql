-- The first record the last scan rejected (its first error), and how many records it rejected.
SELECT
  line AS SOURCE_ROW,
  column_name AS COLUMN_NAME,
  error_type || ': ' || error_message AS REASON,
  csv_line AS RECORD,
  (SELECT COUNT(DISTINCT line) FROM BATCHLINE_REJECTS) AS REJECTED_RECORDS
FROM BATCHLINE_REJECTS
ORDER BY line, column_idx
LIMIT 1;
