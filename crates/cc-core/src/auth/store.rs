//! Where tokens outlive the process: the [`TokenStore`] trait a
//! [`TokenCache`](super::TokenCache) saves every new token to, and (feature `file-store`)
//! [`FileTokenStore`], one JSON file.

use std::sync::Arc;

use async_trait::async_trait;

use super::{AuthError, Token};

/// Persists the current token. Vendors that rotate refresh tokens (Webex) make the old one
/// useless after a refresh: a process that restarts without the new one must send the user
/// through consent again. A store also lets a restarted process reuse a valid access token
/// instead of logging in again.
#[async_trait]
pub trait TokenStore: Send + Sync {
    /// The stored token, if any. Lifetimes count from the moment it was saved.
    async fn load(&self) -> Result<Option<Token>, AuthError>;
    /// Stores `token`, replacing the previous one.
    async fn save(&self, token: &Token) -> Result<(), AuthError>;
}

#[async_trait]
impl<T: TokenStore + ?Sized> TokenStore for Arc<T> {
    async fn load(&self) -> Result<Option<Token>, AuthError> {
        (**self).load().await
    }

    async fn save(&self, token: &Token) -> Result<(), AuthError> {
        (**self).save(token).await
    }
}

#[cfg(feature = "file-store")]
pub use self::file::FileTokenStore;

/// A [`TokenStore`] several processes share (Redis), with a lock that lets exactly one of them
/// refresh: the others wait and read the stored result, so a rotating refresh token is never
/// presented twice. [`TokenCache::with_shared_store`](super::TokenCache::with_shared_store)
/// drives it.
#[async_trait]
pub trait SharedTokenStore: TokenStore {
    /// Takes the refresh lock for `lease` unless another process holds it: `Some(fence)`, a
    /// number that grows with every attempt, when taken.
    async fn try_lock(&self, lease: std::time::Duration) -> Result<Option<u64>, AuthError>;

    /// Saves `token`, fetched under the lock `fence`, and releases the lock. When the lease
    /// ended before the save, it is saved only if the stored token is still `replaced` (the
    /// one it was refreshed from): a newer token is never overwritten. `false`: not saved.
    async fn save_fenced(
        &self,
        token: &Token,
        fence: u64,
        replaced: Option<&Token>,
    ) -> Result<bool, AuthError>;

    /// Releases the lock `fence` if it is still held (a failed fetch).
    async fn unlock(&self, fence: u64) -> Result<(), AuthError>;
}

/// A token as stored: JSON with wall-clock expiries, so the time a process was down counts.
#[cfg(any(feature = "file-store", feature = "inbox"))]
pub(crate) mod stored {
    use std::time::{Duration, SystemTime, UNIX_EPOCH};

    use serde::{Deserialize, Serialize};

    use crate::auth::{AuthError, Token};

    #[derive(Serialize, Deserialize)]
    struct StoredToken {
        access_token: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        refresh_token: Option<String>,
        /// Epoch milliseconds.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        expires_at: Option<u64>,
        /// Epoch milliseconds.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        refresh_token_expires_at: Option<u64>,
    }

    fn now_ms() -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
    }

    /// The stored form of `token`.
    pub(crate) fn encode(token: &Token) -> Result<Vec<u8>, AuthError> {
        let now = now_ms();
        let at = |d: Option<Duration>| {
            d.map(|d| now.saturating_add(u64::try_from(d.as_millis()).unwrap_or(u64::MAX)))
        };
        let stored = StoredToken {
            access_token: token.access_token().expose_secret().clone(),
            refresh_token: token.refresh_token().map(|s| s.expose_secret().clone()),
            expires_at: at(token.expires_in()),
            refresh_token_expires_at: at(token.refresh_token_expires_in()),
        };
        serde_json::to_vec_pretty(&stored).map_err(|e| AuthError::Store(e.to_string()))
    }

    /// What tells two stored tokens apart without comparing secrets: the SHA-256 of the
    /// access token, hex.
    #[cfg(feature = "redis")]
    pub(crate) fn fingerprint(token: &Token) -> String {
        crate::auth::sha256_hex(token.access_token().expose_secret().as_bytes())
    }

    /// A token from its stored form; `origin` names where it came from in errors.
    pub(crate) fn decode(bytes: &[u8], origin: &str) -> Result<Token, AuthError> {
        // serde's message can quote a value, and values here are secrets: position only.
        let stored: StoredToken = serde_json::from_slice(bytes).map_err(|e| {
            AuthError::Store(format!(
                "{origin} is not a stored token (line {}, column {})",
                e.line(),
                e.column()
            ))
        })?;
        let now = now_ms();
        let remaining = |at: Option<u64>| at.map(|at| Duration::from_millis(at.saturating_sub(now)));
        let mut token = Token::bearer(stored.access_token, remaining(stored.expires_at));
        if let Some(refresh) = stored.refresh_token {
            token = token.with_refresh_token(refresh);
        }
        if let Some(left) = remaining(stored.refresh_token_expires_at) {
            token = token.with_refresh_token_expires_in(left);
        }
        Ok(token)
    }
}

