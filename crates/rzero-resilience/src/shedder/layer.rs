//! The layer that puts a service behind a [`super::LoadShed`].

use tower::Layer;

use super::LoadShed;
use super::adaptive::AdaptiveShedder;

/// Puts services behind one shared shedder (one per server: it measures the server).
#[derive(Clone, Debug)]
pub struct LoadShedLayer<C> {
    shedder: AdaptiveShedder,
    classify: C,
}

impl<C> LoadShedLayer<C> {
    /// A layer over `shedder`; results `classify` calls failures do not count as served.
    pub fn new(shedder: AdaptiveShedder, classify: C) -> Self {
        LoadShedLayer { shedder, classify }
    }
}

impl<S, C: Clone> Layer<S> for LoadShedLayer<C> {
    type Service = LoadShed<S, C>;

    fn layer(&self, inner: S) -> Self::Service {
        LoadShed {
            inner,
            shedder: self.shedder.clone(),
            classify: self.classify.clone(),
        }
    }
}
