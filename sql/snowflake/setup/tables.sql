-- Tables. Idempotent: CREATE TABLE IF NOT EXISTS never drops data.
-- Every raw row carries its lineage (BATCH_ID, SOURCE_FILE, SOURCE_ROW, LOADED_AT), so a load is
-- replayed by deleting the batch's rows first, not by trusting Snowflake's 64-day load metadata.
-- Loads append batch by batch, so the tables are naturally clustered by BATCH_ID.

CREATE TABLE IF NOT EXISTS ORDERS_RAW (
  O_ORDERKEY      NUMBER(38,0),
  O_CUSTKEY       NUMBER(38,0),
  O_ORDERSTATUS   VARCHAR,
  O_TOTALPRICE    NUMBER(12,2),
  O_ORDERDATE     DATE,
  O_ORDERPRIORITY VARCHAR,
  O_CLERK         VARCHAR,
  O_SHIPPRIORITY  NUMBER(38,0),
  O_COMMENT       VARCHAR,
  BATCH_ID        VARCHAR NOT NULL,
  SOURCE_FILE     VARCHAR NOT NULL,
  SOURCE_ROW      NUMBER(38,0) NOT NULL,
  LOADED_AT       TIMESTAMP_LTZ NOT NULL,
  BATCH_NO        NUMBER(38,0)
);

CREATE TABLE IF NOT EXISTS CUSTOMERS_RAW (
  C_CUSTKEY    NUMBER(38,0),
  C_NAME       VARCHAR,
  C_ADDRESS    VARCHAR,
  C_NATIONKEY  NUMBER(38,0),
  C_PHONE      VARCHAR,
  C_ACCTBAL    NUMBER(12,2),
  C_MKTSEGMENT VARCHAR,
  C_COMMENT    VARCHAR,
  BATCH_ID     VARCHAR NOT NULL,
  SOURCE_FILE  VARCHAR NOT NULL,
  SOURCE_ROW   NUMBER(38,0) NOT NULL,
  LOADED_AT    TIMESTAMP_LTZ NOT NULL,
  BATCH_NO     NUMBER(38,0)
);

-- Rows a quarantining load set aside, one per rejected record, with the reason.
CREATE TABLE IF NOT EXISTS LOAD_REJECTS (
  BATCH_ID    VARCHAR NOT NULL,
  ENTITY      VARCHAR NOT NULL,
  SOURCE_FILE VARCHAR NOT NULL,
  SOURCE_ROW  NUMBER(38,0),
  COLUMN_NAME VARCHAR,
  REASON      VARCHAR NOT NULL,
  RECORD      VARCHAR,
  REJECTED_AT TIMESTAMP_LTZ NOT NULL
);

-- Which batch counted each fulfilled order (OUTCOME counted | late), or found it orphaned (orphan).
CREATE TABLE IF NOT EXISTS ORDER_LEDGER (
  BATCH_ID       VARCHAR NOT NULL,
  O_ORDERKEY     NUMBER(38,0) NOT NULL,
  O_CUSTKEY      NUMBER(38,0) NOT NULL,
  O_ORDERDATE    DATE NOT NULL,
  O_TOTALPRICE   NUMBER(12,2) NOT NULL,
  ORDER_BATCH_ID VARCHAR NOT NULL,
  OUTCOME        VARCHAR NOT NULL,
  BATCH_NO       NUMBER(38,0),
  CUSTOMER_NAME  VARCHAR
);

CREATE TABLE IF NOT EXISTS ORDER_CUSTOMER_DATE_PRICE (
  CUSTOMER_NAME     VARCHAR NOT NULL,
  ORDER_DATE        DATE NOT NULL,
  ORDER_TOTAL_PRICE NUMBER(38,2) NOT NULL,
  BATCH_ID          VARCHAR NOT NULL,
  CUSTOMER_KEY      NUMBER(38,0) NOT NULL,
  BATCH_NO          NUMBER(38,0)
);

-- State the loads and the transform keep per batch (sql/README.md, "State tables"): a batch's transform reads
-- this batch's rows plus key lookups here instead of the whole history. No CLUSTER BY (automatic clustering
-- costs credits): each load inserts its batch's rows sorted by key, so micro-partitions are naturally clustered
-- by (BATCH_ID, key) and pruned by BATCH_ID filters and by the key range of a join's build side.
CREATE TABLE IF NOT EXISTS ORDER_ARRIVALS (
  BATCH_ID     VARCHAR NOT NULL,
  BATCH_NO     NUMBER(38,0) NOT NULL,
  O_ORDERKEY   NUMBER(38,0) NOT NULL,
  O_CUSTKEY    NUMBER(38,0) NOT NULL,
  O_ORDERDATE  DATE NOT NULL,
  O_TOTALPRICE NUMBER(12,2) NOT NULL
);

CREATE TABLE IF NOT EXISTS CUSTOMER_VERSIONS (
  BATCH_ID  VARCHAR NOT NULL,
  BATCH_NO  NUMBER(38,0) NOT NULL,
  C_CUSTKEY NUMBER(38,0) NOT NULL,
  C_NAME    VARCHAR
);

CREATE TABLE IF NOT EXISTS ORDERS_WAITING (
  BATCH_ID     VARCHAR NOT NULL,
  BATCH_NO     NUMBER(38,0) NOT NULL,
  O_ORDERKEY   NUMBER(38,0) NOT NULL,
  O_CUSTKEY    NUMBER(38,0) NOT NULL,
  O_ORDERDATE  DATE NOT NULL,
  O_TOTALPRICE NUMBER(12,2) NOT NULL,
  RESOLVED_BATCH_NO NUMBER(38,0)
);

