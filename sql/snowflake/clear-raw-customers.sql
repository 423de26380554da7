-- First step of load(customers) on Snowflake. See clear-raw-orders.sql.
DELETE FROM CUSTOMERS_RAW WHERE BATCH_NO = {{BATCH_NO}};
