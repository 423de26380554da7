-- The landing objects' CSV dialect. CREATE OR REPLACE is safe: a file format holds no data.
--
-- SKIP_HEADER = 0 on purpose: Firehose concatenates records, and the producer strips the source file's
-- header, so every line of a landing object is data. A header skip would drop the first record of every
-- Firehose object. A header row that does slip through fails its type checks and is rejected, named.
--
-- Empty unquoted field -> NULL; the literal \N -> NULL; a quoted empty string "" stays an empty string.
-- Invalid UTF-8 is an error (never silently replaced). .gz objects are detected by COMPRESSION = AUTO.
CREATE OR REPLACE FILE FORMAT CSV_FORMAT
  TYPE = CSV
  FIELD_DELIMITER = ','
  RECORD_DELIMITER = '\n'
  FIELD_OPTIONALLY_ENCLOSED_BY = '"'
  ESCAPE_UNENCLOSED_FIELD = NONE
  SKIP_HEADER = 0
  EMPTY_FIELD_AS_NULL = TRUE
  NULL_IF = ('\\N')
  ERROR_ON_COLUMN_COUNT_MISMATCH = TRUE
  SKIP_BYTE_ORDER_MARK = TRUE
  ENCODING = 'UTF8'
  REPLACE_INVALID_CHARACTERS = FALSE
  DATE_FORMAT = 'YYYY-MM-DD'
  COMPRESSION = AUTO;
