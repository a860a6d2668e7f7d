//! The embedded default: SQLite (bundled) in WAL mode. One writer thread owns the
//! connection and commits every request that arrived meanwhile in one transaction (group
//! commit: one fsync for many deliveries); each caller's answer is sent after that commit.

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension as _, params};
use tokio::sync::oneshot;

use super::{
    Appended, Inbox, InboxConfig, InboxError, InboxStats, LeaseToken, Leased, NewDelivery, StateStore,
    millis, ready,
};
use crate::EpochMillis;

/// SQLite's `synchronous` level, which decides what a commit survives (in WAL mode).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Synchronous {
    /// Every commit is fsynced before the receiver answers: survives a process crash and an
    /// OS crash or power loss (the default).
    #[default]
    Full,
    /// The WAL is fsynced at checkpoints only: survives a process crash (kill -9, OOM); an OS
    /// crash or power loss may lose the last commits, which were acknowledged.
    Normal,
}

const SCHEMA_VERSION: i64 = 1;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS seen (
    vendor TEXT NOT NULL, key TEXT NOT NULL, expires_at INTEGER NOT NULL,
    PRIMARY KEY (vendor, key)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS seen_expiry ON seen (expires_at);
CREATE TABLE IF NOT EXISTS deliveries (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    vendor TEXT NOT NULL, conversation TEXT, order_key INTEGER NOT NULL, vendor_order INTEGER,
    keys TEXT NOT NULL, content_type TEXT, body BLOB NOT NULL, received_at INTEGER NOT NULL,
    attempt INTEGER NOT NULL DEFAULT 0, lease_until INTEGER, available_at INTEGER NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS deliveries_order ON deliveries (vendor, conversation, order_key, seq);
CREATE TABLE IF NOT EXISTS conversations (
    vendor TEXT NOT NULL, conversation TEXT NOT NULL, last_done INTEGER, max_order INTEGER NOT NULL,
    touched INTEGER NOT NULL, PRIMARY KEY (vendor, conversation)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS state (
    scope TEXT NOT NULL, key TEXT NOT NULL, value BLOB NOT NULL, expires_at INTEGER,
    PRIMARY KEY (scope, key)) WITHOUT ROWID;
";

/// Most requests one commit carries.
const MAX_GROUP: usize = 512;

/// One request for the writer: runs inside the group's transaction (`None`: there is none, it
/// does not run) and says whether it failed (its savepoint is rolled back); its reply is sent
/// after the commit.
type Job = Box<dyn FnOnce(Option<(&Writer, i64)>) -> (bool, Reply) + Send>;
/// Sends a job's answer: `None` when the commit succeeded, else the commit's error.
type Reply = Box<dyn FnOnce(Option<&str>) + Send>;

/// [`Inbox`] in one SQLite file: WAL, [`Synchronous::Full`] unless told otherwise, group
/// commit. Several processes may open the same file (SQLite locks it; a busy database is
/// waited for up to 5 s).
pub struct SqliteInbox {
    jobs: mpsc::Sender<Job>,
    path: PathBuf,
}

impl std::fmt::Debug for SqliteInbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteInbox").field("path", &self.path).finish_non_exhaustive()
    }
}

fn storage(e: impl std::fmt::Display) -> InboxError {
    InboxError::Storage(e.to_string())
}

impl SqliteInbox {
    /// Opens (or creates) the inbox at `path` with [`Synchronous::Full`].
    pub fn open(path: impl AsRef<Path>, config: InboxConfig) -> Result<Self, InboxError> {
        Self::open_with(path, config, Synchronous::Full)
    }

    /// Opens (or creates) the inbox at `path` with the given durability.
    pub fn open_with(
        path: impl AsRef<Path>,
        config: InboxConfig,
        synchronous: Synchronous,
    ) -> Result<Self, InboxError> {
        let path = path.as_ref().to_path_buf();
        let at = |e: rusqlite::Error| InboxError::Storage(format!("{}: {e}", path.display()));
        let conn = Connection::open(&path).map_err(at)?;
        conn.busy_timeout(Duration::from_secs(5)).map_err(at)?;
        let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0)).map_err(at)?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(InboxError::Storage(format!("{}: WAL mode refused ({mode})", path.display())));
        }
        let level = match synchronous {
            Synchronous::Full => "FULL",
            Synchronous::Normal => "NORMAL",
        };
        conn.execute_batch(&format!("PRAGMA synchronous = {level};")).map_err(at)?;
        let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).map_err(at)?;
        if version != 0 && version != SCHEMA_VERSION {
            return Err(InboxError::Storage(format!(
                "{}: inbox schema version {version}, this version reads {SCHEMA_VERSION}",
                path.display()
            )));
        }
        conn.execute_batch(SCHEMA).map_err(at)?;
        conn.execute_batch(&format!("PRAGMA user_version = {SCHEMA_VERSION};")).map_err(at)?;
        let (jobs, rx) = mpsc::channel();
        let writer = Writer { conn, config, last_sweep: None };
        std::thread::Builder::new()
            .name("cc-inbox-sqlite".into())
            .spawn(move || writer.run(rx))
            .map_err(|e| InboxError::Storage(format!("starting the writer thread: {e}")))?;
        Ok(Self { jobs, path })
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs `work` on the writer thread inside the next group commit.
    async fn ask<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Writer, i64) -> Result<T, InboxError> + Send + 'static,
    ) -> Result<T, InboxError> {
        let (tx, rx) = oneshot::channel();
        let job: Job = Box::new(move |writer| {
            let result = match writer {
                Some((writer, now)) => work(writer, now),
                None => Err(InboxError::Storage("not run".into())),
            };
            let failed = result.is_err();
            let reply: Reply = Box::new(move |commit_error| {
                let result = match commit_error {
                    Some(error) => Err(InboxError::Storage(error.to_owned())),
                    None => result,
                };
                // A caller that went away (its request was cancelled) needs no answer.
                let _ = tx.send(result);
            });
            (failed, reply)
        });
        self.jobs.send(job).map_err(|_| InboxError::Closed)?;
        rx.await.map_err(|_| InboxError::Closed)?
    }
}

