//! AWS configuration the way every AWS tool does it: aws-config's default chain (environment,
//! `AWS_PROFILE` including SSO profiles, web identity, container and instance roles), with
//! `--region`, `--profile` and `--endpoint-url` (or `AWS_ENDPOINT_URL`) on top.

use std::sync::Arc;

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_s3::config::{ProvideCredentials, SharedCredentialsProvider};
use aws_sdk_s3::error::SdkError;
use backon::{ExponentialBuilder, Retryable};
use object_store::aws::{AmazonS3Builder, AwsCredential};
use object_store::{CredentialProvider, ObjectStore};

use super::resilient::Resilient;

/// Attempts per request: throttling and 5xx are retried with exponential backoff and jitter.
const MAX_ATTEMPTS: u32 = 6;

/// What the command line says about AWS.
#[derive(Clone, Debug, Default)]
pub struct AwsOptions {
    pub region: Option<String>,
    pub profile: Option<String>,
    pub endpoint_url: Option<String>,
    pub addressing: AddressingStyle,
}

/// How requests name the bucket, as the AWS CLI's `s3.addressing_style` setting says it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum AddressingStyle {
    /// Path style (`endpoint/bucket/key`) with a custom endpoint, which S3-compatible servers
    /// need; virtual-hosted style on AWS.
    #[default]
    Auto,
    /// `endpoint/bucket/key`.
    Path,
    /// `bucket.endpoint/key`.
    Virtual,
}

impl AddressingStyle {
    /// Whether to put the bucket in the path, given the endpoint in use (`None`: AWS's own).
    fn path_style(self, endpoint: Option<&str>) -> bool {
        match self {
            AddressingStyle::Auto => endpoint.is_some(),
            AddressingStyle::Path => true,
            AddressingStyle::Virtual => false,
        }
    }
}

/// The S3 endpoint in use, however it was given: `--endpoint-url`, `AWS_ENDPOINT_URL_S3`, or
/// the SDK's configuration (`AWS_ENDPOINT_URL`, `endpoint_url` in the profile).
fn s3_endpoint(config: &SdkConfig, options: &AwsOptions) -> Option<String> {
    options
        .endpoint_url
        .clone()
        .or_else(|| std::env::var("AWS_ENDPOINT_URL_S3").ok())
        .filter(|e| !e.is_empty())
        .or_else(|| config.endpoint_url().map(str::to_owned))
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

/// Attempts at anything sent again after a network fault, the first included.
pub const NETWORK_ATTEMPTS: usize = 6;

/// The waits between attempts after a network fault: 200 ms doubling to 5 s, with jitter so that
/// workers that lost their connections at once do not come back at once.
pub fn network_backoff() -> ExponentialBuilder {
    ExponentialBuilder::default()
        .with_min_delay(Duration::from_millis(200))
        .with_max_delay(Duration::from_secs(5))
        .with_max_times(NETWORK_ATTEMPTS - 1)
        .with_jitter()
}

/// Sends a request again when its answer broke off or could not be read, or the connection
/// failed even after the SDK's own retries (which cover throttling, 5xx and connection errors,
/// not an answer whose body is cut short): up to 6 attempts, 200 ms doubling to 5 s, with
/// jitter. Only for requests that are safe to repeat (reads, and writes with an idempotency
/// token or an existence check).
pub async fn resend<T, E, F, Fut>(send: F) -> Result<T, SdkError<E>>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, SdkError<E>>>,
{
    send.retry(network_backoff())
        .when(|e| {
            matches!(
                e,
                SdkError::ResponseError(_)
                    | SdkError::DispatchFailure(_)
                    | SdkError::TimeoutError(_)
            )
        })
        .await
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
    let endpoint = s3_endpoint(config, options);
    let s3 = aws_sdk_s3::config::Builder::from(config)
        .force_path_style(options.addressing.path_style(endpoint.as_deref()))
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

/// An object store over `bucket` configured like the SDK (region, endpoint, credentials), whose
/// listings survive network faults ([`Resilient`]).
pub fn s3_object_store(
    bucket: &str,
    config: &SdkConfig,
    options: &AwsOptions,
) -> object_store::Result<Arc<dyn ObjectStore>> {
    let endpoint = s3_endpoint(config, options);
    let path_style = options.addressing.path_style(endpoint.as_deref());
    let mut builder = AmazonS3Builder::new()
        .with_bucket_name(bucket)
        .with_virtual_hosted_style_request(!path_style);
    if let Some(region) = config.region() {
        builder = builder.with_region(region.as_ref());
    }
    if let Some(endpoint) = endpoint {
        // object_store takes a virtual-hosted endpoint with the bucket already in it.
        let endpoint = if path_style {
            endpoint
        } else {
            bucket_endpoint(&endpoint, bucket)?
        };
        builder = builder
            .with_allow_http(endpoint.starts_with("http://"))
            .with_endpoint(endpoint);
    }
    if let Some(provider) = config.credentials_provider() {
        builder = builder.with_credentials(Arc::new(SdkCredentials(provider)));
    }
    Ok(Arc::new(Resilient::new(Arc::new(builder.build()?))))
}

/// `http://host:port` → `http://bucket.host:port`.
fn bucket_endpoint(endpoint: &str, bucket: &str) -> object_store::Result<String> {
    let invalid = |reason: &str| object_store::Error::Generic {
        store: "S3",
        source: format!("endpoint {endpoint:?}: {reason}").into(),
    };
    let mut url = url::Url::parse(endpoint).map_err(|e| invalid(&e.to_string()))?;
    let host = url
        .host_str()
        .ok_or_else(|| invalid("no host to put the bucket in"))?
        .to_owned();
    url.set_host(Some(&format!("{bucket}.{host}")))
        .map_err(|e| invalid(&e.to_string()))?;
    Ok(url.as_str().trim_end_matches('/').to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chooses_the_addressing_style() {
        for (style, endpoint, path) in [
            (AddressingStyle::Auto, None, false),
            (AddressingStyle::Auto, Some("http://127.0.0.1:9000"), true),
            (AddressingStyle::Path, None, true),
            (
                AddressingStyle::Virtual,
                Some("http://localhost:9000"),
                false,
            ),
        ] {
            assert_eq!(style.path_style(endpoint), path, "{style:?} {endpoint:?}");
        }
    }

    #[test]
    fn puts_the_bucket_in_a_virtual_hosted_endpoint() {
        assert_eq!(
            bucket_endpoint("http://localhost:9000/", "logs").unwrap(),
            "http://logs.localhost:9000"
        );
        assert_eq!(
            bucket_endpoint("https://s3.example.com", "b").unwrap(),
            "https://b.s3.example.com"
        );
        assert!(bucket_endpoint("not a url", "b").is_err());
    }
}
