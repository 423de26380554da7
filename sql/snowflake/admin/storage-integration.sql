-- Admin part 2 of 4 (ACCOUNTADMIN, or a role with CREATE INTEGRATION): the storage integration. Snowflake
-- assumes an IAM role to read the bucket; no AWS key is stored anywhere. Its role's policy: docs/iam.md. CREATE ... IF NOT EXISTS keeps the integration's external id
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
-- The role's permission policy (docs/iam.md): s3:GetObject, s3:GetObjectVersion on <bucket>/<root>*,
-- s3:ListBucket and s3:GetBucketLocation on the bucket (conditioned on the <root> prefix), and kms:Decrypt under SSE-KMS.
CREATE STORAGE INTEGRATION IF NOT EXISTS {{STORAGE_INTEGRATION}}
  TYPE = EXTERNAL_STAGE
  STORAGE_PROVIDER = 'S3'
  ENABLED = TRUE
  STORAGE_AWS_ROLE_ARN = {{STORAGE_AWS_ROLE_ARN}}
  STORAGE_ALLOWED_LOCATIONS = ({{STORAGE_ALLOWED_LOCATION}});
