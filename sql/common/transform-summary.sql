-- The figures transform(batchId) reports and records in BATCH_AUDIT. Read inside the transform's transaction.
-- DUPLICATE_ORDERS: fulfilled order lines of this batch that are not their order's first fulfilled line (the
-- order was already delivered, in an earlier batch or earlier in this batch's files): the batch's fulfilled
-- lines minus the orders whose first fulfilled line is in this batch (ledger outcomes counted and orphan).
-- PENDING_ORPHANS: fulfilled orders up to this batch still waiting for their customer: orphans recorded up to this
-- batch (ORDERS_WAITING) not resolved by this batch (their customer arrived later, or not yet). Like every
-- transform statement, it reads this batch's raw rows and the state tables only (the ledger of earlier batches and
-- the customers are not scanned).
WITH ledger AS (
  SELECT
    SUM(CASE WHEN OUTCOME = 'counted' THEN 1 ELSE 0 END) AS COUNTED_ORDERS,
    SUM(CASE WHEN OUTCOME = 'late' THEN 1 ELSE 0 END) AS LATE_ORDERS,
    SUM(CASE WHEN OUTCOME = 'orphan' THEN 1 ELSE 0 END) AS ORPHAN_ORDERS
  FROM ORDER_LEDGER
  WHERE BATCH_NO = {{BATCH_NO}}
),
pending AS (
  SELECT COUNT(*) AS PENDING_ORPHANS
  FROM ORDERS_WAITING
  WHERE BATCH_NO <= {{BATCH_NO}} AND (RESOLVED_BATCH_NO IS NULL OR RESOLVED_BATCH_NO > {{BATCH_NO}})
),
fulfilled_lines AS (
  SELECT COUNT(*) AS LINE_COUNT
  FROM ORDERS_RAW
  WHERE BATCH_NO = {{BATCH_NO}} AND O_ORDERSTATUS = 'F'
)
SELECT
  (SELECT COUNT(*) FROM ORDER_CUSTOMER_DATE_PRICE WHERE BATCH_NO = {{BATCH_NO}}) AS CURATED_ROWS,
  COALESCE(ledger.COUNTED_ORDERS, 0) AS COUNTED_ORDERS,
  COALESCE(ledger.LATE_ORDERS, 0) AS LATE_ORDERS,
  COALESCE(ledger.ORPHAN_ORDERS, 0) AS ORPHAN_ORDERS,
  pending.PENDING_ORPHANS AS PENDING_ORPHANS,
  fulfilled_lines.LINE_COUNT - COALESCE(ledger.COUNTED_ORDERS, 0) - COALESCE(ledger.ORPHAN_ORDERS, 0) AS DUPLICATE_ORDERS
FROM ledger
CROSS JOIN pending
CROSS JOIN fulfilled_lines;
