-- Session settings, before any transaction: UTC, and timestamps returned as ISO-8601 text.
-- snowflake-sdk formats timestamps itself from these parameters and copies a quoted literal such as "T"
-- quotes and all, so the date and time are separated by a space (which Date parses as ISO-8601 too).
ALTER SESSION SET TIMEZONE = 'UTC';

ALTER SESSION SET TIMESTAMP_OUTPUT_FORMAT = 'YYYY-MM-DD HH24:MI:SS.FF3TZH:TZM';

ALTER SESSION SET TIMESTAMP_LTZ_OUTPUT_FORMAT = 'YYYY-MM-DD HH24:MI:SS.FF3TZH:TZM';
