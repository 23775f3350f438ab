//! The settlement schedule: daily cut-off times in UTC, kept in the database (edited at
//! `/admin/processing`) and read by the worker each time it decides whether to settle, so a
//! change takes effect at the worker's next turn without a restart.
//!
//! The rule is one pure function, [`Schedule::due`]: settle when the last run was before the
//! latest cut-off that has passed. A run the operator starts by hand ("settle now") counts as a
//! run, so the next scheduled one comes at the next cut-off.

use diesel::prelude::*;
use time::{PrimitiveDateTime, Time};

use crate::db::schema::{job_leases, processing_settings};
use crate::db::{AnyConnection, Store, StoreError};
use crate::gateway::{Gateway, GatewayError, SettleReport};
use crate::web::protection::audit::{self, Actor, AuditEvent};

/// The name of the settlement job's lease row.
pub const SETTLEMENT_JOB: &str = "settlement";

/// How long a settlement run may hold the job before another worker may take it over (a run
/// that crashed). A finished run gives the lease back at once.
const LEASE: time::Duration = time::Duration::minutes(15);

/// At most this many cut-offs a day.
pub const MAX_CUTOFFS: usize = 24;

/// Daily cut-off times in UTC, ascending, at least one, never two the same.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    cutoffs: Vec<Time>,
}

impl Schedule {
    /// Parses `HH:MM` times separated by commas or spaces, in any order; the message says what
    /// is wrong in words an operator reads beside the field.
    pub fn parse(text: &str) -> Result<Schedule, String> {
        let mut cutoffs = Vec::new();
        for part in text.split([',', ' ', ';']).map(str::trim).filter(|p| !p.is_empty()) {
            let time = parse_time(part).ok_or_else(|| format!("{part} is not a time of day like 21:00 (UTC)."))?;
            if cutoffs.contains(&time) {
                return Err(format!("{part} appears twice."));
            }
            cutoffs.push(time);
        }
        if cutoffs.is_empty() {
            return Err("Give at least one cut-off time, like 21:00.".into());
        }
        if cutoffs.len() > MAX_CUTOFFS {
            return Err(format!("At most {MAX_CUTOFFS} cut-offs a day."));
        }
        cutoffs.sort();
        Ok(Schedule { cutoffs })
    }

    /// As stored and shown: `09:00, 21:00`.
    pub fn text(&self) -> String {
        self.cutoffs.iter().map(|t| format!("{:02}:{:02}", t.hour(), t.minute())).collect::<Vec<_>>().join(", ")
    }

    /// The latest cut-off at or before `now`.
    pub fn last_cutoff(&self, now: PrimitiveDateTime) -> PrimitiveDateTime {
        let today = self.cutoffs.iter().rev().find(|t| **t <= now.time());
        match today {
            Some(t) => now.date().with_time(*t),
            None => {
                let last = self.cutoffs.last().expect("a schedule has a cut-off");
                now.date().previous_day().expect("a date after year -9999").with_time(*last)
            }
        }
    }

    /// The first cut-off after `now`.
    pub fn next_cutoff(&self, now: PrimitiveDateTime) -> PrimitiveDateTime {
        match self.cutoffs.iter().find(|t| **t > now.time()) {
            Some(t) => now.date().with_time(*t),
            None => now.date().next_day().expect("a date before year 9999").with_time(self.cutoffs[0]),
        }
    }

    /// Whether a settlement run is due at `now`, after the last one at `last_run` (`None`:
    /// never run).
    pub fn due(&self, last_run: Option<PrimitiveDateTime>, now: PrimitiveDateTime) -> bool {
        last_run.is_none_or(|run| run < self.last_cutoff(now))
    }
}

fn parse_time(text: &str) -> Option<Time> {
    let (h, m) = text.split_once(':')?;
    if h.is_empty() || h.len() > 2 || m.len() != 2 {
        return None;
    }
    let (h, m): (u8, u8) = (h.parse().ok()?, m.parse().ok()?);
    Time::from_hms(h, m, 0).ok()
}

/// The schedule in force.
pub fn load(c: &mut AnyConnection) -> Result<Schedule, StoreError> {
    let text: String = processing_settings::table.find(1).select(processing_settings::settlement_cutoffs).first(c)?;
    Ok(Schedule::parse(&text).unwrap_or_else(|e| {
        // Only this module and the migration write the row, both with a checked schedule.
        tracing::error!(error = %e, stored = %text, "stored settlement schedule unreadable; using 21:00");
        Schedule { cutoffs: vec![time::macros::time!(21:00)] }
    }))
}

/// Stores a new schedule; answers the old one.
pub fn save(c: &mut AnyConnection, schedule: &Schedule, now: PrimitiveDateTime) -> Result<Schedule, StoreError> {
    let old = load(c)?;
    diesel::update(processing_settings::table.find(1))
        .set((processing_settings::settlement_cutoffs.eq(schedule.text()), processing_settings::updated_at.eq(now)))
        .execute(c)?;
    Ok(old)
}

