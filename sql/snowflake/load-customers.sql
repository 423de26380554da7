-- Step 2 of load(customers) on Snowflake. See load-orders.sql. A quoted empty name ("") is a missing name
-- (NULL), which common/check-customers.sql rejects.
COPY INTO CUSTOMERS_RAW (
  C_CUSTKEY, C_NAME, C_ADDRESS, C_NATIONKEY, C_PHONE, C_ACCTBAL, C_MKTSEGMENT, C_COMMENT,
  BATCH_ID, SOURCE_FILE, SOURCE_ROW, LOADED_AT, BATCH_NO
)
FROM (
  SELECT
    $1, NULLIF($2, ''), $3, $4, $5, $6, $7, $8,
    '{{BATCH_ID}}', 'processing/{{BATCH_ID}}/' || SUBSTR(METADATA$FILENAME, POSITION('/{{LOCATION}}/{{BATCH_ID}}/' IN '/' || METADATA$FILENAME) + LENGTH('/{{LOCATION}}/{{BATCH_ID}}/') - 1), METADATA$FILE_ROW_NUMBER, CURRENT_TIMESTAMP(), {{BATCH_NO}}
  FROM @CUSTOMERS_STAGE/{{LOCATION}}/{{BATCH_ID}}/
)
FILES = ({{FILES}})
FILE_FORMAT = (FORMAT_NAME = 'CSV_FORMAT')
ON_ERROR = {{ON_ERROR}}
FORCE = TRUE;
