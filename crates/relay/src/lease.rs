//! Bucket leases: which relay process watches which accounts.
//!
//! Accounts are spread over a fixed number of buckets (`config.buckets`, e.g. 1,024; an
//! account's bucket never changes). Each round (every third of the lease time) a process:
//!
//! 1. says it is alive (`relay_process`, for the fair share: buckets / live processes);
//! 2. **renews** every lease it holds in one statement; a bucket that does not come back was
//!    lost (the process was paused or cut off past its lease and another took it over);
//! 3. **releases** what it holds above its fair share (when processes join), and
//! 4. **claims** free or expired buckets up to its share with `FOR UPDATE SKIP LOCKED`, so
//!    processes claiming at the same moment never wait on or take the same bucket. Each claim
//!    raises the bucket's `epoch`, the fencing token the sync store checks on every write.
//!
//! Not advisory locks per account: those live in PostgreSQL's shared lock table (sized for a
//! few thousand) and pin a connection per holder; a lease is one row per bucket and a few
//! statements per round, whatever the number of accounts.

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::Result;

use crate::db::Db;

/// The buckets a process holds, with the epoch of each claim.
pub type Leases = BTreeMap<i32, i64>;

/// One lease round for `owner`; returns what it holds afterwards.
pub async fn round(
    db: &Db,
    owner: &str,
    lease: Duration,
    total: u32,
    max_buckets: u32,
) -> Result<Leases> {
    let client = db.get().await?;
    let lease_ms = i64::try_from(lease.as_millis()).unwrap_or(i64::MAX);
    client
        .execute(
            "INSERT INTO relay_process (owner, seen_until)
             VALUES ($1, now() + $2 * interval '1 millisecond')
             ON CONFLICT (owner) DO UPDATE SET seen_until = excluded.seen_until",
            &[&owner, &(lease_ms as f64)],
        )
        .await?;
    let mut held: Leases = client
        .query(
            "UPDATE bucket SET lease_until = now() + $2 * interval '1 millisecond'
             WHERE owner = $1 AND lease_until > now() RETURNING bucket, epoch",
            &[&owner, &(lease_ms as f64)],
        )
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    let live: i64 = client
        .query_one(
            "SELECT count(*) FROM relay_process WHERE seen_until > now()",
            &[],
        )
        .await?
        .get(0);
    let live = u32::try_from(live.max(1)).unwrap_or(1);
    let mut share = total.div_ceil(live);
    if max_buckets > 0 {
        share = share.min(max_buckets);
    }
    let share = usize::try_from(share).unwrap_or(usize::MAX);
    if held.len() > share {
        // Give the excess back (highest numbers first) for the processes that joined. The
        // watchers of those accounts stop when the caller applies the smaller set; their
        // writes are refused from now on by the fence.
        let excess: Vec<i32> = held
            .keys()
            .rev()
            .take(held.len() - share)
            .copied()
            .collect();
        client
            .execute(
                "UPDATE bucket SET owner = NULL, lease_until = '-infinity'
                 WHERE owner = $1 AND bucket = ANY($2)",
                &[&owner, &excess],
            )
            .await?;
        for b in excess {
            held.remove(&b);
        }
    } else if held.len() < share {
        let want = i64::try_from(share - held.len()).unwrap_or(0);
        let claimed = client
            .query(
                "WITH claimed AS (
                     UPDATE bucket SET owner = $1, epoch = epoch + 1,
                            lease_until = now() + $3 * interval '1 millisecond'
                     WHERE bucket IN (SELECT bucket FROM bucket WHERE lease_until <= now()
                                      ORDER BY bucket LIMIT $2 FOR UPDATE SKIP LOCKED)
                     RETURNING bucket, epoch),
                 logged AS (
                     INSERT INTO bucket_claim (bucket, epoch, owner)
                     SELECT bucket, epoch, $1 FROM claimed)
                 SELECT bucket, epoch FROM claimed",
                &[&owner, &want, &(lease_ms as f64)],
            )
            .await?;
        for r in claimed {
            held.insert(r.get(0), r.get(1));
        }
    }
    client
        .execute(
            "DELETE FROM relay_process WHERE seen_until < now() - interval '1 hour'",
            &[],
        )
        .await?;
    // The claim history is for recent questions ("who watched this account at 10:02");
    // a week of it is kept.
    client
        .execute(
            "DELETE FROM bucket_claim WHERE claimed_at < now() - interval '7 days'",
            &[],
        )
        .await?;
    Ok(held)
}

/// Gives every bucket of `owner` back (a clean shutdown: others take over at once instead of
/// after the lease).
pub async fn release_all(db: &Db, owner: &str) -> Result<()> {
    let client = db.get().await?;
    client
        .execute(
            "UPDATE bucket SET owner = NULL, lease_until = '-infinity' WHERE owner = $1",
            &[&owner],
        )
        .await?;
    client
        .execute("DELETE FROM relay_process WHERE owner = $1", &[&owner])
        .await?;
    Ok(())
}
