-- batchline doctor, inside a transaction that is always rolled back: the table exists and the role may read,
-- DELETE from and INSERT into it (privileges are checked when a statement compiles, even if it touches no row).
-- {{TABLE}} is one of the tables sql/snowflake/setup/tables.sql creates.
SELECT COUNT(*) AS N FROM {{TABLE}} WHERE 1 = 0;

DELETE FROM {{TABLE}} WHERE 1 = 0;

INSERT INTO {{TABLE}} SELECT * FROM {{TABLE}} WHERE 1 = 0;
