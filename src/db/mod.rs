//! Storage: one diesel connection type over SQLite and PostgreSQL, the read pool, and the single
//! write entry point [`Store::write`].

pub mod models;
pub mod schema;
mod writer;

use std::sync::Arc;
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::r2d2::{ConnectionManager, CustomizeConnection, Pool, PooledConnection};
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diesel::{Connection, PgConnection, SqliteConnection};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};
use time::{OffsetDateTime, PrimitiveDateTime};

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// One connection to either backend. Postgres comes first: `establish` tries variants in order
/// and SQLite would accept any string as a file name. Kassa never relies on that order, though:
/// [`Backend::from_url`] picks the backend from the URL scheme.
#[derive(diesel::MultiConnection)]
pub enum AnyConnection {
    Postgresql(PgConnection),
    Sqlite(SqliteConnection),
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Database(#[from] DieselError),
    #[error("cannot connect to the database: {0}")]
    Connect(String),
    #[error("database pool: {0}")]
    Pool(#[from] diesel::r2d2::PoolError),
    #[error("migrations failed: {0}")]
    Migration(String),
    #[error("the database writer stopped")]
    WriterGone,
    #[error("a database task panicked")]
    Panicked,
    #[error("the write was not committed")]
    NotCommitted,
}

impl StoreError {
    pub fn is_unique_violation(&self) -> bool {
        matches!(self, StoreError::Database(e) if is_unique_violation(e))
    }
}

pub fn is_unique_violation(e: &DieselError) -> bool {
    matches!(e, DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// `postgres://` or `postgresql://` selects PostgreSQL; `sqlite://path` or a bare path, SQLite.
    pub fn from_url(url: &str) -> (Backend, String) {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            (Backend::Postgres, url.to_owned())
        } else {
            let path = url.strip_prefix("sqlite://").unwrap_or(url);
            (Backend::Sqlite, path.to_owned())
        }
    }
}

#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// Most closures the SQLite writer commits together.
    pub max_group: usize,
    /// Read connections (and, on PostgreSQL, write connections too).
    pub pool_size: u32,
    /// `false` turns the SQLite group commit off: every write is its own transaction on a pooled
    /// connection. Only for benchmarks that compare the two paths.
    pub sqlite_group_commit: bool,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions { max_group: 256, pool_size: 8, sqlite_group_commit: true }
    }
}

type AnyPool = Pool<ConnectionManager<AnyConnection>>;

/// The database. Reads go to a pool; every write goes through [`Store::write`].
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

struct Inner {
    backend: Backend,
    pool: AnyPool,
    writer: Option<writer::Writer>,
}

#[derive(Debug)]
struct SqlitePragmas;

impl CustomizeConnection<AnyConnection, diesel::r2d2::Error> for SqlitePragmas {
    fn on_acquire(&self, conn: &mut AnyConnection) -> Result<(), diesel::r2d2::Error> {
        if let AnyConnection::Sqlite(c) = conn {
            // busy_timeout first: r2d2 opens connections in parallel and WAL needs a lock.
            c.batch_execute(SQLITE_PRAGMAS).map_err(diesel::r2d2::Error::QueryError)?;
        }
        Ok(())
    }
}

/// `cache_size`: 32 MiB of pages per connection instead of SQLite's 2 MB default. With a
/// million orders and the monitor's indexes, 2 MB made every insert re-read index pages (seeding
/// slowed to about 1,000 orders a second and kept slowing).
const SQLITE_PRAGMAS: &str = "PRAGMA busy_timeout = 5000; PRAGMA journal_mode = WAL; \
     PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; PRAGMA cache_size = -32768;";

impl Store {
    /// Connects, applies the embedded migrations and starts the SQLite writer.
    pub fn open(url: &str, options: StoreOptions) -> Result<Store, StoreError> {
        let (backend, target) = Backend::from_url(url);
        let mut conn = establish(backend, &target)?;
        run_migrations(&mut conn)?;
        drop(conn);
        let manager = ConnectionManager::<AnyConnection>::new(match backend {
            Backend::Postgres => target.clone(),
            Backend::Sqlite => target.clone(),
        });
        let pool = Pool::builder()
            .max_size(options.pool_size)
            .min_idle(Some(1))
            .connection_timeout(Duration::from_secs(10))
            .connection_customizer(Box::new(SqlitePragmas))
            .build(manager)?;
        let writer = match backend {
            Backend::Sqlite if options.sqlite_group_commit => {
                Some(writer::Writer::start(establish(backend, &target)?, options.max_group)?)
            }
            _ => None,
        };
        Ok(Store { inner: Arc::new(Inner { backend, pool, writer }) })
    }