#[async_trait]
impl Inbox for SqliteInbox {
    async fn append(&self, delivery: NewDelivery) -> Result<Appended, InboxError> {
        self.ask(move |w, now| w.append(delivery, now)).await
    }

    async fn claim(&self, max: usize, lease: Duration) -> Result<Vec<Leased>, InboxError> {
        self.ask(move |w, now| w.claim(max, lease, now)).await
    }

    async fn ack(&self, token: LeaseToken) -> Result<bool, InboxError> {
        self.ask(move |w, now| w.ack(token, now)).await
    }

    async fn release(&self, token: LeaseToken, delay: Duration) -> Result<bool, InboxError> {
        self.ask(move |w, now| w.release(token, delay, now)).await
    }

    async fn stats(&self) -> Result<InboxStats, InboxError> {
        self.ask(|w, now| w.stats(now)).await
    }
}

#[async_trait]
impl StateStore for SqliteInbox {
    async fn get(&self, scope: &str, key: &str) -> Result<Option<Vec<u8>>, InboxError> {
        let (scope, key) = (scope.to_owned(), key.to_owned());
        self.ask(move |w, now| {
            w.conn
                .prepare_cached(
                    "SELECT value FROM state WHERE scope = ?1 AND key = ?2 AND (expires_at IS NULL OR expires_at > ?3)",
                )
                .map_err(storage)?
                .query_row(params![scope, key, now], |r| r.get(0))
                .optional()
                .map_err(storage)
        })
        .await
    }

