-- Only when the scan rejected records: the k-th loaded record of a file is record k plus the number of that
-- file's rejected records before it. With the file's rejected positions r_1 < r_2 < ..., reject i precedes
-- loaded record k exactly when r_i - i < k.
UPDATE {{RAW_TABLE}}
SET SOURCE_ROW = {{RAW_TABLE}}.SOURCE_ROW + (
  SELECT COUNT(*)
  FROM (
    SELECT
      :source_files[list_position(:paths, s.file_path)] AS SOURCE_FILE,
      e.line - ROW_NUMBER() OVER (PARTITION BY e.file_id ORDER BY e.line) AS LOADED_BEFORE
    FROM (SELECT DISTINCT scan_id, file_id, line FROM BATCHLINE_REJECTS) e
    JOIN BATCHLINE_REJECT_SCANS s ON s.scan_id = e.scan_id AND s.file_id = e.file_id
  ) gaps
  WHERE gaps.SOURCE_FILE = {{RAW_TABLE}}.SOURCE_FILE AND gaps.LOADED_BEFORE < {{RAW_TABLE}}.SOURCE_ROW
)
WHERE {{RAW_TABLE}}.BATCH_NO = {{BATCH_NO}}
  AND {{RAW_TABLE}}.SOURCE_FILE IN (
    SELECT :source_files[list_position(:paths, s.file_path)]
    FROM BATCHLINE_REJECTS e
    JOIN BATCHLINE_REJECT_SCANS s ON s.scan_id = e.scan_id AND s.file_id = e.file_id
  );
