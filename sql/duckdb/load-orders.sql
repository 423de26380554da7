-- Load a batch's landing objects into ORDERS_RAW (DuckDB), in one parallel scan. The objects are local
-- files (read in place, or streamed to temporary files first); :paths lists them, :source_files their stage
-- names in the same order: processing/<BATCH_ID>/<path>, as the claim placed them, even when an archived
-- batch is replayed from processed/ (the Snowflake loads store the same SOURCE_FILE).
-- Bad records go to the connection's BATCHLINE_REJECTS table (store_rejects) with their record number and
-- reason; the loader then aborts or quarantines them.
-- ROW_NUMBER() OVER () numbers the scan's loaded records in file order (insertion order is preserved);
-- minus the file's first number, plus 1, that is the record's position among its file's loaded records
-- (with no rejects: Snowflake's METADATA$FILE_ROW_NUMBER; renumber-after-rejects.sql fixes the rest).
-- Computed in the INSERT rather than by a later UPDATE: DuckDB then writes the rows straight to storage.
-- Price and date are read as text and kept only in their exact form (price -?[0-9]{1,10}([.][0-9]{1,2})?, date
-- YYYY-MM-DD and a real date): DuckDB's DECIMAL parse rounds 10.555 and takes 1e3, its %m/%d take one digit.
-- Anything else becomes NULL, which common/check-orders.sql rejects by name; Snowflake's load does the same.
INSERT INTO ORDERS_RAW (
  O_ORDERKEY, O_CUSTKEY, O_ORDERSTATUS, O_TOTALPRICE, O_ORDERDATE,
  O_ORDERPRIORITY, O_CLERK, O_SHIPPRIORITY, O_COMMENT,
  BATCH_ID, SOURCE_FILE, SOURCE_ROW, LOADED_AT, BATCH_NO
)
SELECT
  O_ORDERKEY, O_CUSTKEY, O_ORDERSTATUS,
  CASE WHEN regexp_full_match(O_TOTALPRICE, '-?[0-9]{1,10}([.][0-9]{1,2})?') THEN CAST(O_TOTALPRICE AS DECIMAL(12,2)) END,
  CASE WHEN regexp_full_match(O_ORDERDATE, '[0-9]{4}-[0-9]{2}-[0-9]{2}') THEN TRY_CAST(O_ORDERDATE AS DATE) END,
  O_ORDERPRIORITY, O_CLERK, O_SHIPPRIORITY, O_COMMENT,
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
      'O_ORDERKEY': 'BIGINT', 'O_CUSTKEY': 'BIGINT', 'O_ORDERSTATUS': 'VARCHAR',
      'O_TOTALPRICE': 'VARCHAR', 'O_ORDERDATE': 'VARCHAR', 'O_ORDERPRIORITY': 'VARCHAR',
      'O_CLERK': 'VARCHAR', 'O_SHIPPRIORITY': 'INTEGER', 'O_COMMENT': 'VARCHAR'
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
