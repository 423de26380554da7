-- Storage integration: Snowflake assumes an IAM role to read the bucket; no AWS key is stored anywhere.
-- Needs ACCOUNTADMIN (or CREATE INTEGRATION). CREATE ... IF NOT EXISTS keeps the integration's external id
-- stable across re-runs; CREATE OR REPLACE would mint a new STORAGE_AWS_EXTERNAL_ID and break the trust policy.
--
-- After creating it, run DESC INTEGRATION {{STORAGE_INTEGRATION}} and copy STORAGE_AWS_IAM_USER_ARN and
-- STORAGE_AWS_EXTERNAL_ID into the role's trust policy:
--
--   {
--     "Version": "2012-10-17",
--     "Statement": [{
--       "Effect": "Allow",
--       "Principal": { "AWS": "<STORAGE_AWS_IAM_USER_ARN>" },
--       "Action": "sts:AssumeRole",
--       "Condition": { "StringEquals": { "sts:ExternalId": "<STORAGE_AWS_EXTERNAL_ID>" } }
--     }]
--   }
--
-- The role's permission policy needs s3:GetObject, s3:GetObjectVersion on <bucket>/<root>* and
-- s3:ListBucket, s3:GetBucketLocation on the bucket (conditioned on the <root> prefix).
CREATE STORAGE INTEGRATION IF NOT EXISTS {{STORAGE_INTEGRATION}}
  TYPE = EXTERNAL_STAGE
  STORAGE_PROVIDER = 'S3'
  ENABLED = TRUE
  STORAGE_AWS_ROLE_ARN = {{STORAGE_AWS_ROLE_ARN}}
  STORAGE_ALLOWED_LOCATIONS = ({{STORAGE_ALLOWED_LOCATION}});
