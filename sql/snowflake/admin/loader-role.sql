-- Admin part 3 of 4 (SECURITYADMIN, or the owner of the objects): the loader's role and exactly the privileges
-- `batchline setup` and the runs need, nothing more:
--   setup  CREATE FILE FORMAT, CREATE STAGE (with USAGE on the integration) and CREATE TABLE in the schema;
--          the loader role then owns what it created (stages, file format, tables), which covers every run:
--   runs   USAGE on the warehouse, database and schema; COPY INTO, INSERT, DELETE and SELECT on its own tables.
-- No CREATE DATABASE, CREATE SCHEMA or CREATE INTEGRATION: those are admin parts 1 and 2.
CREATE ROLE IF NOT EXISTS {{ROLE}};

GRANT USAGE ON WAREHOUSE {{WAREHOUSE}} TO ROLE {{ROLE}};

GRANT USAGE ON DATABASE {{DATABASE}} TO ROLE {{ROLE}};

GRANT USAGE, CREATE TABLE, CREATE STAGE, CREATE FILE FORMAT ON SCHEMA {{DATABASE}}.{{SCHEMA}} TO ROLE {{ROLE}};

GRANT USAGE ON INTEGRATION {{STORAGE_INTEGRATION}} TO ROLE {{ROLE}};
