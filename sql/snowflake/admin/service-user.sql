-- One-off, run by an admin (SECURITYADMIN / ACCOUNTADMIN), not by the loader: a service user that GitHub Actions
-- logs in as with its OIDC token (authenticator WORKLOAD_IDENTITY), and the role the loader needs.
-- No password, no key: Snowflake trusts tokens from the issuer for exactly this repository and branch.
-- Replace the placeholders by hand (see sql/README.md) and run it in a worksheet.
CREATE ROLE IF NOT EXISTS {{ROLE}};

CREATE USER IF NOT EXISTS {{USER}}
  TYPE = SERVICE
  WORKLOAD_IDENTITY = (
    TYPE = OIDC
    ISSUER = 'https://token.actions.githubusercontent.com'
    SUBJECT = {{GITHUB_OIDC_SUBJECT}}
  )
  DEFAULT_ROLE = {{ROLE}}
  DEFAULT_WAREHOUSE = {{WAREHOUSE}};

GRANT ROLE {{ROLE}} TO USER {{USER}};

GRANT USAGE ON WAREHOUSE {{WAREHOUSE}} TO ROLE {{ROLE}};

GRANT USAGE ON DATABASE {{DATABASE}} TO ROLE {{ROLE}};

GRANT USAGE, CREATE TABLE, CREATE STAGE, CREATE FILE FORMAT ON SCHEMA {{DATABASE}}.{{SCHEMA}} TO ROLE {{ROLE}};

GRANT USAGE ON INTEGRATION {{STORAGE_INTEGRATION}} TO ROLE {{ROLE}};
