-- Step 2 of load(orders) on Snowflake: exactly the manifest's files (FILES=, at most 1000 per statement),
-- FORCE = TRUE so a replay reloads them (the batch's rows were deleted first, in the same transaction),
-- each row stamped with its batch and lineage. The files are read where they are now, {{LOCATION}}
-- (processing, or processed for a replay of an archived batch), but SOURCE_FILE always names them as the
-- claim placed them, processing/<BATCH_ID>/<path>, as the DuckDB engine does: a replay from processed/ stores
-- the same rows as the clean run. METADATA$FILENAME is the file's path, stage-relative (<LOCATION>/<BATCH_ID>/<path>)
-- or with the stage's prefix before it (Snowflake documents neither for sure): <path> is what follows the first
-- /<LOCATION>/<BATCH_ID>/ in '/' || METADATA$FILENAME. A name without it yields a SOURCE_FILE outside the request,
-- which the loader's reconciliation refuses. Returns one row per file: file, status, rows_parsed,
-- rows_loaded, error_limit, errors_seen, first_error, first_error_line, first_error_character,
-- first_error_column_name. {{ON_ERROR}}: ABORT_STATEMENT (policy abort) or CONTINUE (policy quarantine).
-- A price is kept only in its exact form -?[0-9]{1,10}([.][0-9]{1,2})? (NUMBER(12,2) would round 10.555 and take
-- 1e3) and a date only as YYYY-MM-DD; anything else loads as NULL, which common/check-orders.sql rejects by name.
-- Impossible dates (2024-02-30) fail the validation step (validate-orders.sql) first.
COPY INTO ORDERS_RAW (
  O_ORDERKEY, O_CUSTKEY, O_ORDERSTATUS, O_TOTALPRICE, O_ORDERDATE,
  O_ORDERPRIORITY, O_CLERK, O_SHIPPRIORITY, O_COMMENT,
  BATCH_ID, SOURCE_FILE, SOURCE_ROW, LOADED_AT, BATCH_NO
)
FROM (
  SELECT
    $1, $2, $3,
    CASE WHEN REGEXP_LIKE($4, '-?[0-9]{1,10}([.][0-9]{1,2})?') THEN $4 END,
    CASE WHEN REGEXP_LIKE($5, '[0-9]{4}-[0-9]{2}-[0-9]{2}') THEN $5 END,
    $6, $7, $8, $9,
    '{{BATCH_ID}}', 'processing/{{BATCH_ID}}/' || SUBSTR(METADATA$FILENAME, POSITION('/{{LOCATION}}/{{BATCH_ID}}/' IN '/' || METADATA$FILENAME) + LENGTH('/{{LOCATION}}/{{BATCH_ID}}/') - 1), METADATA$FILE_ROW_NUMBER, CURRENT_TIMESTAMP(), {{BATCH_NO}}
  FROM @ORDERS_STAGE/{{LOCATION}}/{{BATCH_ID}}/
)
FILES = ({{FILES}})
FILE_FORMAT = (FORMAT_NAME = 'CSV_FORMAT')
ON_ERROR = {{ON_ERROR}}
FORCE = TRUE;
