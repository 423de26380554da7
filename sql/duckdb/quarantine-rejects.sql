-- Quarantine the records the last scan rejected: one LOAD_REJECTS row per record, with its first error.
INSERT INTO LOAD_REJECTS (BATCH_ID, ENTITY, SOURCE_FILE, SOURCE_ROW, COLUMN_NAME, REASON, RECORD, REJECTED_AT)
SELECT
  :batch_id,
  :entity,
  :source_files[list_position(:paths, s.file_path)],
  e.line,
  e.column_name,
  e.error_type || ': ' || e.error_message,
  e.csv_line,
  :rejected_at
FROM BATCHLINE_REJECTS e
JOIN BATCHLINE_REJECT_SCANS s ON s.scan_id = e.scan_id AND s.file_id = e.file_id
QUALIFY ROW_NUMBER() OVER (PARTITION BY e.file_id, e.line ORDER BY e.column_idx) = 1;
