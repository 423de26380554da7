-- First step of load(orders) on Snowflake: forget the batch's previous raw rows, so a replay replaces them.
-- Its LOAD_REJECTS rows are replaced at the end of the transaction (clear-rejects.sql): a DELETE locks the whole
-- table until COMMIT, and the two entity loads share LOAD_REJECTS, so touching it early would serialize them.
DELETE FROM ORDERS_RAW WHERE BATCH_NO = {{BATCH_NO}};