    async fn put(
        &self,
        scope: &str,
        key: &str,
        value: Vec<u8>,
        ttl: Option<Duration>,
    ) -> Result<(), InboxError> {
        let (scope, key) = (scope.to_owned(), key.to_owned());
        self.ask(move |w, now| {
            let expires = ttl.map(|ttl| now.saturating_add(millis(ttl)));
            w.conn
                .prepare_cached(
                    "INSERT INTO state (scope, key, value, expires_at) VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT (scope, key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at",
                )
                .map_err(storage)?
                .execute(params![scope, key, value, expires])
                .map_err(storage)
                .map(drop)
        })
        .await
    }

    async fn delete(&self, scope: &str, key: &str) -> Result<(), InboxError> {
        let (scope, key) = (scope.to_owned(), key.to_owned());
        self.ask(move |w, _| {
            w.conn
                .prepare_cached("DELETE FROM state WHERE scope = ?1 AND key = ?2")
                .map_err(storage)?
                .execute(params![scope, key])
                .map_err(storage)
                .map(drop)
        })
        .await
    }

    async fn scan(&self, scope: &str) -> Result<Vec<(String, Vec<u8>)>, InboxError> {
        let scope = scope.to_owned();
        self.ask(move |w, now| {
            let mut stmt = w
                .conn
                .prepare_cached(
                    "SELECT key, value FROM state WHERE scope = ?1 AND (expires_at IS NULL OR expires_at > ?2) ORDER BY key",
                )
                .map_err(storage)?;
            let rows = stmt.query_map(params![scope, now], |r| Ok((r.get(0)?, r.get(1)?))).map_err(storage)?;
            rows.collect::<Result<Vec<_>, _>>().map_err(storage)
        })
        .await
    }
}

struct Writer {
    conn: Connection,
    config: InboxConfig,
    last_sweep: Option<Instant>,
}

impl Writer {
    fn run(mut self, jobs: mpsc::Receiver<Job>) {
        while let Ok(first) = jobs.recv() {
            let mut group = vec![first];
            while group.len() < MAX_GROUP {
                match jobs.try_recv() {
                    Ok(job) => group.push(job),
                    Err(_) => break,
                }
            }
            self.commit(group);
        }
    }

    /// Runs `group` in one transaction, each job in its own savepoint (one failing job does
    /// not undo the others), and answers after the commit.
    fn commit(&mut self, group: Vec<Job>) {
        if let Err(e) = self.conn.execute_batch("BEGIN IMMEDIATE") {
            let error = format!("the transaction could not start: {e}");
            for job in group {
                let (_, reply) = job(None);
                reply(Some(&error));
            }
            return;
        }
        let mut replies = Vec::with_capacity(group.len());
        for job in group {
            let _ = self.conn.execute_batch("SAVEPOINT job");
            let (failed, reply) = job(Some((self, EpochMillis::now().as_i64())));
            let _ =
                self.conn.execute_batch(if failed { "ROLLBACK TO job; RELEASE job" } else { "RELEASE job" });
            replies.push(reply);
        }
        self.sweep();
        let outcome = self.conn.execute_batch("COMMIT").map_err(|e| e.to_string());
        if outcome.is_err() {
            let _ = self.conn.execute_batch("ROLLBACK");
        }
        for reply in replies {
            reply(outcome.as_ref().err().map(String::as_str));
        }
    }

