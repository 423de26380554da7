-- Step 1 of load(orders) on Snowflake: every bad record of the batch's files, without loading anything.
-- Returns ERROR, FILE, LINE, CHARACTER, BYTE_OFFSET, CATEGORY, CODE, SQL_STATE, COLUMN_NAME, ROW_NUMBER,
-- ROW_START_LINE, REJECTED_RECORD per bad record. {{FILES}}: at most 1000 paths per statement.
COPY INTO ORDERS_CSV
FROM @ORDERS_STAGE/{{LOCATION}}/{{BATCH_ID}}/
FILES = ({{FILES}})
FILE_FORMAT = (FORMAT_NAME = 'CSV_FORMAT')
VALIDATION_MODE = RETURN_ALL_ERRORS;
