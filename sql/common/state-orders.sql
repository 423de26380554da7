-- Last step of load(orders), in its transaction: the batch's part of ORDER_ARRIVALS, the state the transform
-- reads instead of ORDERS_RAW's history. One row per order key with a fulfilled line in this batch: its first
-- fulfilled line here, by (SOURCE_FILE, SOURCE_ROW). An order's counted line is then its row with the smallest
-- BATCH_ID. Reads only this batch's raw rows. Rows go in sorted by key, so each batch's rows sit in their own
-- DuckDB row groups / Snowflake micro-partitions with a narrow O_ORDERKEY range (min/max pruning on key lookups).
DELETE FROM ORDER_ARRIVALS WHERE BATCH_NO = {{BATCH_NO}};

INSERT INTO ORDER_ARRIVALS (BATCH_ID, BATCH_NO, O_ORDERKEY, O_CUSTKEY, O_ORDERDATE, O_TOTALPRICE)
SELECT BATCH_ID, {{BATCH_NO}}, O_ORDERKEY, O_CUSTKEY, O_ORDERDATE, O_TOTALPRICE
FROM ORDERS_RAW
WHERE BATCH_NO = {{BATCH_NO}} AND O_ORDERSTATUS = 'F'
QUALIFY ROW_NUMBER() OVER (PARTITION BY O_ORDERKEY ORDER BY SOURCE_FILE, SOURCE_ROW) = 1
ORDER BY O_ORDERKEY;
