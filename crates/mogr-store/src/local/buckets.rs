//! Bucket lifecycle on disk.

use std::collections::BTreeMap;
use std::io;
use std::sync::{Arc, PoisonError};
use std::time::SystemTime;

use super::bucket::{Bucket, BucketFile};
use super::layout::{BUCKET_FILE, OBJECTS_DIR, SETTINGS_FILE, UPLOADS_DIR};
use super::writer::{remove_tree, stage_small_file, sync_dir};
use super::LocalStore;
use crate::types::{validate_bucket, Acl, BucketInfo, BucketSettings};
use crate::{Result, StoreError};

impl LocalStore {
    /// Build the bucket directory in the staging area, then rename it into place whole.
    pub(super) async fn create_bucket_impl(&self, name: &str, acl: Acl) -> Result<()> {
        validate_bucket(name)?;
        let _admin = self.admin.lock().await;
        if self.bucket(name).is_ok() {
            return Err(StoreError::BucketAlreadyExists);
        }
        let info = BucketInfo {
            name: name.to_string(),
            created: SystemTime::now(),
            acl,
        };
        let staged = self.layout.tmp_path("bucket");
        let result = self.stage_and_place_bucket(&staged, &info).await;
        if result.is_err() {
            let _ = tokio::fs::remove_dir_all(&staged).await;
        }
        result?;
        self.buckets
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(
                name.to_string(),
                Arc::new(Bucket::new(
                    info,
                    BucketSettings::default(),
                    BTreeMap::new(),
                )),
            );
        Ok(())
    }

    async fn stage_and_place_bucket(
        &self,
        staged: &std::path::Path,
        info: &BucketInfo,
    ) -> Result<()> {
        tokio::fs::create_dir(staged).await?;
        tokio::fs::create_dir(staged.join(OBJECTS_DIR)).await?;
        tokio::fs::create_dir(staged.join(UPLOADS_DIR)).await?;
        let facts = stage_small_file(&self.layout, &BucketFile::encode(info)?).await?;
        tokio::fs::rename(facts.path(), staged.join(BUCKET_FILE)).await?;
        facts.disarm();
        sync_dir(staged.to_path_buf()).await?;
        let target = self.layout.bucket_dir(&info.name);
        // A non-empty directory already there (left by another process) makes this fail.
        match tokio::fs::rename(staged, &target).await {
            Ok(()) => {}
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::AlreadyExists | io::ErrorKind::DirectoryNotEmpty
                ) =>
            {
                return Err(StoreError::BucketAlreadyExists)
            }
            Err(e) => return Err(e.into()),
        }
        sync_dir(self.layout.buckets_dir()).await
    }

    /// Remove an empty bucket: no objects and, as COS requires, no unfinished uploads.
    pub(super) async fn delete_bucket_impl(&self, name: &str) -> Result<()> {
        let _admin = self.admin.lock().await;
        let bucket = self.bucket(name)?;
        let mut gate = bucket.gate.lock().await;
        if !bucket.index().is_empty() || self.has_uploads(name).await? {
            return Err(StoreError::BucketNotEmpty);
        }
        remove_tree(&self.layout, &self.layout.bucket_dir(name)).await?;
        gate.deleted = true;
        self.buckets
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(name);
        Ok(())
    }

    async fn has_uploads(&self, name: &str) -> Result<bool> {
        match tokio::fs::read_dir(self.layout.uploads_dir(name)).await {
            Ok(mut entries) => Ok(entries.next_entry().await?.is_some()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// Rewrite bucket.json atomically, then the in-memory copy.
    pub(super) async fn set_bucket_acl_impl(&self, name: &str, acl: Acl) -> Result<()> {
        let bucket = self.bucket(name)?;
        let gate = bucket.gate.lock().await;
        if gate.deleted {
            return Err(StoreError::NoSuchBucket);
        }
        let mut info = bucket.info();
        info.acl = acl;
        let staged = stage_small_file(&self.layout, &BucketFile::encode(&info)?).await?;
        let dir = self.layout.bucket_dir(name);
        tokio::fs::rename(staged.path(), dir.join(BUCKET_FILE)).await?;
        staged.disarm();
        bucket.set_acl(acl);
        drop(gate);
        sync_dir(dir).await
    }

    /// Rewrite settings.json atomically (staged, synced, renamed, directory synced), then
    /// the in-memory copy. Under the bucket's gate, so it cannot race the bucket's removal.
    pub(super) async fn put_bucket_settings_impl(
        &self,
        name: &str,
        settings: BucketSettings,
    ) -> Result<()> {
        let bucket = self.bucket(name)?;
        let gate = bucket.gate.lock().await;
        if gate.deleted {
            return Err(StoreError::NoSuchBucket);
        }
        let bytes = settings.to_json().map_err(io::Error::other)?;
        let staged = stage_small_file(&self.layout, &bytes).await?;
        let dir = self.layout.bucket_dir(name);
        tokio::fs::rename(staged.path(), dir.join(SETTINGS_FILE)).await?;
        staged.disarm();
        bucket.set_settings(settings);
        drop(gate);
        sync_dir(dir).await
    }
}
