-- transform(batchId): curated rows for one batch. Runs unchanged on Snowflake and DuckDB, in one transaction.
-- {{BATCH_ID}} is inlined only after assertBatchId (digits and one "T"); {{BATCH_NO}} is the same id as a
-- number (its digits: 20261126T0315 -> 202611260315), the column every table here is filtered on. DuckDB keeps
-- only the first 8 bytes of a text column in its zone maps, so a text filter on BATCH_ID cannot skip the
-- other batches of the same day; the number prunes exactly (and orders ids chronologically, like the text).
--
-- Semantics (deterministic: only state rows with BATCH_NO <= this batch decide the rows):
-- * An order's counted version is its first fulfilled line (O_ORDERSTATUS = 'F'), ordered by
--   BATCH_ID, SOURCE_FILE, SOURCE_ROW. Later lines with the same O_ORDERKEY are duplicates.
-- * A customer is known from the first batch that loaded it; its name is the latest loaded version
--   up to this batch.
-- * An order is counted exactly once, in the batch where both its first fulfilled line and its customer
--   are known: OUTCOME 'counted' when the order arrived in this batch, 'late' when it arrived earlier as an
--   orphan and its customer arrived in this batch. A fulfilled order arriving in this batch without a known
--   customer is recorded as OUTCOME 'orphan' (and in ORDERS_WAITING).
--
-- Cost proportional to the batch: no statement reads raw rows of other batches. The state the loads keep per
-- batch (ORDER_ARRIVALS: each batch's first fulfilled line per order; CUSTOMER_VERSIONS: each batch's last line
-- per customer; state-*.sql) is looked up once, by the keys of this batch: one join of CUSTOMER_VERSIONS gives
-- each wanted customer's arrival and its name up to this batch, and the ledger keeps that name
-- (CUSTOMER_NAME), so the curated rows are summed from this batch's ledger rows alone. ORDERS_WAITING keeps
-- the orphans, each with the batch its customer arrived in (RESOLVED_BATCH_NO), so the count still waiting is a
-- count of that small table, not another lookup. Lookups are inner joins against this batch's distinct keys,
-- not IN (subquery): DuckDB may build a semi join's hash table on the state table instead of on the batch's keys.

DELETE FROM ORDER_LEDGER WHERE BATCH_NO = {{BATCH_NO}};

INSERT INTO ORDER_LEDGER (BATCH_ID, O_ORDERKEY, O_CUSTKEY, O_ORDERDATE, O_TOTALPRICE, ORDER_BATCH_ID, OUTCOME, BATCH_NO, CUSTOMER_NAME)
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
-- The customers this batch asks about: its new orders' customers, and its own customers (the ones arriving
-- now make earlier orphans 'late').
wanted AS (
  SELECT O_CUSTKEY AS C_CUSTKEY FROM new_orders
  UNION
  SELECT C_CUSTKEY FROM CUSTOMER_VERSIONS WHERE BATCH_NO = {{BATCH_NO}}
),
-- Per wanted customer known by this batch: its name up to this batch and the batch it arrived in.
customer_state AS (
  SELECT v.C_CUSTKEY, v.C_NAME, MIN(v.BATCH_NO) OVER (PARTITION BY v.C_CUSTKEY) AS ARRIVAL_BATCH_NO
  FROM CUSTOMER_VERSIONS v
  JOIN wanted w ON w.C_CUSTKEY = v.C_CUSTKEY
  WHERE v.BATCH_NO <= {{BATCH_NO}}
  QUALIFY ROW_NUMBER() OVER (PARTITION BY v.C_CUSTKEY ORDER BY v.BATCH_NO DESC) = 1
)
SELECT
  '{{BATCH_ID}}',
  n.O_ORDERKEY,
  n.O_CUSTKEY,
  n.O_ORDERDATE,
  n.O_TOTALPRICE,
  '{{BATCH_ID}}',
  CASE WHEN s.C_CUSTKEY IS NULL THEN 'orphan' ELSE 'counted' END,
  {{BATCH_NO}},
  s.C_NAME
