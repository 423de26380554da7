-- The figures transform(batchId) reports and records in BATCH_AUDIT. Read inside the transform's transaction.
-- DUPLICATE_ORDERS: order lines of this batch whose O_ORDERKEY appeared earlier (an earlier batch, or
-- earlier in this batch's files). PENDING_ORPHANS: fulfilled orders up to this batch still without a customer.
SELECT
  (SELECT COUNT(*) FROM ORDER_CUSTOMER_DATE_PRICE WHERE BATCH_ID = '{{BATCH_ID}}') AS CURATED_ROWS,
  (SELECT COUNT(*) FROM ORDER_LEDGER WHERE BATCH_ID = '{{BATCH_ID}}' AND OUTCOME = 'counted') AS COUNTED_ORDERS,
  (SELECT COUNT(*) FROM ORDER_LEDGER WHERE BATCH_ID = '{{BATCH_ID}}' AND OUTCOME = 'late') AS LATE_ORDERS,
  (SELECT COUNT(*) FROM ORDER_LEDGER WHERE BATCH_ID = '{{BATCH_ID}}' AND OUTCOME = 'orphan') AS ORPHAN_ORDERS,
  (SELECT COUNT(*) FROM ORDER_LEDGER WHERE BATCH_ID <= '{{BATCH_ID}}' AND OUTCOME = 'orphan')
    - (SELECT COUNT(*) FROM ORDER_LEDGER WHERE BATCH_ID <= '{{BATCH_ID}}' AND OUTCOME = 'late') AS PENDING_ORPHANS,
  (SELECT COUNT(*) FROM ORDERS_RAW WHERE BATCH_ID = '{{BATCH_ID}}')
    - (
      SELECT COUNT(*) FROM (
        SELECT O_ORDERKEY
        FROM ORDERS_RAW
        WHERE BATCH_ID <= '{{BATCH_ID}}'
          AND O_ORDERKEY IN (SELECT O_ORDERKEY FROM ORDERS_RAW WHERE BATCH_ID = '{{BATCH_ID}}')
        GROUP BY O_ORDERKEY
        HAVING MIN(BATCH_ID) = '{{BATCH_ID}}'
      ) first_seen
    ) AS DUPLICATE_ORDERS;
