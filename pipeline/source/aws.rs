//! AWS configuration the way every AWS tool does it: aws-config's default chain (environment,
//! `AWS_PROFILE` including SSO profiles, web identity, container and instance roles), with
//! `--region`, `--profile` and `--endpoint-url` (or `AWS_ENDPOINT_URL`) on top.

use std::sync::Arc;

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_s3::config::{ProvideCredentials, SharedCredentialsProvider};
use object_store::aws::{AmazonS3Builder, AwsCredential};
use object_store::{CredentialProvider, ObjectStore};

/// Attempts per request: throttling and 5xx are retried with exponential backoff and jitter.
const MAX_ATTEMPTS: u32 = 6;

/// What the command line says about AWS.
#[derive(Clone, Debug, Default)]
pub struct AwsOptions {
    pub region: Option<String>,
    pub profile: Option<String>,
    pub endpoint_url: Option<String>,
    /// Address buckets as `endpoint/bucket` rather than `bucket.endpoint` (S3-compatible servers).
    pub path_style: bool,
}

/// Loads the SDK configuration.
pub async fn sdk_config(options: &AwsOptions) -> SdkConfig {
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .retry_config(RetryConfig::standard().with_max_attempts(MAX_ATTEMPTS));
    if let Some(region) = &options.region {
        loader = loader.region(Region::new(region.clone()));
    }
    if let Some(profile) = &options.profile {
        loader = loader.profile_name(profile);
    }
    if let Some(endpoint) = &options.endpoint_url {
        loader = loader.endpoint_url(endpoint);
    }
    loader.load().await
}

/// An SDK error with its causes: the SDK's errors say little in their own message.
pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    message
}

/// An S3 client for `config`.
pub fn s3_client(config: &SdkConfig, options: &AwsOptions) -> aws_sdk_s3::Client {
    let s3 = aws_sdk_s3::config::Builder::from(config)
        .force_path_style(options.path_style)
        .build();
    aws_sdk_s3::Client::from_conf(s3)
}

/// aws-config's credential chain as an object_store credential provider, so that reading a
/// dataset in place works with every credential source the SDK supports (SSO profiles too).
#[derive(Debug)]
struct SdkCredentials(SharedCredentialsProvider);

#[async_trait::async_trait]
impl CredentialProvider for SdkCredentials {
    type Credential = AwsCredential;

    async fn get_credential(&self) -> object_store::Result<Arc<AwsCredential>> {
        let credentials =
            self.0
                .provide_credentials()
                .await
                .map_err(|e| object_store::Error::Generic {
                    store: "S3",
                    source: Box::new(e),
                })?;
        Ok(Arc::new(AwsCredential {
            key_id: credentials.access_key_id().to_owned(),
            secret_key: credentials.secret_access_key().to_owned(),
            token: credentials.session_token().map(str::to_owned),
        }))
    }
}

/// An object store over `bucket` configured like the SDK (region, endpoint, credentials).
pub fn s3_object_store(
    bucket: &str,
    config: &SdkConfig,
    options: &AwsOptions,
) -> object_store::Result<Arc<dyn ObjectStore>> {
    let mut builder = AmazonS3Builder::new()
        .with_bucket_name(bucket)
        .with_virtual_hosted_style_request(!options.path_style);
    if let Some(region) = config.region() {
        builder = builder.with_region(region.as_ref());
    }
    if let Some(endpoint) = config.endpoint_url() {
        builder = builder
            .with_endpoint(endpoint)
            .with_allow_http(endpoint.starts_with("http://"));
    }
    if let Some(provider) = config.credentials_provider() {
        builder = builder.with_credentials(Arc::new(SdkCredentials(provider)));
    }
    Ok(Arc::new(builder.build()?))
}
