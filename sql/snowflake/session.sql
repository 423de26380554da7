-- Session settings, before any transaction: UTC, and timestamps returned as ISO-8601 text.
-- snowflake-sdk formats timestamps itself from these parameters and copies a quoted literal such as "T"
-- quotes and all, so the date and time are separated by a space (which Date parses as ISO-8601 too).
ALTER SESSION SET TIMEZONE = 'UTC';

ALTER SESSION SET TIMESTAMP_OUTPUT_FORMAT = 'YYYY-MM-DD HH24:MI:SS.FF3TZH:TZM';

ALTER SESSION SET TIMESTAMP_LTZ_OUTPUT_FORMAT = 'YYYY-MM-DD HH24:MI:SS.FF3TZH:TZM';

-- Fail fast instead of hanging: a lock left by a killed run (its transaction stays open until Snowflake aborts it)
-- would make the rerun's DELETE wait 12 h by default; no statement may run 2 days. Both are configurable
-- (SNOWFLAKE_LOCK_TIMEOUT, SNOWFLAKE_STATEMENT_TIMEOUT), in seconds. The README explains SYSTEM$ABORT_TRANSACTION.
ALTER SESSION SET LOCK_TIMEOUT = {{LOCK_TIMEOUT}};

ALTER SESSION SET STATEMENT_TIMEOUT_IN_SECONDS = {{STATEMENT_TIMEOUT}};
