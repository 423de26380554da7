-- release(batch): the batch's task rows, so a later run of the id starts from nothing (the released
-- manifest is kept by s3-lifecycle under _batchline/released/ for the record).
DELETE FROM BATCH_AUDIT WHERE BATCH_ID = :batch_id;
