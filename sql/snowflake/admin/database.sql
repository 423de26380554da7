-- Admin part 1 of 4 (run once, by a role with CREATE DATABASE, e.g. SYSADMIN): the database and schema the
-- loader works in. Idempotent. `batchline setup` never creates them: a loader role should not hold CREATE DATABASE.
CREATE DATABASE IF NOT EXISTS {{DATABASE}};

CREATE SCHEMA IF NOT EXISTS {{DATABASE}}.{{SCHEMA}};
