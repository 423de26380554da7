-- The current row of one task of one batch.
SELECT ATTEMPT, STATE, STARTED_AT FROM BATCH_AUDIT WHERE BATCH_ID = :batch_id AND TASK = :task;