FROM new_orders n
LEFT JOIN customer_state s ON s.C_CUSTKEY = n.O_CUSTKEY
UNION ALL
SELECT
  '{{BATCH_ID}}',
  w.O_ORDERKEY,
  w.O_CUSTKEY,
  w.O_ORDERDATE,
  w.O_TOTALPRICE,
  w.BATCH_ID,
  'late',
  {{BATCH_NO}},
  s.C_NAME
FROM ORDERS_WAITING w
JOIN customer_state s ON s.C_CUSTKEY = w.O_CUSTKEY
WHERE w.BATCH_NO < {{BATCH_NO}} AND s.ARRIVAL_BATCH_NO = {{BATCH_NO}};

-- ORDERS_WAITING: this batch's orphans. An orphan that was already recorded the same (a replay) keeps its row,
-- and with it the batch its customer arrived in; what is no longer an orphan goes, and new ones come in.
DELETE FROM ORDERS_WAITING
WHERE BATCH_NO = {{BATCH_NO}}
  AND NOT EXISTS (
    SELECT 1
    FROM ORDER_LEDGER l
    WHERE l.BATCH_NO = {{BATCH_NO}} AND l.OUTCOME = 'orphan'
      AND l.O_ORDERKEY = ORDERS_WAITING.O_ORDERKEY AND l.O_CUSTKEY = ORDERS_WAITING.O_CUSTKEY
      AND l.O_ORDERDATE = ORDERS_WAITING.O_ORDERDATE AND l.O_TOTALPRICE = ORDERS_WAITING.O_TOTALPRICE
  );

INSERT INTO ORDERS_WAITING (BATCH_ID, BATCH_NO, O_ORDERKEY, O_CUSTKEY, O_ORDERDATE, O_TOTALPRICE)
SELECT l.BATCH_ID, l.BATCH_NO, l.O_ORDERKEY, l.O_CUSTKEY, l.O_ORDERDATE, l.O_TOTALPRICE
FROM ORDER_LEDGER l
LEFT JOIN (SELECT O_ORDERKEY FROM ORDERS_WAITING WHERE BATCH_NO = {{BATCH_NO}}) kept ON kept.O_ORDERKEY = l.O_ORDERKEY
WHERE l.BATCH_NO = {{BATCH_NO}} AND l.OUTCOME = 'orphan' AND kept.O_ORDERKEY IS NULL
ORDER BY l.O_CUSTKEY;

-- Earlier orphans whose customer arrived in this batch: resolved here (and nowhere else, after a replay).
UPDATE ORDERS_WAITING SET RESOLVED_BATCH_NO = NULL WHERE RESOLVED_BATCH_NO = {{BATCH_NO}};

UPDATE ORDERS_WAITING AS w
SET RESOLVED_BATCH_NO = {{BATCH_NO}}
FROM (SELECT O_ORDERKEY, ORDER_BATCH_ID FROM ORDER_LEDGER WHERE BATCH_NO = {{BATCH_NO}} AND OUTCOME = 'late') l
WHERE w.O_ORDERKEY = l.O_ORDERKEY AND w.BATCH_ID = l.ORDER_BATCH_ID AND w.BATCH_NO < {{BATCH_NO}};

DELETE FROM ORDER_CUSTOMER_DATE_PRICE WHERE BATCH_NO = {{BATCH_NO}};

INSERT INTO ORDER_CUSTOMER_DATE_PRICE (CUSTOMER_NAME, ORDER_DATE, ORDER_TOTAL_PRICE, BATCH_ID, CUSTOMER_KEY, BATCH_NO)
SELECT
  CUSTOMER_NAME,
  O_ORDERDATE,
  CAST(SUM(O_TOTALPRICE) AS DECIMAL(38,2)),
  '{{BATCH_ID}}',
  O_CUSTKEY,
  {{BATCH_NO}}
FROM ORDER_LEDGER
WHERE BATCH_NO = {{BATCH_NO}} AND OUTCOME <> 'orphan'
GROUP BY O_CUSTKEY, CUSTOMER_NAME, O_ORDERDATE;
