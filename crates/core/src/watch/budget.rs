//! The connection budget: how many IMAP connections may be open at once for one server login.
//!
//! Servers limit connections per user (Dovecot: `mail_max_userip_connections` = 10; Gmail 15;
//! many providers fewer), and every account that logs in as the same user on the same server
//! draws on the same limit. So the budget belongs to the *login* (host, port, user name), not
//! to the account: every account using that login shares one [`Pool`] of `max_connections`
//! permits (the smallest value any of them asks for).
//!
//! A connection is counted from before its TCP connect until its socket is closed: the watcher
//! takes a [`Lease`] first and drops it only after the session (and its stream) is gone. A
//! reconnect storm therefore cannot exceed the budget, and a replacement watcher (after a
//! configuration change) waits for the permit its predecessor still holds.
//!
//! Fair sharing: each watcher needs one connection. While the accounts of a login fit in the
//! budget, each keeps its permit for the life of its session (push). When they do not, at most
//! `budget − 1` of them keep one, and the others take turns on the last permit (tokio's
//! semaphore is first-in, first-out): connect, look at every folder, log out, wait
//! `poll_interval`. Nobody starves and the budget is never exceeded.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::config::Account;

/// Which server login an account uses.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct LoginKey {
    host: String,
    port: u16,
    username: String,
}

impl LoginKey {
    pub fn of(account: &Account) -> LoginKey {
        LoginKey {
            host: account.host.to_ascii_lowercase(),
            port: account.port,
            username: account.username.clone(),
        }
    }
}

/// The permits of one login.
#[derive(Debug)]
pub(crate) struct Pool {
    sem: Arc<Semaphore>,
    /// Permits this pool was created with, adjusted when the configuration changes.
    capacity: AtomicUsize,
    /// Accounts currently using this login.
    members: AtomicUsize,
    /// Sessions holding a permit for their whole life (push).
    resident: AtomicUsize,
}

impl Pool {
    pub(crate) fn new(capacity: usize) -> Pool {
        Pool {
            sem: Arc::new(Semaphore::new(capacity)),
            capacity: AtomicUsize::new(capacity),
            members: AtomicUsize::new(0),
            resident: AtomicUsize::new(0),
        }
    }

    /// Waits for a permit. The lease says whether the session may keep it (push) or must look
    /// once and give it back.
    pub async fn acquire(self: &Arc<Self>) -> Lease {
        let permit = match self.sem.clone().acquire_owned().await {
            Ok(p) => p,
            // The semaphore is never closed; if it were, waiting forever is the safe answer.
            Err(_) => std::future::pending().await,
        };
        let capacity = self.capacity.load(Ordering::SeqCst).max(1);
        let members = self.members.load(Ordering::SeqCst);
        // Residents may take every permit when everyone fits, else all but one.
        let max_resident = if members <= capacity {
            capacity
        } else {
            capacity - 1
        };
        let resident = self
            .resident
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |r| {
                (r < max_resident).then_some(r + 1)
            })
            .is_ok();
        Lease {
            _permit: permit,
            resident: resident.then(|| self.clone()),
        }
    }

    #[cfg(test)]
    fn capacity(&self) -> usize {
        self.capacity.load(Ordering::SeqCst)
    }

    #[cfg(test)]
    fn available(&self) -> usize {
        self.sem.available_permits()
    }
}

/// One connection's right to exist. Drop it only after the connection is closed.
#[derive(Debug)]
pub(crate) struct Lease {
    _permit: OwnedSemaphorePermit,
    resident: Option<Arc<Pool>>,
}