/// When settlement last ran (scheduled or by hand), if ever.
pub fn last_run(c: &mut AnyConnection) -> Result<Option<PrimitiveDateTime>, StoreError> {
    Ok(job_leases::table
        .find(SETTLEMENT_JOB)
        .select(job_leases::last_run_at)
        .first::<Option<PrimitiveDateTime>>(c)
        .optional()?
        .flatten())
}

/// Takes the settlement job for `holder` at `now` if nobody holds it and, unless `by_hand`, a
/// cut-off has passed since the last run. One conditional update, so of several workers (and
/// an operator's "settle now") exactly one runs it.
pub async fn claim(store: &Store, holder: &str, now: PrimitiveDateTime, by_hand: bool) -> Result<bool, StoreError> {
    let holder = holder.to_owned();
    store
        .write(move |c| {
            let schedule = load(c)?;
            let exists: i64 = job_leases::table.filter(job_leases::name.eq(SETTLEMENT_JOB)).count().get_result(c)?;
            if exists == 0 {
                diesel::insert_into(job_leases::table)
                    .values((
                        job_leases::name.eq(SETTLEMENT_JOB),
                        job_leases::holder.eq(&holder),
                        job_leases::lease_until.eq(now),
                        job_leases::last_run_at.eq(None::<PrimitiveDateTime>),
                    ))
                    .execute(c)?;
            }
            let free = job_leases::table.find(SETTLEMENT_JOB).filter(job_leases::lease_until.le(now));
            let take = (
                job_leases::holder.eq(&holder),
                job_leases::lease_until.eq(now + LEASE),
                job_leases::last_run_at.eq(now),
            );
            let n = if by_hand {
                diesel::update(free).set(take).execute(c)?
            } else {
                let cutoff = schedule.last_cutoff(now);
                let due = job_leases::last_run_at.is_null().or(job_leases::last_run_at.lt(cutoff));
                diesel::update(free.filter(due)).set(take).execute(c)?
            };
            Ok(n == 1)
        })
        .await
}

/// Gives the lease back after a run, so the next cut-off (or "settle now") need not wait.
pub async fn release(store: &Store, holder: &str, now: PrimitiveDateTime) -> Result<(), StoreError> {
    let holder = holder.to_owned();
    store
        .write(move |c| {
            diesel::update(job_leases::table.find(SETTLEMENT_JOB).filter(job_leases::holder.eq(&holder)))
                .set(job_leases::lease_until.eq(now))
                .execute(c)?;
            Ok(())
        })
        .await
}

/// The worker's settlement step at `now`: runs a settlement if the schedule in the database says
/// one is due (or `by_hand`). `None` when it was not due or another worker holds the job.
pub async fn settle_if_due(
    gateway: &Gateway,
    holder: &str,
    now: PrimitiveDateTime,
    by_hand: bool,
) -> Result<Option<SettleReport>, GatewayError> {
    if !claim(&gateway.store, holder, now, by_hand).await? {
        return Ok(None);
    }
    let report = gateway.settle().await;
    // Given back even after a failure: the next turn retries (every step of settle repeats safely).
    let released = release(&gateway.store, holder, now).await;
    let report = report?;
    released?;
    if report.batches > 0 || report.refunds_sent > 0 {
        let event = AuditEvent {
            merchant: None,
            order: None,
            actor: Actor::Worker,
            action: "worker.settle",
            outcome: "ok".into(),
            detail: serde_json::json!({
                "by_hand": by_hand,
                "batches": report.batches,
                "accepted": report.accepted,
                "rejected": report.rejected,
                "unacknowledged": report.unacknowledged,
                "refunds_sent": report.refunds_sent,
            }),
            ip: None,
        };
        audit::record(&gateway.store, event).await;
    }
    Ok(Some(report))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn cutoffs_are_checked_and_sorted() {
        let s = Schedule::parse("21:00, 9:30").unwrap();
        assert_eq!(s.text(), "09:30, 21:00");
        for bad in ["", "24:00", "12:60", "noon", "12:00,12:00", "1200", "12:5"] {
            assert!(Schedule::parse(bad).is_err(), "{bad}");
        }
        let many = (0..25).map(|m| format!("00:{m:02}")).collect::<Vec<_>>().join(",");
        assert!(Schedule::parse(&many).is_err());
    }

    #[test]
    fn due_after_each_cutoff_once() {
        let s = Schedule::parse("09:00, 21:00").unwrap();
        assert_eq!(s.last_cutoff(datetime!(2026-12-05 08:00)), datetime!(2026-12-04 21:00));
        assert_eq!(s.next_cutoff(datetime!(2026-12-05 21:00)), datetime!(2026-12-06 09:00));
        assert!(s.due(None, datetime!(2026-12-05 08:00)));
        assert!(!s.due(Some(datetime!(2026-12-04 21:00)), datetime!(2026-12-05 08:59)));
        assert!(s.due(Some(datetime!(2026-12-04 21:00)), datetime!(2026-12-05 09:00)));
        assert!(!s.due(Some(datetime!(2026-12-05 09:00)), datetime!(2026-12-05 20:59)));
        // A run by hand just before a cut-off does not stand in for it.
        assert!(s.due(Some(datetime!(2026-12-05 20:59)), datetime!(2026-12-05 21:00)));
    }
}
