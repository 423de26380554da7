-- transform(batchId): curated rows for one batch. Runs unchanged on Snowflake and DuckDB, in one transaction.
-- {{BATCH_ID}} is inlined only after assertBatchId (digits and one "T"); {{BATCH_NO}} is the same id as a
-- number (its digits: 20261126T0315 -> 202611260315), the column every table here is filtered on. DuckDB keeps
-- only the first 8 bytes of a text column in its zone maps, so a text filter on BATCH_ID cannot skip the
-- other batches of the same day; the number prunes exactly (and orders ids chronologically, like the text).
--
-- Semantics (deterministic: only state rows with BATCH_ID <= this batch are read):
-- * An order's counted version is its first fulfilled line (O_ORDERSTATUS = 'F'), ordered by
--   BATCH_ID, SOURCE_FILE, SOURCE_ROW. Later lines with the same O_ORDERKEY are duplicates.
-- * A customer is known from the first batch that loaded it; its name is the latest loaded version
--   up to this batch.
-- * An order is counted exactly once, in the batch where both its first fulfilled line and its customer
--   are known: OUTCOME 'counted' when the order arrived in this batch, 'late' when it arrived earlier as an
--   orphan and its customer arrived in this batch. A fulfilled order arriving in this batch without a known
--   customer is recorded as OUTCOME 'orphan' (and in ORDERS_WAITING).
--
-- Cost proportional to the batch: no statement reads raw rows of other batches. It reads the state the loads
-- keep per batch (ORDER_ARRIVALS: each batch's first fulfilled line per order; CUSTOMER_VERSIONS: each batch's
-- last line per customer; state-*.sql) and ORDERS_WAITING (orphans, written below), each looked up by the keys
-- of this batch; the engines prune by the key range (rows are stored sorted by key within each batch).
-- Lookups are inner joins against this batch's distinct keys, not IN (subquery): DuckDB may build a semi join's
-- hash table on the state table (millions of rows) instead of on the batch's keys.

DELETE FROM ORDER_LEDGER WHERE BATCH_NO = {{BATCH_NO}};

INSERT INTO ORDER_LEDGER (BATCH_ID, O_ORDERKEY, O_CUSTKEY, O_ORDERDATE, O_TOTALPRICE, ORDER_BATCH_ID, OUTCOME, BATCH_NO)
WITH batch_orders AS (
  SELECT O_ORDERKEY, O_CUSTKEY, O_ORDERDATE, O_TOTALPRICE
  FROM ORDER_ARRIVALS
  WHERE BATCH_NO = {{BATCH_NO}}
),
delivered_before AS (
  SELECT DISTINCT a.O_ORDERKEY
  FROM ORDER_ARRIVALS a
  JOIN batch_orders b ON b.O_ORDERKEY = a.O_ORDERKEY
  WHERE a.BATCH_NO < {{BATCH_NO}}
),
new_orders AS (
  SELECT b.O_ORDERKEY, b.O_CUSTKEY, b.O_ORDERDATE, b.O_TOTALPRICE
  FROM batch_orders b
  LEFT JOIN delivered_before d ON d.O_ORDERKEY = b.O_ORDERKEY
  WHERE d.O_ORDERKEY IS NULL
),
known_customers AS (
  SELECT DISTINCT v.C_CUSTKEY
  FROM CUSTOMER_VERSIONS v
  JOIN (SELECT DISTINCT O_CUSTKEY FROM new_orders) n ON n.O_CUSTKEY = v.C_CUSTKEY
  WHERE v.BATCH_NO <= {{BATCH_NO}}
),
batch_customers AS (
  SELECT C_CUSTKEY
  FROM CUSTOMER_VERSIONS
  WHERE BATCH_NO = {{BATCH_NO}}
),
known_before AS (
  SELECT DISTINCT v.C_CUSTKEY
  FROM CUSTOMER_VERSIONS v
  JOIN batch_customers b ON b.C_CUSTKEY = v.C_CUSTKEY
  WHERE v.BATCH_NO < {{BATCH_NO}}
),
arriving_customers AS (
  SELECT b.C_CUSTKEY
  FROM batch_customers b
  LEFT JOIN known_before k ON k.C_CUSTKEY = b.C_CUSTKEY
  WHERE k.C_CUSTKEY IS NULL
)
SELECT
  '{{BATCH_ID}}',
  n.O_ORDERKEY,
  n.O_CUSTKEY,
  n.O_ORDERDATE,
  n.O_TOTALPRICE,
  '{{BATCH_ID}}',
  CASE WHEN k.C_CUSTKEY IS NULL THEN 'orphan' ELSE 'counted' END,
  {{BATCH_NO}}
FROM new_orders n
LEFT JOIN known_customers k ON k.C_CUSTKEY = n.O_CUSTKEY
UNION ALL
SELECT
  '{{BATCH_ID}}',
  w.O_ORDERKEY,
  w.O_CUSTKEY,
  w.O_ORDERDATE,
  w.O_TOTALPRICE,
  w.BATCH_ID,
  'late',
  {{BATCH_NO}}
FROM ORDERS_WAITING w
JOIN arriving_customers a ON a.C_CUSTKEY = w.O_CUSTKEY
WHERE w.BATCH_NO < {{BATCH_NO}};

DELETE FROM ORDERS_WAITING WHERE BATCH_NO = {{BATCH_NO}};

INSERT INTO ORDERS_WAITING (BATCH_ID, BATCH_NO, O_ORDERKEY, O_CUSTKEY, O_ORDERDATE, O_TOTALPRICE)
SELECT BATCH_ID, BATCH_NO, O_ORDERKEY, O_CUSTKEY, O_ORDERDATE, O_TOTALPRICE
FROM ORDER_LEDGER
WHERE BATCH_NO = {{BATCH_NO}} AND OUTCOME = 'orphan'
ORDER BY O_CUSTKEY;

DELETE FROM ORDER_CUSTOMER_DATE_PRICE WHERE BATCH_NO = {{BATCH_NO}};

INSERT INTO ORDER_CUSTOMER_DATE_PRICE (CUSTOMER_NAME, ORDER_DATE, ORDER_TOTAL_PRICE, BATCH_ID, CUSTOMER_KEY, BATCH_NO)
WITH counted AS (
  SELECT O_CUSTKEY, O_ORDERDATE, O_TOTALPRICE
  FROM ORDER_LEDGER
  WHERE BATCH_NO = {{BATCH_NO}} AND OUTCOME <> 'orphan'
),
customer_latest AS (
  SELECT v.C_CUSTKEY, v.C_NAME
  FROM CUSTOMER_VERSIONS v
  JOIN (SELECT DISTINCT O_CUSTKEY FROM counted) k ON k.O_CUSTKEY = v.C_CUSTKEY
  WHERE v.BATCH_NO <= {{BATCH_NO}}
  QUALIFY ROW_NUMBER() OVER (PARTITION BY v.C_CUSTKEY ORDER BY v.BATCH_NO DESC) = 1
)
SELECT
  c.C_NAME,
  l.O_ORDERDATE,
  CAST(SUM(l.O_TOTALPRICE) AS DECIMAL(38,2)),
  '{{BATCH_ID}}',
  c.C_CUSTKEY,
  {{BATCH_NO}}
FROM counted l
JOIN customer_latest c ON c.C_CUSTKEY = l.O_CUSTKEY
GROUP BY c.C_CUSTKEY, c.C_NAME, l.O_ORDERDATE;
