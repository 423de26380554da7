-- Admin part 4 of 4 (SECURITYADMIN / USERADMIN): the service user GitHub Actions logs in as with its OIDC token
-- (authenticator WORKLOAD_IDENTITY). No password, no key: Snowflake trusts tokens from the issuer for exactly this
-- repository and branch (when the job uses an environment, the subject ends in environment:<name> instead of the ref).
-- Replace the placeholders by hand (see sql/README.md), or render them with `batchline-warehouse print-setup snowflake-admin`.
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

-- A run killed mid-statement leaves its query running with no client: abort it instead of letting it finish
-- (and hold its locks) unattended.
ALTER USER {{USER}} SET ABORT_DETACHED_QUERY = TRUE;
