-- Step 3 of a quarantining load(orders): a transforming COPY does not check column counts, so rows the
-- validation rejected for their field count were loaded anyway; remove every row quarantined in LOAD_REJECTS.
DELETE FROM ORDERS_RAW
USING LOAD_REJECTS
WHERE ORDERS_RAW.BATCH_NO = {{BATCH_NO}}
  AND LOAD_REJECTS.BATCH_ID = ORDERS_RAW.BATCH_ID
  AND LOAD_REJECTS.ENTITY = 'orders'
  AND LOAD_REJECTS.SOURCE_FILE = ORDERS_RAW.SOURCE_FILE
  AND LOAD_REJECTS.SOURCE_ROW = ORDERS_RAW.SOURCE_ROW;
