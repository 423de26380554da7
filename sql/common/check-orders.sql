-- Rules the CSV types cannot express: keys present, status one of F/O/P, price and date present. The loads turn a
-- price or date not in its exact form into NULL, so it is rejected here too.
-- A breaking row moves from ORDERS_RAW to LOAD_REJECTS with its reason (the loader aborts instead
-- when the policy is abort). The DELETE runs only when the INSERT set rows aside.
INSERT INTO LOAD_REJECTS (BATCH_ID, ENTITY, SOURCE_FILE, SOURCE_ROW, COLUMN_NAME, REASON, RECORD, REJECTED_AT)
SELECT
  BATCH_ID,
  'orders',
  SOURCE_FILE,
  SOURCE_ROW,
  CASE
    WHEN O_ORDERKEY IS NULL THEN 'O_ORDERKEY'
    WHEN O_CUSTKEY IS NULL THEN 'O_CUSTKEY'
    WHEN O_ORDERSTATUS IS NULL OR O_ORDERSTATUS NOT IN ('F', 'O', 'P') THEN 'O_ORDERSTATUS'
    WHEN O_TOTALPRICE IS NULL THEN 'O_TOTALPRICE'
    ELSE 'O_ORDERDATE'
  END,
  CASE
    WHEN O_ORDERKEY IS NULL THEN 'O_ORDERKEY is empty; expected an integer order key'
    WHEN O_CUSTKEY IS NULL THEN 'O_CUSTKEY is empty; expected an integer customer key'
    WHEN O_ORDERSTATUS IS NULL THEN 'O_ORDERSTATUS is empty; expected one of F, O, P'
    WHEN O_ORDERSTATUS NOT IN ('F', 'O', 'P') THEN 'O_ORDERSTATUS is ''' || O_ORDERSTATUS || '''; expected one of F, O, P'
    WHEN O_TOTALPRICE IS NULL THEN 'O_TOTALPRICE is empty or not an exact price; expected -?[0-9]{1,10}(.[0-9]{1,2})? (at most 2 decimals, no exponent, never rounded)'
    ELSE 'O_ORDERDATE is empty or not a real date YYYY-MM-DD; expected a date YYYY-MM-DD'
  END,
  NULL,
  :rejected_at
FROM ORDERS_RAW
WHERE BATCH_NO = {{BATCH_NO}}
  AND (O_ORDERKEY IS NULL OR O_CUSTKEY IS NULL OR O_ORDERSTATUS IS NULL OR O_ORDERSTATUS NOT IN ('F', 'O', 'P')
       OR O_TOTALPRICE IS NULL OR O_ORDERDATE IS NULL);

DELETE FROM ORDERS_RAW
WHERE BATCH_NO = {{BATCH_NO}}
  AND (O_ORDERKEY IS NULL OR O_CUSTKEY IS NULL OR O_ORDERSTATUS IS NULL OR O_ORDERSTATUS NOT IN ('F', 'O', 'P')
       OR O_TOTALPRICE IS NULL OR O_ORDERDATE IS NULL);