CREATE TABLE IF NOT EXISTS BATCHLINE_MIGRATIONS (
  NAME       VARCHAR NOT NULL,
  APPLIED_AT TIMESTAMP_LTZ NOT NULL
);

-- One row per batch and task: the pipeline's persisted task state.
CREATE TABLE IF NOT EXISTS BATCH_AUDIT (
  BATCH_ID       VARCHAR NOT NULL,
  TASK           VARCHAR NOT NULL,
  STATE          VARCHAR NOT NULL,
  ATTEMPT        NUMBER(38,0) NOT NULL,
  STARTED_AT     TIMESTAMP_LTZ NOT NULL,
  FINISHED_AT    TIMESTAMP_LTZ,
  FILES          NUMBER(38,0),
  ROWS_PROCESSED NUMBER(38,0),
  ROWS_REJECTED  NUMBER(38,0),
  DUPLICATES     NUMBER(38,0),
  ORPHANS        NUMBER(38,0),
  ERROR          VARCHAR,
  UPDATED_AT     TIMESTAMP_LTZ NOT NULL,
  LATE           NUMBER(38,0),
  PENDING_ORPHANS NUMBER(38,0),
  ATTEMPTS       VARCHAR
);

-- Columns added after the first release: a BATCH_AUDIT created before them gains them here (the status page
-- draws late orders, orphans still waiting and retries from them). ATTEMPTS: JSON array of earlier attempts.
ALTER TABLE BATCH_AUDIT ADD COLUMN IF NOT EXISTS LATE NUMBER(38,0);
ALTER TABLE BATCH_AUDIT ADD COLUMN IF NOT EXISTS PENDING_ORPHANS NUMBER(38,0);
ALTER TABLE BATCH_AUDIT ADD COLUMN IF NOT EXISTS ATTEMPTS VARCHAR;
-- A per-customer, per-day sum outgrows the width of one price: widen a curated table created with NUMBER(12,2)
-- (a metadata change in Snowflake; a no-op once done).
ALTER TABLE ORDER_CUSTOMER_DATE_PRICE ALTER COLUMN ORDER_TOTAL_PRICE SET DATA TYPE NUMBER(38,2);

-- The landing files' own shape, typed: the target of the validation COPY (VALIDATION_MODE = RETURN_ALL_ERRORS),
-- which checks column counts and types the way COPY parses them. Never loaded; it stays empty.
-- (A COPY with a SELECT transformation ignores ERROR_ON_COLUMN_COUNT_MISMATCH and cannot be validated.)
CREATE TABLE IF NOT EXISTS ORDERS_CSV (
  O_ORDERKEY      NUMBER(38,0),
  O_CUSTKEY       NUMBER(38,0),
  O_ORDERSTATUS   VARCHAR,
  O_TOTALPRICE    NUMBER(12,2),
  O_ORDERDATE     DATE,
  O_ORDERPRIORITY VARCHAR,
  O_CLERK         VARCHAR,
  O_SHIPPRIORITY  NUMBER(38,0),
  O_COMMENT       VARCHAR
);

CREATE TABLE IF NOT EXISTS CUSTOMERS_CSV (
  C_CUSTKEY    NUMBER(38,0),
  C_NAME       VARCHAR,
  C_ADDRESS    VARCHAR,
  C_NATIONKEY  NUMBER(38,0),
  C_PHONE      VARCHAR,
  C_ACCTBAL    NUMBER(12,2),
  C_MKTSEGMENT VARCHAR,
  C_COMMENT    VARCHAR
);

-- BATCH_NO (the batch id's digits as a number; see common/transform.sql): tables created before it gain it here,
-- and setup's one-time backfill (common/state-backfill.sql) fills it.
ALTER TABLE ORDER_LEDGER ADD COLUMN IF NOT EXISTS BATCH_NO NUMBER(38,0);
ALTER TABLE ORDER_CUSTOMER_DATE_PRICE ADD COLUMN IF NOT EXISTS BATCH_NO NUMBER(38,0);
ALTER TABLE ORDER_ARRIVALS ADD COLUMN IF NOT EXISTS BATCH_NO NUMBER(38,0);
ALTER TABLE CUSTOMER_VERSIONS ADD COLUMN IF NOT EXISTS BATCH_NO NUMBER(38,0);
ALTER TABLE ORDERS_WAITING ADD COLUMN IF NOT EXISTS BATCH_NO NUMBER(38,0);

-- The ledger's customer name (the name each counted order is summed under) and the batch an orphan's customer
-- arrived in (see common/transform.sql): tables created before them gain them here; the backfill fills the latter.
ALTER TABLE ORDER_LEDGER ADD COLUMN IF NOT EXISTS CUSTOMER_NAME VARCHAR;
ALTER TABLE ORDERS_WAITING ADD COLUMN IF NOT EXISTS RESOLVED_BATCH_NO NUMBER(38,0);

-- The raw tables' BATCH_NO: every per-batch statement of a load filters on it, as on DuckDB. Older rows get it
-- from the backfill (common/state-backfill.sql).
ALTER TABLE ORDERS_RAW ADD COLUMN IF NOT EXISTS BATCH_NO NUMBER(38,0);
ALTER TABLE CUSTOMERS_RAW ADD COLUMN IF NOT EXISTS BATCH_NO NUMBER(38,0);
