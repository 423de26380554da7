-- First step of load(orders): forget the batch's previous load, so a replay replaces it.
DELETE FROM ORDERS_RAW WHERE BATCH_NO = {{BATCH_NO}};

DELETE FROM LOAD_REJECTS WHERE BATCH_ID = :batch_id AND ENTITY = 'orders';
