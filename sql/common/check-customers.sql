-- Rules the CSV types cannot express: key and name present. See check-orders.sql.
INSERT INTO LOAD_REJECTS (BATCH_ID, ENTITY, SOURCE_FILE, SOURCE_ROW, COLUMN_NAME, REASON, RECORD, REJECTED_AT)
SELECT
  BATCH_ID,
  'customers',
  SOURCE_FILE,
  SOURCE_ROW,
  CASE WHEN C_CUSTKEY IS NULL THEN 'C_CUSTKEY' ELSE 'C_NAME' END,
  CASE
    WHEN C_CUSTKEY IS NULL THEN 'C_CUSTKEY is empty; expected an integer customer key'
    ELSE 'C_NAME is empty; expected the customer''s name ("" counts as empty)'
  END,
  NULL,
  :rejected_at
FROM CUSTOMERS_RAW
WHERE BATCH_NO = {{BATCH_NO}} AND (C_CUSTKEY IS NULL OR C_NAME IS NULL);

DELETE FROM CUSTOMERS_RAW
WHERE BATCH_NO = {{BATCH_NO}} AND (C_CUSTKEY IS NULL OR C_NAME IS NULL);
