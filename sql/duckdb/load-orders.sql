-- Load one landing object into ORDERS_RAW (DuckDB). The object is a local file: read in place, or
-- streamed to a temporary file first. Bad records go to the connection's BATCHLINE_REJECTS table
-- (store_rejects) with their record number and reason; the loader then aborts or quarantines them.
-- SOURCE_ROW is the record's position among the records loaded from the file (renumber-rows.sql then
-- skips the positions of rejected records), so it equals Snowflake's METADATA$FILE_ROW_NUMBER.
INSERT INTO ORDERS_RAW (
  O_ORDERKEY, O_CUSTKEY, O_ORDERSTATUS, O_TOTALPRICE, O_ORDERDATE,
  O_ORDERPRIORITY, O_CLERK, O_SHIPPRIORITY, O_COMMENT,
  BATCH_ID, SOURCE_FILE, SOURCE_ROW, LOADED_AT
)
SELECT
  O_ORDERKEY, O_CUSTKEY, O_ORDERSTATUS, O_TOTALPRICE, O_ORDERDATE,
  O_ORDERPRIORITY, O_CLERK, O_SHIPPRIORITY, O_COMMENT,
  :batch_id, :source_file, ROW_NUMBER() OVER (), :loaded_at
FROM read_csv(
  :path,
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
