-- The type of the curated sum column, to widen a table created before it was DECIMAL(38,2) (setup, once).
SELECT data_type AS DATA_TYPE
FROM information_schema.columns
WHERE table_name = 'ORDER_CUSTOMER_DATE_PRICE' AND column_name = 'ORDER_TOTAL_PRICE';
