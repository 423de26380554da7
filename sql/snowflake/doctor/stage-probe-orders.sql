-- batchline doctor, inside a transaction that is always rolled back: the orders stage sees a scratch file the
-- doctor wrote under <root>orders/{{SCRATCH_PATH}}, reads it with CSV_FORMAT, and COPY INTO ORDERS_RAW works for
-- this role. SOURCE_FILE keeps METADATA$FILENAME as Snowflake gives it, so the doctor can show its shape.
COPY INTO ORDERS_RAW (
  O_ORDERKEY, O_CUSTKEY, O_ORDERSTATUS, O_TOTALPRICE, O_ORDERDATE,
  O_ORDERPRIORITY, O_CLERK, O_SHIPPRIORITY, O_COMMENT,
  BATCH_ID, SOURCE_FILE, SOURCE_ROW, LOADED_AT
)
FROM (
  SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, '__batchline_doctor__', METADATA$FILENAME, METADATA$FILE_ROW_NUMBER, CURRENT_TIMESTAMP()
  FROM @ORDERS_STAGE/{{SCRATCH_PATH}}
)
FILES = ({{FILES}})
FILE_FORMAT = (FORMAT_NAME = 'CSV_FORMAT')
ON_ERROR = ABORT_STATEMENT
FORCE = TRUE;

SELECT SOURCE_FILE FROM ORDERS_RAW WHERE BATCH_ID = '__batchline_doctor__';
