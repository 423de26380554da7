-- A task's row. Times are bound as ISO-8601 UTC text.
INSERT INTO BATCH_AUDIT (
  BATCH_ID, TASK, STATE, ATTEMPT, STARTED_AT, FINISHED_AT,
  FILES, ROWS_PROCESSED, ROWS_REJECTED, DUPLICATES, ORPHANS, ERROR, UPDATED_AT,
  LATE, PENDING_ORPHANS, ATTEMPTS
)
VALUES (
  :batch_id, :task, :state, :attempt, :started_at, :finished_at,
  :files, :rows_processed, :rows_rejected, :duplicates, :orphans, :error, :updated_at,
  :late, :pending_orphans, :attempts
);