#[cfg(feature = "file-store")]
mod file {
    use std::path::{Path, PathBuf};

    use async_trait::async_trait;

    use super::TokenStore;
    use crate::auth::{AuthError, Token};

    /// A [`TokenStore`] in one JSON file, written to a temporary file, synced and renamed (a
    /// crash never leaves half a file), readable by the owner only on Unix. Expiries are
    /// stored as wall-clock times, so the time the process was down counts.
    #[derive(Clone, Debug)]
    pub struct FileTokenStore {
        path: PathBuf,
    }

    impl FileTokenStore {
        /// A store at `path` (its directory must exist).
        pub fn new(path: impl Into<PathBuf>) -> Self {
            Self { path: path.into() }
        }

        /// The file.
        pub fn path(&self) -> &Path {
            &self.path
        }

        fn io_error(&self, what: &str, e: std::io::Error) -> AuthError {
            AuthError::Store(format!("{what} {}: {e}", self.path.display()))
        }
    }

    #[async_trait]
    impl TokenStore for FileTokenStore {
        async fn load(&self) -> Result<Option<Token>, AuthError> {
            let bytes = match tokio::fs::read(&self.path).await {
                Ok(bytes) => bytes,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
                Err(e) => return Err(self.io_error("reading", e)),
            };
            super::stored::decode(&bytes, &self.path.display().to_string()).map(Some)
        }

        async fn save(&self, token: &Token) -> Result<(), AuthError> {
            let bytes = super::stored::encode(token)?;
            let tmp = self.path.with_extension("tmp");
            let write = async {
                use tokio::io::AsyncWriteExt as _;
                let mut options = tokio::fs::OpenOptions::new();
                options.write(true).create(true).truncate(true);
                #[cfg(unix)]
                options.mode(0o600);
                let mut file = options.open(&tmp).await?;
                file.write_all(&bytes).await?;
                file.sync_all().await?;
                tokio::fs::rename(&tmp, &self.path).await
            };
            write.await.map_err(|e| self.io_error("writing", e))
        }
    }

    #[cfg(test)]
    mod tests {
        use std::time::Duration;

        use super::*;

        #[tokio::test]
        async fn round_trip_keeps_both_tokens_and_lifetimes() {
            let dir = std::env::temp_dir().join(format!("cc-core-token-store-{}", std::process::id()));
            std::fs::create_dir_all(&dir).unwrap();
            let store = FileTokenStore::new(dir.join("token.json"));
            assert!(store.load().await.unwrap().is_none());
            let token = Token::bearer("acc", Some(Duration::from_secs(3600)))
                .with_refresh_token("ref")
                .with_refresh_token_expires_in(Duration::from_secs(7_776_000));
            store.save(&token).await.unwrap();
            let back = store.load().await.unwrap().unwrap();
            assert_eq!(back.access_token().expose_secret(), "acc");
            assert_eq!(back.refresh_token().unwrap().expose_secret(), "ref");
            assert!(back.expires_in().unwrap() > Duration::from_secs(3590));
            assert!(back.refresh_token_expires_in().unwrap() > Duration::from_secs(7_775_000));
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt as _;
                let mode = std::fs::metadata(store.path()).unwrap().permissions().mode();
                assert_eq!(mode & 0o077, 0, "readable by the owner only");
            }
            for garbled in ["not json", r#"{"access_token":"acc","expires_at":"s3cr3t-value"}"#] {
                std::fs::write(store.path(), garbled).unwrap();
                let err = store.load().await.unwrap_err();
                assert!(matches!(&err, AuthError::Store(m) if m.contains("is not a stored token")), "{err}");
                assert!(!err.to_string().contains("s3cr3t"), "the file's values are not echoed: {err}");
            }
            std::fs::remove_dir_all(dir).unwrap();
        }
    }
}
