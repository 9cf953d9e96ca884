//! Commits of several objects over an engine without multi-key transactions. Before the
//! first copy, the whole commit (every staged body and where it goes with its metadata, the
//! upload to retire, the staged bodies to drop) is written as one record under the reserved
//! prefix. The copies follow, then the upload's retirement, then the record is deleted and
//! the staged bodies dropped. A node that dies part-way leaves the record and every staged
//! body it names, and the sweep of any node finishes the commit (see [`sweep`]). So a
//! commit ends either not at all (the record was never written) or whole; a reader may see
//! its objects appear one after the other, a moment apart. A sweep only touches records
//! older than [`COMMIT_GRACE`] and checks the record is still there before each copy, so it
//! can only race a live commit that has run for minutes.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::engine::Engine;
use super::multipart::retire_upload;
use super::{layout, stage};
use crate::StoreError;

/// How old a commit record must be before a sweep finishes it: far longer than a live
/// commit takes (a few engine requests), so the sweep does not race the node doing it.
pub const COMMIT_GRACE: Duration = Duration::from_secs(300);
/// How old a staged body must be before a sweep drops it: longer than any upload, assembly
/// or processing between staging and publishing.
pub const STAGED_GRACE: Duration = Duration::from_secs(6 * 3600);

/// One staged body and where it goes.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub(crate) struct Copy {
    /// The staged key.
    pub from: String,
    /// The engine key it is published as.
    pub to: String,
    /// mogr's metadata header value for it.
    pub meta: String,
    /// Its write time, milliseconds since the epoch: a sweep does not copy it over an
    /// object written later.
    pub written_ms: u64,
}

/// The upload a commit retires.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub(crate) struct Retirement {
    pub bucket: String,
    pub key: String,
    pub upload_id: String,
}

/// Everything one commit does.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
pub(crate) struct Commit {
    /// Copies, in order: a later one for the same key wins.
    pub copies: Vec<Copy>,
    pub retire: Option<Retirement>,
    /// Staged bodies that were only read (not published), dropped at the end.
    pub drop: Vec<String>,
}

/// Milliseconds since the epoch of `t`.
pub(crate) fn millis(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

impl Commit {
    /// Writes the record, then does the commit. Once the record is written the commit
    /// belongs to it: an error after that point leaves the rest to a sweep.
    pub(crate) async fn run(&self, engine: &Engine) -> Result<(), StoreError> {
        let record = layout::commit();
        let bytes = serde_json::to_vec(self).map_err(std::io::Error::other)?;
        engine.put(&record, bytes.into(), None).await?;
        match self.apply(engine, &record, false).await {
            Ok(()) => Ok(()),
            // A sweep that found this commit slow finished it and deleted the record (and the
            // staged bodies, which is what failed here): the commit is done.
            Err(_) if matches!(engine.head(&record).await, Ok(None)) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Does every step after the record (again, for a sweep: each step is idempotent), then
    /// deletes the record and the staged bodies. `resuming` skips a copy whose target was
    /// written after the commit's object, which a late sweep must not overwrite.
    pub(crate) async fn apply(
        &self,
        engine: &Engine,
        record: &str,
        resuming: bool,
    ) -> Result<(), StoreError> {
        for copy in &self.copies {
            if resuming {
                // The node doing the commit may have finished it since the sweep read the
                // record; a copy after that could bring back an object deleted meanwhile.
                if engine.head(record).await?.is_none() {
                    return Ok(());
                }
                if written_after(engine, &copy.to, copy.written_ms).await? {
                    continue;
                }
            }
            match engine.copy(&copy.from, &copy.to, &copy.meta).await {
                Ok(()) => {}
                // A resumed commit whose staged body is gone was finished by someone else
                // up to the record's deletion.
                Err(_) if resuming && engine.head(&copy.from).await?.is_none() => {}
                Err(e) => return Err(e),
            }
        }
        if let Some(r) = &self.retire {
            retire_upload(engine, &r.bucket, &r.key, &r.upload_id).await?;
        }
        engine.delete(record).await?;
        for staged in self.copies.iter().map(|c| &c.from).chain(&self.drop) {
            stage::discard(engine, staged).await;
        }
        Ok(())
    }
}

/// Whether the object at `key` carries a write time after `written_ms`.
async fn written_after(engine: &Engine, key: &str, written_ms: u64) -> Result<bool, StoreError> {
    let Some(headers) = engine.head(key).await? else {
        return Ok(false);
    };
    Ok(super::meta::decode(key, &headers)
        .map(|m| millis(m.last_modified) > written_ms)
        .unwrap_or(false))
}

/// What one sweep did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Swept {
    /// Interrupted commits finished.
    pub commits: usize,
    /// Stale staged bodies dropped.
    pub staged: usize,
}

/// Finishes commits whose record is older than `commit_grace` and drops staged bodies older
/// than `staged_grace` (commits first, so a body a commit still names is published before
/// it could be dropped). Every node may sweep at any time: each step is idempotent.
pub(crate) async fn sweep(
    engine: &Engine,
    commit_grace: Duration,
    staged_grace: Duration,
) -> Result<Swept, StoreError> {
    let mut swept = Swept::default();
    for record in older_than(engine, &layout::commits(), commit_grace).await? {
        let Some(bytes) = engine.get_small(&record).await? else {
            continue;
        };
        match serde_json::from_slice::<Commit>(&bytes) {
            Ok(commit) => commit.apply(engine, &record, true).await?,
            Err(e) => {
                tracing::warn!(record, error = %e, "dropping an unreadable commit record");
                engine.delete(&record).await?;
            }
        }
        swept.commits += 1;
    }
    for staged in older_than(engine, &layout::staged_bodies(), staged_grace).await? {
        engine.delete(&staged).await?;
        swept.staged += 1;
    }
    Ok(swept)
}

/// Keys under `prefix` last written more than `age` ago.
async fn older_than(
    engine: &Engine,
    prefix: &str,
    age: Duration,
) -> Result<Vec<String>, StoreError> {
    let cutoff = SystemTime::now()
        .checked_sub(age)
        .unwrap_or(SystemTime::UNIX_EPOCH);
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let page = engine
            .list(prefix, "", None, token.as_deref(), 1000)
            .await?;
        out.extend(
            page.contents
                .into_iter()
                .filter(|c| super::objects::parse_time(&c.last_modified) <= cutoff)
                .map(|c| c.key),
        );
        match page.next_continuation_token {
            Some(next) => token = Some(next),
            None => return Ok(out),
        }
    }
}