    fn append(&self, d: NewDelivery, now: i64) -> Result<Appended, InboxError> {
        let expires = now.saturating_add(millis(self.config.ttl(&d.vendor)));
        let mut insert = self
            .conn
            .prepare_cached(
                "INSERT INTO seen (vendor, key, expires_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT (vendor, key) DO UPDATE SET expires_at = excluded.expires_at
                 WHERE seen.expires_at <= ?4",
            )
            .map_err(storage)?;
        let mut fresh = Vec::new();
        for key in d.dedupe_keys() {
            if insert.execute(params![d.vendor, key, expires, now]).map_err(storage)? == 1 {
                fresh.push(key);
            }
        }
        if fresh.is_empty() {
            return Ok(Appended::Duplicate);
        }
        let mut order_key = 0;
        if let Some(conversation) = &d.conversation {
            let max_order: Option<i64> = self
                .conn
                .prepare_cached("SELECT max_order FROM conversations WHERE vendor = ?1 AND conversation = ?2")
                .map_err(storage)?
                .query_row(params![d.vendor, conversation], |r| r.get(0))
                .optional()
                .map_err(storage)?;
            order_key = d.order.unwrap_or(max_order.unwrap_or(0));
            self.conn
                .prepare_cached(
                    "INSERT INTO conversations (vendor, conversation, last_done, max_order, touched)
                     VALUES (?1, ?2, NULL, ?3, ?4)
                     ON CONFLICT (vendor, conversation) DO UPDATE
                     SET max_order = max(max_order, excluded.max_order), touched = excluded.touched",
                )
                .map_err(storage)?
                .execute(params![d.vendor, conversation, order_key, now])
                .map_err(storage)?;
        }
        let keys = serde_json::to_string(&fresh).map_err(storage)?;
        self.conn
            .prepare_cached(
                "INSERT INTO deliveries (vendor, conversation, order_key, vendor_order, keys, content_type,
                 body, received_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )
            .map_err(storage)?
            .execute(params![
                d.vendor,
                d.conversation,
                order_key,
                d.order,
                keys,
                d.content_type,
                d.body,
                d.received_at.as_i64()
            ])
            .map_err(storage)?;
        let seq = u64::try_from(self.conn.last_insert_rowid()).unwrap_or_default();
        Ok(Appended::Stored { seq, fresh })
    }

