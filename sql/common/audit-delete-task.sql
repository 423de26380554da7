-- recordTask replaces a task's row (one row per batch and task), within a transaction with audit-insert-task.sql.
DELETE FROM BATCH_AUDIT WHERE BATCH_ID = :batch_id AND TASK = :task;
