-- transform(batchId): curated rows for one batch. Runs unchanged on Snowflake and DuckDB, in one transaction.
-- {{BATCH_ID}} is inlined only after assertBatchId (digits and one "T"); it is compared as text,
-- which orders batch ids chronologically.
--
-- Semantics (deterministic: only raw rows with BATCH_ID <= this batch are read):
-- * An order's counted version is its first fulfilled line (O_ORDERSTATUS = 'F'), ordered by
--   BATCH_ID, SOURCE_FILE, SOURCE_ROW. Later lines with the same O_ORDERKEY are duplicates.
-- * A customer is known from the first batch that loaded it; its name is the latest loaded version
--   up to this batch.
-- * An order is counted exactly once, in the batch where both its first fulfilled line and its customer
--   are known: OUTCOME 'counted' when the order arrived in this batch, 'late' when it arrived earlier as an
--   orphan and its customer arrived in this batch. A fulfilled order arriving in this batch without a known
--   customer is recorded as OUTCOME 'orphan'.

DELETE FROM ORDER_LEDGER WHERE BATCH_ID = '{{BATCH_ID}}';

INSERT INTO ORDER_LEDGER (BATCH_ID, O_ORDERKEY, O_CUSTKEY, O_ORDERDATE, O_TOTALPRICE, ORDER_BATCH_ID, OUTCOME)
WITH customer_arrival AS (
  SELECT C_CUSTKEY, MIN(BATCH_ID) AS CUSTOMER_BATCH_ID
  FROM CUSTOMERS_RAW
  WHERE BATCH_ID <= '{{BATCH_ID}}'
  GROUP BY C_CUSTKEY
),
candidate_orders AS (
  SELECT O_ORDERKEY
  FROM ORDERS_RAW
  WHERE BATCH_ID = '{{BATCH_ID}}' AND O_ORDERSTATUS = 'F'
  UNION
  SELECT o.O_ORDERKEY
  FROM ORDERS_RAW o
  JOIN customer_arrival a ON a.C_CUSTKEY = o.O_CUSTKEY
  WHERE a.CUSTOMER_BATCH_ID = '{{BATCH_ID}}' AND o.BATCH_ID < '{{BATCH_ID}}' AND o.O_ORDERSTATUS = 'F'
),
first_fulfilled AS (
  SELECT O_ORDERKEY, O_CUSTKEY, O_ORDERDATE, O_TOTALPRICE, BATCH_ID AS ORDER_BATCH_ID
  FROM ORDERS_RAW
  WHERE BATCH_ID <= '{{BATCH_ID}}' AND O_ORDERSTATUS = 'F'
    AND O_ORDERKEY IN (SELECT O_ORDERKEY FROM candidate_orders)
  QUALIFY ROW_NUMBER() OVER (PARTITION BY O_ORDERKEY ORDER BY BATCH_ID, SOURCE_FILE, SOURCE_ROW) = 1
)
SELECT
  '{{BATCH_ID}}',
  o.O_ORDERKEY,
  o.O_CUSTKEY,
  o.O_ORDERDATE,
  o.O_TOTALPRICE,
  o.ORDER_BATCH_ID,
  CASE
    WHEN a.CUSTOMER_BATCH_ID IS NULL THEN 'orphan'
    WHEN o.ORDER_BATCH_ID = '{{BATCH_ID}}' THEN 'counted'
    ELSE 'late'
  END
FROM first_fulfilled o
LEFT JOIN customer_arrival a ON a.C_CUSTKEY = o.O_CUSTKEY
WHERE o.ORDER_BATCH_ID = '{{BATCH_ID}}'
   OR a.CUSTOMER_BATCH_ID = '{{BATCH_ID}}';

DELETE FROM ORDER_CUSTOMER_DATE_PRICE WHERE BATCH_ID = '{{BATCH_ID}}';

INSERT INTO ORDER_CUSTOMER_DATE_PRICE (CUSTOMER_NAME, ORDER_DATE, ORDER_TOTAL_PRICE, BATCH_ID, CUSTOMER_KEY)
WITH customer_latest AS (
  SELECT C_CUSTKEY, C_NAME
  FROM CUSTOMERS_RAW
  WHERE BATCH_ID <= '{{BATCH_ID}}'
    AND C_CUSTKEY IN (
      SELECT O_CUSTKEY FROM ORDER_LEDGER WHERE BATCH_ID = '{{BATCH_ID}}' AND OUTCOME <> 'orphan'
    )
  QUALIFY ROW_NUMBER() OVER (PARTITION BY C_CUSTKEY ORDER BY BATCH_ID DESC, SOURCE_FILE DESC, SOURCE_ROW DESC) = 1
)
SELECT
  c.C_NAME,
  l.O_ORDERDATE,
  CAST(SUM(l.O_TOTALPRICE) AS DECIMAL(12,2)),
  '{{BATCH_ID}}',
  c.C_CUSTKEY
FROM ORDER_LEDGER l
JOIN customer_latest c ON c.C_CUSTKEY = l.O_CUSTKEY
WHERE l.BATCH_ID = '{{BATCH_ID}}' AND l.OUTCOME <> 'orphan'
GROUP BY c.C_CUSTKEY, c.C_NAME, l.O_ORDERDATE;
