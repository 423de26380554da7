-- Step 3 of a quarantining load(customers): a transforming COPY does not check column counts, so rows the
-- validation rejected for their field count were loaded anyway; remove every row quarantined in LOAD_REJECTS.
DELETE FROM CUSTOMERS_RAW
USING LOAD_REJECTS
WHERE CUSTOMERS_RAW.BATCH_NO = {{BATCH_NO}}
  AND LOAD_REJECTS.BATCH_ID = CUSTOMERS_RAW.BATCH_ID
  AND LOAD_REJECTS.ENTITY = 'customers'
  AND LOAD_REJECTS.SOURCE_FILE = CUSTOMERS_RAW.SOURCE_FILE
  AND LOAD_REJECTS.SOURCE_ROW = CUSTOMERS_RAW.SOURCE_ROW;
