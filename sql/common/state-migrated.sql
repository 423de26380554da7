-- setup: whether the state tables were backfilled (state-backfill.sql) in this warehouse.
SELECT COUNT(*) AS APPLIED FROM BATCHLINE_MIGRATIONS WHERE NAME = 'state-tables-3';
