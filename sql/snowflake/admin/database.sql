-- Database and schema. Idempotent. Needs CREATE DATABASE on the account (or run once by an admin).
CREATE DATABASE IF NOT EXISTS {{DATABASE}};

CREATE SCHEMA IF NOT EXISTS {{DATABASE}}.{{SCHEMA}};

USE SCHEMA {{DATABASE}}.{{SCHEMA}};
