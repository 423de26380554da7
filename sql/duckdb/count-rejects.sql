-- How many records the last scan rejected (all files).
SELECT COUNT(*) AS REJECTED_RECORDS FROM (SELECT DISTINCT file_id, line FROM BATCHLINE_REJECTS) rejected;
