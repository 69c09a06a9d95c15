//! Building and running the server.
//!
//! [`Application::build`] opens the store, loads the server key and binds the
//! listener (port 0 picks a free port, which is how tests run many servers at
//! once); [`Application::run`] serves until the shutdown signal.

use std::net::SocketAddr;
use std::sync::Arc;

use ident_core::ports::{Clock, SystemClock};
use thiserror::Error;
use tokio::net::TcpListener;

use crate::config::{Config, ConfigError};
use crate::routes;
use crate::state::{AppState, ServerKey};
use crate::store::{SqliteStore, Store, StoreError};

/// Why the server could not start.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum StartupError {
    /// Bad settings.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The database could not be opened.
    #[error("cannot open the database: {0}")]
    Store(#[from] StoreError),
    /// The address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// Serving failed.
    #[error("the server stopped with an error: {0}")]
    Serve(std::io::Error),
    /// The portal could not be set up.
    #[error("cannot start the portal: {0}")]
    Portal(#[from] crate::portal::PortalSetupError),
}

/// A built server, bound to its port, not yet serving.
#[derive(Debug)]
pub struct Application {
    listener: TcpListener,
    state: AppState,
    portal: Option<crate::portal::PortalState>,
}

impl Application {
    /// Opens the database at `config.db` and binds `config.listen`.
    pub async fn build(config: Config) -> Result<Self, StartupError> {
        let store = SqliteStore::open(&config.db, config.durable_power_loss)?;
        Self::build_with(config, Arc::new(store), Arc::new(SystemClock)).await
    }

    /// Like [`Application::build`] with a given store and clock (tests).
    pub async fn build_with(
        config: Config,
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, StartupError> {
        let listener =
            TcpListener::bind(config.listen)
                .await
                .map_err(|source| StartupError::Bind {
                    addr: config.listen,
                    source,
                })?;
        let mut config = config;
        if config.public_url.is_empty() {
            // Derive the public URL from the bound address (port 0 in tests).
            let addr = listener.local_addr().map_err(|source| StartupError::Bind {
                addr: config.listen,
                source,
            })?;
            config.public_url = format!("http://{addr}");
        }
        let public_url = config.validate()?;
        let key_store = Arc::clone(&store);
        let now = clock.now().secs();
        let server_key =
            tokio::task::spawn_blocking(move || ServerKey::load_or_create(key_store.as_ref(), now))
                .await
                .map_err(|e| StoreError::Db(e.to_string()))??;
        let sms = crate::sms_gateway::from_config(&config, Arc::clone(&clock)).map_err(|e| {
            ConfigError::Invalid {
                name: "sms_http_url",
                message: e.to_string(),
            }
        })?;
        if sms.kind() == "none" {
            tracing::warn!(
                "no SMS gateway configured (sms_outbox or sms_http_url): SMS logins and \
                 SMS confirmations will fail with sms-gateway-failed"
            );
        }
        let push = crate::push::from_config(&config.push).map_err(|e| ConfigError::Invalid {
            name: "push",
            message: e.to_string(),
        })?;
        let portal = if config.portal.enabled {
            let bound = listener.local_addr().map_err(|source| StartupError::Bind {
                addr: config.listen,
                source,
            })?;
            if config.portal.public_url.is_empty() {
                // Customer mail links to the portal where this server is reached.
                config.portal.public_url =
                    format!("{}/portal/", public_url.as_str().trim_end_matches('/'));
            }
            Some(crate::portal::PortalState::open(
                &config.portal,
                &config.db,
                bound,
                Arc::clone(&clock),
            )?)
        } else {
            None
        };
        let committer = Arc::new(crate::group_commit::GroupCommitter::new(Arc::clone(&store)));
        let state = AppState {
            store,
            committer,
            config: Arc::new(config),
            public_url,
            clock,
            server_key: Arc::new(server_key),
            sms,
            push,
            wakeups: Arc::new(crate::wakeup::Wakeups::new()),
        };
        Ok(Self {
            listener,
            state,
            portal,
        })
    }

    /// The address actually bound (the real port when 0 was asked for).
    pub fn local_addr(&self) -> Result<SocketAddr, std::io::Error> {
        self.listener.local_addr()
    }

    /// The shared state (tests use it to reach the store).
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// The portal's state, when `[portal] enabled` (tests use it).
    pub fn portal(&self) -> Option<&crate::portal::PortalState> {
        self.portal.as_ref()
    }

    /// Serves until `shutdown` completes, then finishes in-flight requests.
    pub async fn run_until(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> Result<(), StartupError> {
        // The hourly purge of old records; stopped after the last request.
        let retention = crate::services::retention::spawn(self.state.clone());
        let wakeups = Arc::clone(&self.state.wakeups);
        let mut app = routes::router(self.state);
        if let Some(portal) = self.portal {
            app = app.merge(crate::portal::router(portal));
        }
        // The peer address reaches handlers (the portal shows it on the device).
        let app = app.into_make_service_with_connect_info::<SocketAddr>();
        let served = axum::serve(self.listener, app)
            .with_graceful_shutdown(async move {
                shutdown.await;
                // Open long polls answer now instead of holding the shutdown.
                wakeups.close();
            })
            .await
            .map_err(StartupError::Serve);
        retention.stop().await;
        served
    }

    /// Serves until Ctrl-C or SIGTERM.
    pub async fn run(self) -> Result<(), StartupError> {
        self.run_until(shutdown_signal()).await
    }
}

/// Completes on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down");
}
