-- Load a batch's landing objects into CUSTOMERS_RAW (DuckDB), in one parallel scan. See load-orders.sql.
-- A quoted empty name ("") is a missing name (NULL), which common/check-customers.sql rejects, as on Snowflake.
INSERT INTO CUSTOMERS_RAW (
  C_CUSTKEY, C_NAME, C_ADDRESS, C_NATIONKEY, C_PHONE, C_ACCTBAL, C_MKTSEGMENT, C_COMMENT,
  BATCH_ID, SOURCE_FILE, SOURCE_ROW, LOADED_AT, BATCH_NO
)
SELECT
  C_CUSTKEY, NULLIF(C_NAME, ''), C_ADDRESS, C_NATIONKEY, C_PHONE, C_ACCTBAL, C_MKTSEGMENT, C_COMMENT,
  :batch_id,
  :source_files[CAST(file_index AS BIGINT) + 1],
  SCAN_ROW - MIN(SCAN_ROW) OVER (PARTITION BY file_index) + 1,
  :loaded_at,
  {{BATCH_NO}}
FROM (
  SELECT *, file_index, ROW_NUMBER() OVER () AS SCAN_ROW
  FROM read_csv(
    :paths,
    columns = {
      'C_CUSTKEY': 'BIGINT', 'C_NAME': 'VARCHAR', 'C_ADDRESS': 'VARCHAR', 'C_NATIONKEY': 'BIGINT',
      'C_PHONE': 'VARCHAR', 'C_ACCTBAL': 'DECIMAL(12,2)', 'C_MKTSEGMENT': 'VARCHAR', 'C_COMMENT': 'VARCHAR'
    },
    header = false,
    auto_detect = false,
    delim = ',',
    quote = '"',
    escape = '"',
    nullstr = ['', '\N'],
    allow_quoted_nulls = false,
    dateformat = '%Y-%m-%d',
    compression = :compression,
    max_line_size = 16777216,
    store_rejects = true,
    rejects_table = 'BATCHLINE_REJECTS',
    rejects_scan = 'BATCHLINE_REJECT_SCANS'
  )
) scanned;
