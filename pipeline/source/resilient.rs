//! An object store that finishes listings through network faults.
//!
//! object_store retries requests on 5xx, throttling and some connection errors, and resumes a
//! GET whose body breaks off while it streams. It does not retry a transport error of an unknown
//! kind (a connection reset while the answer was being read), and a LIST page whose body breaks
//! off fails the whole listing, and with them the opening of a Delta table (its log is listed,
//! its checkpoint pointer read). [`Resilient`] wraps the S3 store and, on such a network fault,
//! tries again with backoff and jitter ([`network_backoff`]): a listing goes on from after
//! the last key it returned; a GET, a HEAD, an overwriting PUT, a copy are simply repeated
//! (each is idempotent). A conditional PUT (a Delta commit) is not repeated here: whether it
//! landed is for the commit's own retry to find out (`dataset::retry`).
//!
//! Written here because object_store has no such layer; the wrapper only forwards and resumes.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use backon::BackoffBuilder;
use futures::stream::{self, BoxStream, StreamExt};
use object_store::path::Path;
use object_store::{
    CopyOptions, GetOptions, GetResult, ListResult, MultipartUpload, ObjectMeta, ObjectStore,
    PutMode, PutMultipartOptions, PutOptions, PutPayload, PutResult, Result,
};

use super::aws::network_backoff;

/// An object store whose listings survive network faults.
#[derive(Debug)]
pub struct Resilient {
    inner: Arc<dyn ObjectStore>,
}

impl Resilient {
    pub fn new(inner: Arc<dyn ObjectStore>) -> Self {
        Resilient { inner }
    }
}

impl fmt::Display for Resilient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Resilient({})", self.inner)
    }
}

/// Whether a store error is a network fault (rather than an answer about the objects).
fn is_network_fault(error: &object_store::Error) -> bool {
    matches!(error, object_store::Error::Generic { .. })
}

fn backoff() -> impl Iterator<Item = Duration> {
    network_backoff().build()
}

/// Calls `call` again after each network fault, as often as [`network_backoff`] allows.
async fn repeated<T, F, Fut>(mut call: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T>>,
{
    let mut delays = backoff();
    loop {
        match call().await {
            Err(error) if is_network_fault(&error) => match delays.next() {
                Some(delay) => {
                    tracing::debug!(%error, ?delay, "calling the store again after a network fault");
                    tokio::time::sleep(delay).await;
                }
                None => return Err(error),
            },
            done => return done,
        }
    }
}

/// Where a resumable listing stands.
struct Listing {
    store: Arc<dyn ObjectStore>,
    prefix: Option<Path>,
    /// The last key returned: a new attempt lists from after it.
    after: Option<Path>,
    inner: BoxStream<'static, Result<ObjectMeta>>,
    delays: Box<dyn Iterator<Item = Duration> + Send>,
}

impl Listing {
    fn start(store: Arc<dyn ObjectStore>, prefix: Option<Path>, after: Option<Path>) -> Self {
        let inner = Self::open(&store, prefix.as_ref(), after.as_ref());
        Listing {
            store,
            prefix,
            after,
            inner,
            delays: Box::new(backoff()),
        }
    }

    fn open(
        store: &Arc<dyn ObjectStore>,
        prefix: Option<&Path>,
        after: Option<&Path>,
    ) -> BoxStream<'static, Result<ObjectMeta>> {
        match after {
            Some(after) => store.list_with_offset(prefix, after),
            None => store.list(prefix),
        }
    }

    async fn next(mut self) -> Option<(Result<ObjectMeta>, Self)> {
        loop {
            match self.inner.next().await? {
                Ok(meta) => {
                    self.after = Some(meta.location.clone());
                    return Some((Ok(meta), self));
                }
                Err(error) if is_network_fault(&error) => match self.delays.next() {
                    Some(delay) => {
                        tracing::debug!(%error, ?delay, "listing again after a network fault");
                        tokio::time::sleep(delay).await;
                        self.inner =
                            Self::open(&self.store, self.prefix.as_ref(), self.after.as_ref());
                    }
                    None => return Some((Err(error), self)),
                },
                Err(error) => return Some((Err(error), self)),
            }
        }
    }
}

impl Resilient {
    fn resumable(
        &self,
        prefix: Option<&Path>,
        after: Option<&Path>,
    ) -> BoxStream<'static, Result<ObjectMeta>> {
        let listing = Listing::start(Arc::clone(&self.inner), prefix.cloned(), after.cloned());
        stream::unfold(listing, Listing::next).boxed()
    }
}

#[async_trait::async_trait]
impl ObjectStore for Resilient {
    async fn put_opts(
        &self,
        location: &Path,
        payload: PutPayload,
        opts: PutOptions,
    ) -> Result<PutResult> {
        match opts.mode {
            PutMode::Overwrite => {
                repeated(|| self.inner.put_opts(location, payload.clone(), opts.clone())).await
            }
            PutMode::Create | PutMode::Update(_) => {
                self.inner.put_opts(location, payload, opts).await
            }
        }
    }

    async fn put_multipart_opts(
        &self,
        location: &Path,
        opts: PutMultipartOptions,
    ) -> Result<Box<dyn MultipartUpload>> {
        self.inner.put_multipart_opts(location, opts).await
    }

    async fn get_opts(&self, location: &Path, options: GetOptions) -> Result<GetResult> {
        repeated(|| self.inner.get_opts(location, options.clone())).await
    }

    async fn get_ranges(
        &self,
        location: &Path,
        ranges: &[std::ops::Range<u64>],
    ) -> Result<Vec<bytes::Bytes>> {
        repeated(|| self.inner.get_ranges(location, ranges)).await
    }

    fn delete_stream(
        &self,
        locations: BoxStream<'static, Result<Path>>,
    ) -> BoxStream<'static, Result<Path>> {
        self.inner.delete_stream(locations)
    }

    fn list(&self, prefix: Option<&Path>) -> BoxStream<'static, Result<ObjectMeta>> {
        self.resumable(prefix, None)
    }

    fn list_with_offset(
        &self,
        prefix: Option<&Path>,
        offset: &Path,
    ) -> BoxStream<'static, Result<ObjectMeta>> {
        self.resumable(prefix, Some(offset))
    }

    async fn list_with_delimiter(&self, prefix: Option<&Path>) -> Result<ListResult> {
        repeated(|| self.inner.list_with_delimiter(prefix)).await
    }

    async fn copy_opts(&self, from: &Path, to: &Path, options: CopyOptions) -> Result<()> {
        repeated(|| self.inner.copy_opts(from, to, options.clone())).await
    }
}
