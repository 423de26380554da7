-- Session settings for each connection: timestamps read back in UTC.
SET TimeZone = 'UTC';
