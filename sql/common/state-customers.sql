-- Last step of load(customers), in its transaction: the batch's part of CUSTOMER_VERSIONS. One row per
-- customer key loaded in this batch: its last line here, by (SOURCE_FILE, SOURCE_ROW). A customer is known
-- from its row with the smallest BATCH_ID; its name up to batch N is its row with the largest BATCH_ID <= N.
-- Reads only this batch's raw rows; rows go in sorted by key (see state-orders.sql).
DELETE FROM CUSTOMER_VERSIONS WHERE BATCH_NO = {{BATCH_NO}};

INSERT INTO CUSTOMER_VERSIONS (BATCH_ID, BATCH_NO, C_CUSTKEY, C_NAME)
SELECT BATCH_ID, {{BATCH_NO}}, C_CUSTKEY, C_NAME
FROM CUSTOMERS_RAW
WHERE BATCH_NO = {{BATCH_NO}}
QUALIFY ROW_NUMBER() OVER (PARTITION BY C_CUSTKEY ORDER BY SOURCE_FILE DESC, SOURCE_ROW DESC) = 1
ORDER BY C_CUSTKEY;
