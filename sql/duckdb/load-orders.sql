-- Load a batch's landing objects into ORDERS_RAW (DuckDB), in one parallel scan. The objects are local
-- files (read in place, or streamed to temporary files first); :paths lists them, :source_files their stage
-- names (processing/<BATCH_ID>/<path>, Snowflake's METADATA$FILENAME) in the same order.
-- Bad records go to the connection's BATCHLINE_REJECTS table (store_rejects) with their record number and
-- reason; the loader then aborts or quarantines them.
-- ROW_NUMBER() OVER () numbers the scan's loaded records in file order (insertion order is preserved);
-- renumber-rows.sql then turns that into each record's number in its own file (METADATA$FILE_ROW_NUMBER).
INSERT INTO ORDERS_RAW (
  O_ORDERKEY, O_CUSTKEY, O_ORDERSTATUS, O_TOTALPRICE, O_ORDERDATE,
  O_ORDERPRIORITY, O_CLERK, O_SHIPPRIORITY, O_COMMENT,
  BATCH_ID, SOURCE_FILE, SOURCE_ROW, LOADED_AT
)
SELECT
  O_ORDERKEY, O_CUSTKEY, O_ORDERSTATUS, O_TOTALPRICE, O_ORDERDATE,
  O_ORDERPRIORITY, O_CLERK, O_SHIPPRIORITY, O_COMMENT,
  :batch_id, :source_files[CAST(file_index AS BIGINT) + 1], ROW_NUMBER() OVER (), :loaded_at
FROM read_csv(
  :paths,
  columns = {
    'O_ORDERKEY': 'BIGINT', 'O_CUSTKEY': 'BIGINT', 'O_ORDERSTATUS': 'VARCHAR',
    'O_TOTALPRICE': 'DECIMAL(12,2)', 'O_ORDERDATE': 'DATE', 'O_ORDERPRIORITY': 'VARCHAR',
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
);
