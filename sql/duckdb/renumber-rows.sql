-- After a scan that rejected records, loaded rows were numbered 1..n among loaded records only.
-- The k-th loaded record's position in the file is k plus the number of rejected records before it:
-- with rejected positions r_1 < r_2 < ..., reject i precedes loaded record k exactly when r_i - i < k.
UPDATE {{RAW_TABLE}}
SET SOURCE_ROW = SOURCE_ROW + (
  SELECT COUNT(*)
  FROM (
    SELECT line - ROW_NUMBER() OVER (ORDER BY line) AS LOADED_BEFORE
    FROM (SELECT DISTINCT line FROM BATCHLINE_REJECTS) rejected
  ) gaps
  WHERE gaps.LOADED_BEFORE < {{RAW_TABLE}}.SOURCE_ROW
)
WHERE BATCH_ID = :batch_id AND SOURCE_FILE = :source_file;