    fn claim(&self, max: usize, lease: Duration, now: i64) -> Result<Vec<Leased>, InboxError> {
        // Heads of their conversation (or without one), lease free; held ones are filtered
        // below, so look a little further than `max`.
        let mut select = self
            .conn
            .prepare_cached(
                "SELECT d.seq, d.vendor, d.conversation, d.vendor_order, d.keys, d.content_type, d.body,
                        d.received_at, d.attempt, c.last_done
                 FROM deliveries d
                 LEFT JOIN conversations c ON c.vendor = d.vendor AND c.conversation = d.conversation
                 WHERE (d.lease_until IS NULL OR d.lease_until <= ?1) AND d.available_at <= ?1
                   AND (d.conversation IS NULL OR (d.seq = (
                        SELECT h.seq FROM deliveries h WHERE h.vendor = d.vendor AND h.conversation = d.conversation
                        ORDER BY h.order_key, h.seq LIMIT 1)
                        AND NOT EXISTS (SELECT 1 FROM deliveries b WHERE b.vendor = d.vendor
                        AND b.conversation = d.conversation AND b.lease_until > ?1)))
                 ORDER BY d.seq LIMIT ?2",
            )
            .map_err(storage)?;
        let scan = i64::try_from(max.saturating_add(256)).unwrap_or(i64::MAX);
        let rows = select
            .query_map(params![now, scan], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, Option<String>>(2)?,
                    r.get::<_, Option<i64>>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, Option<String>>(5)?,
                    r.get::<_, Vec<u8>>(6)?,
                    r.get::<_, i64>(7)?,
                    r.get::<_, i64>(8)?,
                    r.get::<_, Option<i64>>(9)?,
                ))
            })
            .map_err(storage)?;
        let mut out = Vec::new();
        let mut lease_stmt = self
            .conn
            .prepare_cached("UPDATE deliveries SET attempt = attempt + 1, lease_until = ?1 WHERE seq = ?2")
            .map_err(storage)?;
        for row in rows {
            if out.len() >= max {
                break;
            }
            let (seq, vendor, conversation, order, keys, content_type, body, received_at, attempt, last_done) =
                row.map_err(storage)?;
            if conversation.is_some() && !ready(order, last_done, received_at, now, self.config.max_hold) {
                continue;
            }
            lease_stmt.execute(params![now.saturating_add(millis(lease)), seq]).map_err(storage)?;
            let keys: Vec<String> = serde_json::from_str(&keys).map_err(storage)?;
            out.push(Leased {
                token: LeaseToken {
                    seq: u64::try_from(seq).unwrap_or_default(),
                    attempt: u32::try_from(attempt + 1).unwrap_or(u32::MAX),
                },
                vendor,
                keys,
                conversation,
                order,
                content_type,
                body,
                received_at: EpochMillis::new(received_at),
            });
        }
        Ok(out)
    }

    fn ack(&self, token: LeaseToken, now: i64) -> Result<bool, InboxError> {
        let removed: Option<(String, Option<String>, Option<i64>)> = self
            .conn
            .prepare_cached(
                "DELETE FROM deliveries WHERE seq = ?1 AND attempt = ?2 RETURNING vendor, conversation, vendor_order",
            )
            .map_err(storage)?
            .query_row(params![token.seq as i64, token.attempt], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .optional()
            .map_err(storage)?;
        let Some((vendor, conversation, order)) = removed else { return Ok(false) };
        if let Some(conversation) = conversation {
            self.conn
                .prepare_cached(
                    "UPDATE conversations SET touched = ?3,
                     last_done = CASE WHEN ?4 IS NULL THEN last_done ELSE max(coalesce(last_done, ?4), ?4) END
                     WHERE vendor = ?1 AND conversation = ?2",
                )
                .map_err(storage)?
                .execute(params![vendor, conversation, now, order])
                .map_err(storage)?;
        }
        Ok(true)
    }

    fn release(&self, token: LeaseToken, delay: Duration, now: i64) -> Result<bool, InboxError> {
        let changed = self
            .conn
            .prepare_cached(
                "UPDATE deliveries SET lease_until = NULL, available_at = ?3 WHERE seq = ?1 AND attempt = ?2",
            )
            .map_err(storage)?
            .execute(params![token.seq as i64, token.attempt, now.saturating_add(millis(delay))])
            .map_err(storage)?;
        Ok(changed == 1)
    }

    fn stats(&self, now: i64) -> Result<InboxStats, InboxError> {
        let (pending, leased): (i64, i64) = self
            .conn
            .prepare_cached("SELECT count(*), coalesce(sum(lease_until > ?1), 0) FROM deliveries")
            .map_err(storage)?
            .query_row(params![now], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(storage)?;
        let remembered: i64 = self
            .conn
            .prepare_cached("SELECT count(*) FROM seen WHERE expires_at > ?1")
            .map_err(storage)?
            .query_row(params![now], |r| r.get(0))
            .map_err(storage)?;
        let n = |v: i64| u64::try_from(v).unwrap_or_default();
        Ok(InboxStats { pending: n(pending), leased: n(leased), remembered: n(remembered) })
    }

    /// At most once a second: expired keys (a batch) and idle conversations with nothing
    /// pending. Failures leave rows for the next sweep.
    fn sweep(&mut self) {
        if self.last_sweep.is_some_and(|at| at.elapsed() < Duration::from_secs(1)) {
            return;
        }
        self.last_sweep = Some(Instant::now());
        let now = EpochMillis::now().as_i64();
        let batch = i64::try_from(self.config.sweep_batch).unwrap_or(i64::MAX);
        let _ = self.conn.execute(
            "DELETE FROM seen WHERE (vendor, key) IN
             (SELECT vendor, key FROM seen WHERE expires_at <= ?1 LIMIT ?2)",
            params![now, batch],
        );
        let idle = now.saturating_sub(millis(self.config.dedupe_ttl));
        let _ = self.conn.execute(
            "DELETE FROM conversations WHERE touched <= ?1 AND NOT EXISTS
             (SELECT 1 FROM deliveries d WHERE d.vendor = conversations.vendor AND d.conversation = conversations.conversation)",
            params![idle],
        );
    }
}
