-- Quarantine the records the last scan rejected: one LOAD_REJECTS row per record, with its first error.
INSERT INTO LOAD_REJECTS (BATCH_ID, ENTITY, SOURCE_FILE, SOURCE_ROW, COLUMN_NAME, REASON, RECORD, REJECTED_AT)
SELECT :batch_id, :entity, :source_file, line, column_name, error_type || ': ' || error_message, csv_line, :rejected_at
FROM BATCHLINE_REJECTS
QUALIFY ROW_NUMBER() OVER (PARTITION BY line ORDER BY column_idx) = 1;
