-- Step 1 of load(customers) on Snowflake. See validate-orders.sql.
COPY INTO CUSTOMERS_CSV
FROM @CUSTOMERS_STAGE/processing/{{BATCH_ID}}/
FILES = ({{FILES}})
FILE_FORMAT = (FORMAT_NAME = 'CSV_FORMAT')
VALIDATION_MODE = RETURN_ALL_ERRORS;
