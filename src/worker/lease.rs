//! Jobs that must run on one worker at a time (settlement): a lease row per job, taken with a
//! conditional update, so two workers on one database never run the job together.

use std::time::Duration;

use diesel::prelude::*;

use crate::db::schema::job_leases;
use crate::db::{self, Store, StoreError};

/// Takes the lease of job `name` for `holder` if the job is due (last run `interval` ago or
/// never) and nobody else holds it. Returns whether this holder should run it now.
pub async fn claim_job(store: &Store, name: &str, holder: &str, interval: Duration) -> Result<bool, StoreError> {
    let (name, holder) = (name.to_owned(), holder.to_owned());
    let interval = time::Duration::try_from(interval).unwrap_or(time::Duration::HOUR);
    store
        .write(move |c| {
            let now = db::now();
            let exists: i64 = job_leases::table.filter(job_leases::name.eq(&name)).count().get_result(c)?;
            if exists == 0 {
                diesel::insert_into(job_leases::table)
                    .values((
                        job_leases::name.eq(&name),
                        job_leases::holder.eq(&holder),
                        job_leases::lease_until.eq(now),
                        job_leases::last_run_at.eq(None::<time::PrimitiveDateTime>),
                    ))
                    .execute(c)?;
            }
            // Due, and the previous holder's lease (as long as the interval) has run out.
            let due = job_leases::last_run_at.is_null().or(job_leases::last_run_at.le(now - interval));
            let n = diesel::update(job_leases::table.find(&name).filter(due).filter(job_leases::lease_until.le(now)))
                .set((
                    job_leases::holder.eq(&holder),
                    job_leases::lease_until.eq(now + interval),
                    job_leases::last_run_at.eq(now),
                ))
                .execute(c)?;
            Ok(n == 1)
        })
        .await
}
