-- release(batch), orders part, in one transaction with release-customers.sql and the batch's BATCH_AUDIT
-- rows: everything a load of the batch wrote (raw rows, quarantined records, its part of ORDER_ARRIVALS), so
-- the files can go back to landing/ and the next batch loads them. Only for a batch whose transform never
-- succeeded (the loader checks first): nothing curated depends on these rows.
DELETE FROM ORDERS_RAW WHERE BATCH_NO = {{BATCH_NO}};

DELETE FROM LOAD_REJECTS WHERE BATCH_ID = :batch_id AND ENTITY = 'orders';

DELETE FROM ORDER_ARRIVALS WHERE BATCH_ID = :batch_id;
