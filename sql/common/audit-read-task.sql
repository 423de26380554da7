-- The current row of one task of one batch.
SELECT ATTEMPT, STATE, STARTED_AT, FINISHED_AT, ERROR, ATTEMPTS FROM BATCH_AUDIT WHERE BATCH_ID = :batch_id AND TASK = :task;
