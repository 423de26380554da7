-- release(batch), customers part: the batch's raw customers, their quarantined records and the batch's
-- part of CUSTOMER_VERSIONS (see release-orders.sql).
DELETE FROM CUSTOMERS_RAW WHERE BATCH_NO = {{BATCH_NO}};

DELETE FROM LOAD_REJECTS WHERE BATCH_ID = :batch_id AND ENTITY = 'customers';

DELETE FROM CUSTOMER_VERSIONS WHERE BATCH_ID = :batch_id;
