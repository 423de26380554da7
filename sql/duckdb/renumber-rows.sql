-- After a scan, SOURCE_ROW counts loaded records across all the scan's files (:source_files). Make it each
-- record's position among its own file's loaded records: subtract the file's first number, then add 1.
UPDATE {{RAW_TABLE}}
SET SOURCE_ROW = {{RAW_TABLE}}.SOURCE_ROW - first_row.FIRST_ROW + 1
FROM (
  SELECT SOURCE_FILE, MIN(SOURCE_ROW) AS FIRST_ROW
  FROM {{RAW_TABLE}}
  WHERE BATCH_ID = :batch_id AND list_contains(:source_files, SOURCE_FILE)
  GROUP BY SOURCE_FILE
) first_row
WHERE {{RAW_TABLE}}.BATCH_ID = :batch_id
  AND {{RAW_TABLE}}.SOURCE_FILE = first_row.SOURCE_FILE
  AND first_row.FIRST_ROW > 1;
