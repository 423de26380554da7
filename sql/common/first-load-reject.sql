-- Under the abort policy: the first record the load set aside (check-*.sql or the COPY validation), and how many there were.
SELECT
  SOURCE_FILE,
  SOURCE_ROW,
  COLUMN_NAME,
  REASON,
  (SELECT COUNT(*) FROM LOAD_REJECTS WHERE BATCH_ID = :batch_id AND ENTITY = :entity) AS REJECTED_RECORDS
FROM LOAD_REJECTS
WHERE BATCH_ID = :batch_id AND ENTITY = :entity
ORDER BY SOURCE_FILE, SOURCE_ROW
LIMIT 1;
