-- External stages over each entity's root; loads read @<STAGE>/processing/<BATCH_ID>/ with FILES=(...)
-- (@<STAGE>/processed/<BATCH_ID>/ when replaying an archived batch).
-- CREATE OR REPLACE is safe: a stage holds no data (the objects stay in S3), and the statement repoints it.
CREATE OR REPLACE STAGE ORDERS_STAGE
  URL = {{ORDERS_STAGE_URL}}
  STORAGE_INTEGRATION = {{STORAGE_INTEGRATION}}
  FILE_FORMAT = (FORMAT_NAME = 'CSV_FORMAT');

CREATE OR REPLACE STAGE CUSTOMERS_STAGE
  URL = {{CUSTOMERS_STAGE_URL}}
  STORAGE_INTEGRATION = {{STORAGE_INTEGRATION}}
  FILE_FORMAT = (FORMAT_NAME = 'CSV_FORMAT');