    pub fn backend(&self) -> Backend {
        self.inner.backend
    }

    /// Runs `f` in a write transaction and returns once it is durably committed.
    ///
    /// On SQLite, `f` is queued to the single writer thread, which runs it inside a SAVEPOINT
    /// together with other queued closures and commits the group once (group commit). On
    /// PostgreSQL, `f` runs in its own transaction on a pooled connection. If `f` returns an
    /// error, its changes are rolled back and the others' are not affected. `f` must not open
    /// transactions itself, and must not call the processing center.
    pub async fn write<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut AnyConnection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        if let Some(writer) = &self.inner.writer {
            return writer.submit(f).await;
        }
        let pool = self.inner.pool.clone();
        let sqlite = self.inner.backend == Backend::Sqlite;
        blocking(move || {
            let mut conn = pool.get().map_err(StoreError::from)?;
            if sqlite {
                writer::run_immediate(&mut conn, f)
            } else {
                let mut out = None;
                let result = conn.transaction::<(), DieselError, _>(|c| match f(c) {
                    Ok(v) => {
                        out = Some(Ok(v));
                        Ok(())
                    }
                    Err(e) => {
                        out = Some(Err(e));
                        Err(DieselError::RollbackTransaction)
                    }
                });
                match (result, out) {
                    (_, Some(Err(e))) => Err(e),
                    (Ok(()), Some(Ok(v))) => Ok(v),
                    (Err(e), _) => Err(StoreError::Database(e).into()),
                    (Ok(()), None) => Err(StoreError::Panicked.into()),
                }
            }
        })
        .await
    }

    /// Runs `f` on a pooled read connection, off the async threads.
    pub async fn read<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut AnyConnection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        let pool = self.inner.pool.clone();
        blocking(move || {
            let mut conn = pool.get().map_err(StoreError::from)?;
            f(&mut conn)
        })
        .await
    }

    /// A pooled connection for synchronous callers (CLI, checks).
    pub fn connection(&self) -> Result<PooledConnection<ConnectionManager<AnyConnection>>, StoreError> {
        Ok(self.inner.pool.get()?)
    }
}

async fn blocking<T, E, F>(f: F) -> Result<T, E>
where
    F: FnOnce() -> Result<T, E> + Send + 'static,
    T: Send + 'static,
    E: From<StoreError> + Send + 'static,
{
    match tokio::task::spawn_blocking(f).await {
        Ok(r) => r,
        Err(_) => Err(StoreError::Panicked.into()),
    }
}

fn establish(backend: Backend, target: &str) -> Result<AnyConnection, StoreError> {
    match backend {
        Backend::Postgres => PgConnection::establish(target)
            .map(AnyConnection::Postgresql)
            .map_err(|e| StoreError::Connect(e.to_string())),
        Backend::Sqlite => {
            if let Some(dir) = std::path::Path::new(target).parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).map_err(|e| StoreError::Connect(format!("{}: {e}", dir.display())))?;
            }
            let mut c = SqliteConnection::establish(target).map_err(|e| StoreError::Connect(e.to_string()))?;
            c.batch_execute(SQLITE_PRAGMAS)?;
            Ok(AnyConnection::Sqlite(c))
        }
    }
}

fn run_migrations(conn: &mut AnyConnection) -> Result<(), StoreError> {
    let migrations = match conn {
        AnyConnection::Postgresql(_) => POSTGRES_MIGRATIONS,
        AnyConnection::Sqlite(_) => SQLITE_MIGRATIONS,
    };
    conn.run_pending_migrations(migrations).map(|_| ()).map_err(|e| StoreError::Migration(e.to_string()))
}

/// Current UTC time, truncated to microseconds so both backends round-trip it exactly.
pub fn now() -> PrimitiveDateTime {
    let t = OffsetDateTime::now_utc();
    let t = t.replace_nanosecond(t.nanosecond() / 1_000 * 1_000).expect("valid nanosecond");
    PrimitiveDateTime::new(t.date(), t.time())
}

/// `2026-12-03T16:07:54.123456Z`, for JSON.
pub fn iso8601(t: PrimitiveDateTime) -> String {
    t.assume_utc().format(&time::format_description::well_known::Rfc3339).unwrap_or_default()
}

/// A new random id (UUID v4, as text: the multi-backend connection has no UUID type).
pub fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}
