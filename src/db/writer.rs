//! The SQLite group-commit writer: one thread owns the only write connection, runs every queued
//! closure in its own SAVEPOINT, commits the group once and only then answers the callers.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc;

use diesel::connection::SimpleConnection;
use tokio::sync::oneshot;

use super::{AnyConnection, StoreError};

/// What a queued closure leaves behind: whether to keep its savepoint, and how to answer its
/// caller once the fate of the whole group is known.
struct Ran {
    keep: bool,
    answer: Box<dyn FnOnce(Option<StoreError>) + Send>,
}

type Job = Box<dyn FnOnce(&mut AnyConnection) -> Ran + Send>;

pub(super) struct Writer {
    jobs: mpsc::Sender<Job>,
}

impl Writer {
    pub(super) fn start(conn: AnyConnection, max_group: usize) -> Result<Writer, StoreError> {
        let (jobs, queue) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("kassa-sqlite-writer".into())
            .spawn(move || run(conn, queue, max_group.max(1)))
            .map_err(|e| StoreError::Connect(e.to_string()))?;
        Ok(Writer { jobs })
    }

    pub(super) async fn submit<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut AnyConnection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        let (tx, rx) = oneshot::channel::<Result<T, E>>();
        let job: Job = Box::new(move |conn| {
            let result = f(conn);
            Ran {
                keep: result.is_ok(),
                answer: Box::new(move |commit_error| {
                    let reply = match (commit_error, result) {
                        (None, r) => r,
                        // The closure's own error explains more than the failed commit.
                        (Some(_), Err(e)) => Err(e),
                        (Some(e), Ok(_)) => Err(e.into()),
                    };
                    let _ = tx.send(reply);
                }),
            }
        });
        self.jobs.send(job).map_err(|_| StoreError::WriterGone)?;
        rx.await.unwrap_or_else(|_| Err(StoreError::NotCommitted.into()))
    }
}

fn run(mut conn: AnyConnection, queue: mpsc::Receiver<Job>, max_group: usize) {
    while let Ok(first) = queue.recv() {
        let mut group = vec![first];
        while group.len() < max_group {
            match queue.try_recv() {
                Ok(job) => group.push(job),
                Err(_) => break,
            }
        }
        commit_group(&mut conn, group);
    }
}

fn commit_group(conn: &mut AnyConnection, group: Vec<Job>) {
    if let Err(e) = conn.batch_execute("BEGIN IMMEDIATE") {
        // Another process holds the write lock beyond busy_timeout. Never run a closure outside
        // a transaction: dropping the group answers each caller with `NotCommitted`.
        tracing::error!(error = %e, "sqlite writer could not begin a transaction");
        return;
    }
    let mut answers = Vec::with_capacity(group.len());
    for job in group {
        if let Err(e) = conn.batch_execute("SAVEPOINT job") {
            tracing::error!(error = %e, "savepoint failed");
            continue;
        }
        let ran = catch_unwind(AssertUnwindSafe(|| job(conn)));
        let keep = matches!(&ran, Ok(r) if r.keep);
        let sql = if keep { "RELEASE job" } else { "ROLLBACK TO job; RELEASE job" };
        if let Err(e) = conn.batch_execute(sql) {
            tracing::error!(error = %e, "savepoint release failed");
        }
        // A panicking closure drops its reply sender; its caller sees `Panicked`.
        if let Ok(ran) = ran {
            answers.push(ran.answer);
        }
    }
    let commit = conn.batch_execute("COMMIT").err();
    if commit.is_some() {
        let _ = conn.batch_execute("ROLLBACK");
    }
    for answer in answers {
        answer(commit.as_ref().map(|e| StoreError::Database(clone_error(e))));
    }
}

/// Runs one closure in its own `BEGIN IMMEDIATE` transaction: the naive path, kept so that
/// benchmarks can compare it with group commit.
pub(super) fn run_immediate<T, E, F>(conn: &mut AnyConnection, f: F) -> Result<T, E>
where
    F: FnOnce(&mut AnyConnection) -> Result<T, E>,
    E: From<StoreError>,
{
    conn.batch_execute("BEGIN IMMEDIATE").map_err(StoreError::from)?;
    match f(conn) {
        Ok(v) => {
            if let Err(e) = conn.batch_execute("COMMIT") {
                let _ = conn.batch_execute("ROLLBACK");
                return Err(StoreError::from(e).into());
            }
            Ok(v)
        }
        Err(e) => {
            let _ = conn.batch_execute("ROLLBACK");
            Err(e)
        }
    }
}

fn clone_error(e: &diesel::result::Error) -> diesel::result::Error {
    diesel::result::Error::QueryBuilderError(e.to_string().into())
}
