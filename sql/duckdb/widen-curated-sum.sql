-- A per-customer, per-day sum outgrows the width of one price: curated sums are DECIMAL(38,2). Rewrites the
-- column, so setup runs it only when curated-sum-type.sql reports a narrower type.
ALTER TABLE ORDER_CUSTOMER_DATE_PRICE ALTER COLUMN ORDER_TOTAL_PRICE SET DATA TYPE DECIMAL(38,2);
