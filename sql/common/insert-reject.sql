-- One quarantined record.
INSERT INTO LOAD_REJECTS (BATCH_ID, ENTITY, SOURCE_FILE, SOURCE_ROW, COLUMN_NAME, REASON, RECORD, REJECTED_AT)
VALUES (:batch_id, :entity, :source_file, :source_row, :column_name, :reason, :record, :rejected_at);
