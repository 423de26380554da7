-- The first record the last scan rejected (in file order, its first error), and how many records of that
-- file it rejected.
SELECT
  s.file_path AS LOCAL_PATH,
  e.line AS SOURCE_ROW,
  e.column_name AS COLUMN_NAME,
  e.error_type || ': ' || e.error_message AS REASON,
  e.csv_line AS RECORD,
  (SELECT COUNT(DISTINCT line) FROM BATCHLINE_REJECTS x WHERE x.file_id = e.file_id) AS REJECTED_RECORDS
FROM BATCHLINE_REJECTS e
JOIN BATCHLINE_REJECT_SCANS s ON s.scan_id = e.scan_id AND s.file_id = e.file_id
ORDER BY list_position(:paths, s.file_path), e.line, e.column_idx
LIMIT 1;