impl Lease {
    /// True: keep the connection (push). False: look once, log out, come back later.
    pub fn resident(&self) -> bool {
        self.resident.is_some()
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        if let Some(pool) = &self.resident {
            pool.resident.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

/// Every login's pool, kept while anyone (a running account or a closing connection) holds it,
/// so a replacement watcher always lands in the pool its predecessor's connection still counts
/// against.
#[derive(Debug, Default)]
pub(crate) struct Budgets {
    pools: Mutex<HashMap<LoginKey, Weak<Pool>>>,
}

impl Budgets {
    /// Makes the pools match the running accounts: one per login, with the smallest
    /// `max_connections` of its accounts and their number. Returns each account's pool, by id.
    /// A pool that shrinks takes its surplus permits back as connections close (a task of the
    /// caller's tracker, returned as a future).
    pub fn plan<'a>(
        &self,
        accounts: impl IntoIterator<Item = &'a Account>,
    ) -> (
        HashMap<String, Arc<Pool>>,
        Vec<impl Future<Output = ()> + Send + 'static>,
    ) {
        let mut groups: HashMap<LoginKey, (usize, usize, Vec<String>)> = HashMap::new();
        for a in accounts {
            let cap = usize::try_from(a.timing.max_connections)
                .unwrap_or(1)
                .max(1);
            let g = groups
                .entry(LoginKey::of(a))
                .or_insert((usize::MAX, 0, Vec::new()));
            g.0 = g.0.min(cap);
            g.1 += 1;
            g.2.push(a.id.clone());
        }
        let mut out = HashMap::new();
        let mut shrink = Vec::new();
        let Ok(mut pools) = self.pools.lock() else {
            return (out, shrink);
        };
        pools.retain(|_, w| w.strong_count() > 0);
        for (key, (cap, members, ids)) in groups {
            let pool = match pools.get(&key).and_then(Weak::upgrade) {
                Some(p) => {
                    let old = p.capacity.swap(cap, Ordering::SeqCst);
                    if cap > old {
                        p.sem.add_permits(cap - old);
                    } else if cap < old {
                        let sem = p.sem.clone();
                        let n = u32::try_from(old - cap).unwrap_or(u32::MAX);
                        shrink.push(async move {
                            if let Ok(permits) = sem.acquire_many_owned(n).await {
                                permits.forget();
                            }
                        });
                    }
                    p
                }
                None => {
                    let p = Arc::new(Pool::new(cap));
                    pools.insert(key, Arc::downgrade(&p));
                    p
                }
            };
            pool.members.store(members, Ordering::SeqCst);
            for id in ids {
                out.insert(id, pool.clone());
            }
        }
        (out, shrink)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account(id: &str, user: &str, max: u32) -> Account {
        let mut a = Account::new(id, "imap.example.com", user);
        a.timing.max_connections = max;
        a
    }

    #[tokio::test]
    async fn accounts_of_one_login_share_one_pool() {
        let b = Budgets::default();
        let accounts = [
            account("a", "ana", 2),
            account("b", "ana", 3),
            account("c", "bob", 2),
        ];
        let (pools, _) = b.plan(accounts.iter());
        assert!(Arc::ptr_eq(&pools["a"], &pools["b"]));
        assert!(!Arc::ptr_eq(&pools["a"], &pools["c"]));
        assert_eq!(pools["a"].capacity(), 2, "the smallest budget wins");
    }

    #[tokio::test]
    async fn more_accounts_than_permits_take_turns_on_the_last_one() {
        let b = Budgets::default();
        let accounts = [
            account("a", "ana", 2),
            account("b", "ana", 2),
            account("c", "ana", 2),
        ];
        let (pools, _) = b.plan(accounts.iter());
        let pool = pools["a"].clone();
        let first = pool.acquire().await;
        assert!(first.resident(), "one keeps its connection");
        let second = pool.acquire().await;
        assert!(!second.resident(), "the last permit is shared");
        assert_eq!(pool.available(), 0);
        let third = tokio::time::timeout(std::time::Duration::from_millis(50), pool.acquire());
        assert!(third.await.is_err(), "never more than the budget");
        drop(second);
        let third = pool.acquire().await;
        assert!(!third.resident());
        drop((first, third));
        assert_eq!(pool.available(), 2);
    }

    #[tokio::test]
    async fn a_replacement_lands_in_the_pool_its_predecessor_still_holds() {
        let b = Budgets::default();
        let (pools, _) = b.plan([account("a", "ana", 1)].iter());
        let old = pools["a"].acquire().await;
        drop(pools);
        // The account is restarted: its old connection is still open.
        let (pools, _) = b.plan([account("a", "ana", 1)].iter());
        let waiting =
            tokio::time::timeout(std::time::Duration::from_millis(50), pools["a"].acquire());
        assert!(
            waiting.await.is_err(),
            "must wait for the old connection to close"
        );
        drop(old);
        assert!(pools["a"].acquire().await.resident());
    }

    #[tokio::test]
    async fn a_shrinking_budget_takes_permits_back_as_connections_close() {
        let b = Budgets::default();
        let (pools, _) = b.plan([account("a", "ana", 3)].iter());
        let held = pools["a"].acquire().await;
        let (pools, shrink) = b.plan([account("a", "ana", 1)].iter());
        let task = tokio::spawn(futures::future::join_all(shrink));
        drop(held);
        task.await.unwrap();
        assert_eq!(pools["a"].available(), 1);
    }
}
