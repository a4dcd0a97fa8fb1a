//! `--watch`: the app being served, and the task that rebuilds it when a
//! config file or a module changes.

use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};

use tokio::sync::watch;

use crate::ServeOptions;
use crate::app::App;

/// How often the files are checked.
const POLL: Duration = Duration::from_millis(300);

/// The app new requests go to; requests in flight keep the one they began
/// with.
pub(crate) struct Current(RwLock<Arc<App>>);

impl Current {
    pub(crate) fn new(app: Arc<App>) -> Self {
        Self(RwLock::new(app))
    }

    pub(crate) fn get(&self) -> Arc<App> {
        self.0
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    fn replace(&self, app: Arc<App>) {
        *self
            .0
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = app;
    }
}

/// What a file looked like: its modification time and length (`None` if
/// it could not be read, e.g. deleted).
type Stamp = Option<(SystemTime, u64)>;

fn stamps(files: &[PathBuf]) -> Vec<Stamp> {
    files
        .iter()
        .map(|f| {
            std::fs::metadata(f)
                .ok()
                .and_then(|m| Some((m.modified().ok()?, m.len())))
        })
        .collect()
}

/// Polls `files` until a shutdown is asked for; on a change, rebuilds the
/// app from `options` and swaps it in once it has started. A failed build
/// is logged and the old app keeps serving (its files are watched anew, so
/// fixing the error reloads).
pub(crate) async fn run(
    options: ServeOptions,
    current: Arc<Current>,
    mut files: Vec<PathBuf>,
    mut stop: watch::Receiver<bool>,
) {
    let mut seen = stamps(&files);
    loop {
        tokio::select! {
            () = tokio::time::sleep(POLL) => {}
            _ = stop.wait_for(|stop| *stop) => return,
        }
        let now = stamps(&files);
        if now == seen {
            continue;
        }
        seen = now;
        tracing::info!("a file changed; reloading");
        match crate::build(&options).await {
            Ok(built) => {
                current.replace(built.app);
                files = built.files;
                seen = stamps(&files);
                tracing::info!(worker = %built.config.name, "reloaded");
            }
            Err(e) => {
                tracing::error!(error = %crate::app::inert(&e.to_string()), "reload failed; still serving the previous version");
            }
        }
    }
}
