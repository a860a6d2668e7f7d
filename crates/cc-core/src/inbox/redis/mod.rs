//! The inbox, the state store and a shared token store on Redis (feature `redis`), for several
//! replicas behind one load balancer.
//!
//! Why not Redis Streams with consumer groups: a stream hands entries out in arrival order to
//! any consumer, while the inbox's contract is one delivery at a time *per conversation*, in
//! the vendor's order, with a hold for gaps. So the inbox is a few plain structures changed
//! only by Lua scripts, each of which Redis runs atomically (dedupe and append in one script,
//! as SQLite does them in one transaction):
//!
//! | key (under the prefix) | type | holds |
//! |---|---|---|
//! | `:next` | counter | the last delivery number |
//! | `:seen` | sorted set | dedupe keys (`<vendor>` + key), scored by expiry |
//! | `:d:<seq>` | hash | one delivery: body, keys, conversation, order, attempt, lease, availability |
//! | `:q:<conversation>` | sorted set | a conversation's pending deliveries by order, then arrival |
//! | `:c:<conversation>` | hash | the last order done, the highest order seen, the delivery out now |
//! | `:ready` | sorted set | deliveries that may go out (heads of idle conversations, free ones) |
//! | `:leases` | sorted set | deliveries out, scored by lease end |
//! | `:pending` | counter | deliveries stored and not acked |
//! | `:st:<scope>`, `:sx:<scope>` | hash, sorted set | state values; expiries of those with a TTL |
//! | `:tok:<name>` (+`:lock`, `:fence`) | hash, string, counter | a shared token, its refresh lock |
//!
//! Times come from the Redis server's clock (`TIME` inside the scripts), so replicas whose
//! clocks differ still agree on leases and TTLs. Every key shares the prefix's hash tag
//! (default `{cc-inbox}`), so one inbox lives in one Redis Cluster slot and its scripts stay
//! valid there (scale a Cluster out with one prefix per vendor or tenant; Cluster itself is
//! not exercised by the tests).
//!
//! **Durability is Redis's**: the receiver acknowledges after the script returned, i.e. once
//! the primary holds the delivery in memory. Run Redis with `appendonly yes` and
//! `appendfsync always` for the SQLite `FULL` guarantee (`everysec` can lose about a second on
//! a crash of the Redis host); see docs/deployment.md.

use std::time::Duration;

use async_trait::async_trait;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{Script, Value};

mod server;

pub use self::server::RedisServer;

use super::{
    Appended, Inbox, InboxConfig, InboxError, InboxStats, LeaseToken, Leased, NewDelivery, StateStore,
    auth_store, millis,
};
use crate::EpochMillis;

/// The prefix used unless [`RedisInbox::with_prefix`] says otherwise.
pub const DEFAULT_PREFIX: &str = "{cc-inbox}";

/// How far past the wanted number of deliveries a claim looks for ready ones (held and
/// delayed deliveries are skipped), as the SQLite inbox does.
const CLAIM_SCAN: usize = 256;

/// Shared by every script: the server's clock in milliseconds and the conversation key.
const PRELUDE: &str = r#"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local p = ARGV[1]
local function cid(vendor, conv) return #vendor .. ':' .. vendor .. ':' .. conv end
local function seqkey(seq) return string.format('%020d', tonumber(seq)) end
-- A conversation with nothing out: its head may go.
local function offer_head(c)
  if redis.call('HEXISTS', p .. ':c:' .. c, 'busy') == 1 then return end
  local head = redis.call('ZRANGE', p .. ':q:' .. c, 0, 0)[1]
  if head then redis.call('ZADD', p .. ':ready', tonumber(head), tonumber(head)) end
end
"#;

const APPEND: &str = r#"
-- ARGV: prefix, vendor, ttl, has_conv, conv, order ('' none), has_ct, ct, body, received_at, n, keys…
local vendor, ttl = ARGV[2], tonumber(ARGV[3])
local seen = p .. ':seen'
redis.call('ZREMRANGEBYSCORE', seen, '-inf', now)
local fresh = {}
for i = 1, tonumber(ARGV[11]) do
  local key = ARGV[11 + i]
  local member = #vendor .. ':' .. vendor .. ':' .. key
  if not redis.call('ZSCORE', seen, member) then
    redis.call('ZADD', seen, now + ttl, member)
    fresh[#fresh + 1] = key
  end
end
if #fresh == 0 then return {0} end
local seq = redis.call('INCR', p .. ':next')
local order = ARGV[6]
local fields = {'v', vendor, 'k', cjson.encode(fresh), 'b', ARGV[9], 'r', ARGV[10], 'a', 0, 'av', 0}
if ARGV[7] == '1' then fields[#fields + 1] = 'ct'; fields[#fields + 1] = ARGV[8] end
if order ~= '' then fields[#fields + 1] = 'o'; fields[#fields + 1] = order end
if ARGV[4] == '1' then
  local c = cid(vendor, ARGV[5])
  local ck, qk = p .. ':c:' .. c, p .. ':q:' .. c
  local max_order = redis.call('HGET', ck, 'mo')
  local okey = 0
  if order ~= '' then okey = tonumber(order) elseif max_order then okey = tonumber(max_order) end
  if (not max_order) or okey > tonumber(max_order) then redis.call('HSET', ck, 'mo', okey) end
  redis.call('PERSIST', ck)
  fields[#fields + 1] = 'c'; fields[#fields + 1] = ARGV[5]
  local before = redis.call('ZRANGE', qk, 0, 0)[1]
  redis.call('ZADD', qk, okey, seqkey(seq))
  if redis.call('HEXISTS', ck, 'busy') == 0 then
    -- A new head displaces the old one from the ready set.
    if before then redis.call('ZREM', p .. ':ready', tonumber(before)) end
    offer_head(c)
  end
else
  redis.call('ZADD', p .. ':ready', seq, seq)
end
redis.call('HSET', p .. ':d:' .. seq, unpack(fields))
redis.call('INCR', p .. ':pending')
return {seq, unpack(fresh)}
"#;

const CLAIM: &str = r#"
-- ARGV: prefix, max, lease, max_hold, scan
local max, lease, hold = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local ready, leases = p .. ':ready', p .. ':leases'
-- Leases that ended: the delivery may go out again.
for _, s in ipairs(redis.call('ZRANGEBYSCORE', leases, '-inf', now)) do
  redis.call('ZREM', leases, s)
  local f = redis.call('HMGET', p .. ':d:' .. s, 'v', 'c')
  if f[1] and f[2] then
    local c = cid(f[1], f[2])
    if redis.call('HGET', p .. ':c:' .. c, 'busy') == s then redis.call('HDEL', p .. ':c:' .. c, 'busy') end
    offer_head(c)
  elseif f[1] then
    redis.call('ZADD', ready, tonumber(s), tonumber(s))
  end
end
local out = {}
for _, s in ipairs(redis.call('ZRANGE', ready, 0, tonumber(ARGV[5]) - 1)) do
  if #out >= max then break end
  local dk = p .. ':d:' .. s
  local f = redis.call('HMGET', dk, 'v', 'c', 'o', 'ct', 'b', 'r', 'av', 'k')
  if not f[1] then
    redis.call('ZREM', ready, s)
  elseif tonumber(f[7]) <= now then
    local ck = false
    local go = true
    if f[2] then
      ck = p .. ':c:' .. cid(f[1], f[2])
      local done = redis.call('HGET', ck, 'ld')
      if f[3] and done and tonumber(f[3]) > tonumber(done) + 1 and now < tonumber(f[6]) + hold then go = false end
    end
    if go then
      local attempt = redis.call('HINCRBY', dk, 'a', 1)
      redis.call('HSET', dk, 'lu', now + lease)
      redis.call('ZADD', leases, now + lease, s)
      redis.call('ZREM', ready, s)
      if ck then redis.call('HSET', ck, 'busy', s) end
      out[#out + 1] = {s, attempt, f[1], f[2], f[3], f[4], f[5], f[6], f[8]}
    end
  end
end
return out
"#;

const ACK: &str = r#"
-- ARGV: prefix, seq, attempt, idle_ttl
local s = ARGV[2]
local dk = p .. ':d:' .. s
local f = redis.call('HMGET', dk, 'a', 'v', 'c', 'o')
if (not f[1]) or f[1] ~= ARGV[3] then return 0 end
redis.call('DEL', dk)
redis.call('ZREM', p .. ':leases', s)
redis.call('ZREM', p .. ':ready', s)
redis.call('DECR', p .. ':pending')
if f[3] then
  local c = cid(f[2], f[3])
  local ck, qk = p .. ':c:' .. c, p .. ':q:' .. c
  redis.call('ZREM', qk, seqkey(s))
  if f[4] then
    local done = redis.call('HGET', ck, 'ld')
    if (not done) or tonumber(f[4]) > tonumber(done) then redis.call('HSET', ck, 'ld', f[4]) end
  end
  if redis.call('HGET', ck, 'busy') == s then redis.call('HDEL', ck, 'busy') end
  if redis.call('ZCARD', qk) > 0 then offer_head(c) else redis.call('PEXPIRE', ck, tonumber(ARGV[4])) end
end
return 1
"#;

const RELEASE: &str = r#"
-- ARGV: prefix, seq, attempt, delay
local s = ARGV[2]
local dk = p .. ':d:' .. s
local f = redis.call('HMGET', dk, 'a', 'v', 'c')
if (not f[1]) or f[1] ~= ARGV[3] then return 0 end
redis.call('HSET', dk, 'lu', 0, 'av', now + tonumber(ARGV[4]))
redis.call('ZREM', p .. ':leases', s)
if f[3] then
  local c = cid(f[2], f[3])
  if redis.call('HGET', p .. ':c:' .. c, 'busy') == s then redis.call('HDEL', p .. ':c:' .. c, 'busy') end
  offer_head(c)
else
  redis.call('ZADD', p .. ':ready', tonumber(s), tonumber(s))
end
return 1
"#;

const STATS: &str = r#"
local pending = tonumber(redis.call('GET', p .. ':pending') or '0')
local leased = redis.call('ZCOUNT', p .. ':leases', '(' .. now, '+inf')
local remembered = redis.call('ZCOUNT', p .. ':seen', '(' .. now, '+inf')
return {pending, leased, remembered}
"#;

const STATE_GET: &str = r#"
-- ARGV: prefix, scope, key
local v = redis.call('HGET', p .. ':st:' .. ARGV[2], ARGV[3])
if not v then return false end
local e = redis.call('ZSCORE', p .. ':sx:' .. ARGV[2], ARGV[3])
if e and tonumber(e) <= now then return false end
return v
"#;

const STATE_PUT: &str = r#"
-- ARGV: prefix, scope, key, value, ttl ('' none)
local st, sx = p .. ':st:' .. ARGV[2], p .. ':sx:' .. ARGV[2]
redis.call('HSET', st, ARGV[3], ARGV[4])
if ARGV[5] ~= '' then redis.call('ZADD', sx, now + tonumber(ARGV[5]), ARGV[3]) else redis.call('ZREM', sx, ARGV[3]) end
-- Expired values of the scope, a batch at a time.
for _, k in ipairs(redis.call('ZRANGEBYSCORE', sx, '-inf', now, 'LIMIT', 0, 100)) do
  redis.call('HDEL', st, k)
  redis.call('ZREM', sx, k)
end
return 1
"#;

const STATE_DELETE: &str = r#"
redis.call('HDEL', p .. ':st:' .. ARGV[2], ARGV[3])
redis.call('ZREM', p .. ':sx:' .. ARGV[2], ARGV[3])
return 1
"#;

const STATE_SCAN: &str = r#"
local all = redis.call('HGETALL', p .. ':st:' .. ARGV[2])
local out = {}
for i = 1, #all, 2 do
  local e = redis.call('ZSCORE', p .. ':sx:' .. ARGV[2], all[i])
  if (not e) or tonumber(e) > now then out[#out + 1] = all[i]; out[#out + 1] = all[i + 1] end
end
return out
"#;

/// The scripts, compiled once (the client loads each on first use and runs it by SHA).
struct Scripts {
    append: Script,
    claim: Script,
    ack: Script,
    release: Script,
    stats: Script,
    get: Script,
    put: Script,
    delete: Script,
    scan: Script,
}

impl Scripts {
    fn new() -> Self {
        let s = script;
        Self {
            append: s(APPEND),
            claim: s(CLAIM),
            ack: s(ACK),
            release: s(RELEASE),
            stats: s(STATS),
            get: s(STATE_GET),
            put: s(STATE_PUT),
            delete: s(STATE_DELETE),
            scan: s(STATE_SCAN),
        }
    }
}

/// Connection settings of a [`RedisInbox`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RedisConfig {
    /// How long one command may take before it fails (default 2 s): a receiver answers 503
    /// well inside the vendors' deadlines (LivePerson waits 5 s) when Redis hangs.
    pub response_timeout: Duration,
    /// How long connecting may take (default 1 s).
    pub connection_timeout: Duration,
    /// Reconnection attempts per failed command before it fails (default 2; the next command
    /// tries again, so a restarted Redis is picked up).
    pub reconnect_retries: usize,
}

impl Default for RedisConfig {
    fn default() -> Self {
        Self {
            response_timeout: Duration::from_secs(2),
            connection_timeout: Duration::from_secs(1),
            reconnect_retries: 2,
        }
    }
}

/// The [`Inbox`] and [`StateStore`] on Redis; see the [module](self).
#[derive(Clone)]
pub struct RedisInbox {
    conn: ConnectionManager,
    prefix: String,
    config: InboxConfig,
    scripts: std::sync::Arc<Scripts>,
}

impl std::fmt::Debug for RedisInbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL may carry a password: only the prefix is shown.
        f.debug_struct("RedisInbox").field("prefix", &self.prefix).finish_non_exhaustive()
    }
}

fn storage(e: redis::RedisError) -> InboxError {
    // The error names the failure, never the URL (it may carry a password).
    InboxError::Storage(format!("redis: {e}"))
}

/// A script with the shared prelude in front.
fn script(body: &str) -> Script {
    Script::new(&format!("{PRELUDE}{body}"))
}

/// A lease or TTL in milliseconds, at least 1 (Redis refuses an expiry of 0).
fn ms(d: Duration) -> i64 {
    millis(d).max(1)
}

impl RedisInbox {
    /// An inbox on the Redis at `url` (`redis://[:password@]host:port[/db]`), connected
    /// lazily: a Redis that is down now makes each call fail (a receiver answers 503) until
    /// it is back. Fails only for a URL that does not parse. Call it inside a Tokio runtime.
    pub fn open(url: &str, config: InboxConfig) -> Result<Self, InboxError> {
        Self::open_with(url, config, RedisConfig::default())
    }

    /// [`RedisInbox::open`] with connection settings.
    pub fn open_with(url: &str, config: InboxConfig, redis: RedisConfig) -> Result<Self, InboxError> {
        let client = redis::Client::open(url)
            // Its message may quote the URL, and the URL may carry a password.
            .map_err(|_| {
                InboxError::Storage("redis URL does not parse (redis://[:password@]host:port[/db])".into())
            })?;
        let manager = ConnectionManagerConfig::new()
            .set_response_timeout(Some(redis.response_timeout))
            .set_connection_timeout(Some(redis.connection_timeout))
            .set_number_of_retries(redis.reconnect_retries)
            .set_max_delay(Duration::from_millis(500));
        let conn = ConnectionManager::new_lazy_with_config(client, manager).map_err(storage)?;
        Ok(Self { conn, prefix: DEFAULT_PREFIX.into(), config, scripts: std::sync::Arc::new(Scripts::new()) })
    }

    /// Keeps this inbox's keys under `prefix` (several inboxes on one Redis). Put a hash tag
    /// in it (`{tenant-a}`) so Redis Cluster keeps the inbox in one slot.
    pub fn with_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// A token store on this Redis, shared by every process that names the same token.
    pub fn token_store(&self, name: impl Into<String>) -> RedisTokenStore {
        RedisTokenStore {
            inbox: self.clone(),
            name: name.into(),
            scripts: std::sync::Arc::new(TokenScripts::new()),
        }
    }

    async fn run<T: redis::FromRedisValue>(&self, script: &Script, args: &[&[u8]]) -> Result<T, InboxError> {
        let mut invocation = script.prepare_invoke();
        invocation.arg(self.prefix.as_bytes());
        for arg in args {
            invocation.arg(*arg);
        }
        let mut conn = self.conn.clone();
        invocation.invoke_async(&mut conn).await.map_err(storage)
    }
}

fn bytes(v: &Value) -> Option<Vec<u8>> {
    match v {
        Value::BulkString(b) => Some(b.clone()),
        Value::SimpleString(s) => Some(s.clone().into_bytes()),
        Value::Int(i) => Some(i.to_string().into_bytes()),
        _ => None,
    }
}

fn text(v: &Value) -> Option<String> {
    bytes(v).and_then(|b| String::from_utf8(b).ok())
}

fn number(v: &Value) -> Option<i64> {
    text(v).and_then(|s| s.parse().ok())
}

fn malformed(what: &str) -> InboxError {
    InboxError::Storage(format!("redis: unexpected reply to {what}"))
}

#[async_trait]
impl Inbox for RedisInbox {
    async fn append(&self, d: NewDelivery) -> Result<Appended, InboxError> {
        let keys = d.dedupe_keys();
        let ttl = ms(self.config.ttl(&d.vendor)).to_string();
        let order = d.order.map(|o| o.to_string()).unwrap_or_default();
        let received = d.received_at.as_i64().to_string();
        let n = keys.len().to_string();
        let flag = |b: bool| if b { b"1".as_slice() } else { b"0".as_slice() };
        let mut args: Vec<&[u8]> = vec![
            d.vendor.as_bytes(),
            ttl.as_bytes(),
            flag(d.conversation.is_some()),
            d.conversation.as_deref().unwrap_or_default().as_bytes(),
            order.as_bytes(),
            flag(d.content_type.is_some()),
            d.content_type.as_deref().unwrap_or_default().as_bytes(),
            &d.body,
            received.as_bytes(),
            n.as_bytes(),
        ];
        args.extend(keys.iter().map(|k| k.as_bytes()));
        let reply: Vec<Value> = self.run(&self.scripts.append, &args).await?;
        let seq = reply.first().and_then(number).ok_or_else(|| malformed("append"))?;
        if seq == 0 {
            return Ok(Appended::Duplicate);
        }
        let fresh = reply[1..]
            .iter()
            .map(|v| text(v).ok_or_else(|| malformed("append")))
            .collect::<Result<_, _>>()?;
        Ok(Appended::Stored { seq: u64::try_from(seq).map_err(|_| malformed("append"))?, fresh })
    }

    async fn claim(&self, max: usize, lease: Duration) -> Result<Vec<Leased>, InboxError> {
        if max == 0 {
            return Ok(Vec::new());
        }
        let (max_s, lease_s) = (max.to_string(), ms(lease).to_string());
        let hold = millis(self.config.max_hold).to_string();
        let scan = max.saturating_add(CLAIM_SCAN).to_string();
        let rows: Vec<Vec<Value>> = self
            .run(
                &self.scripts.claim,
                &[max_s.as_bytes(), lease_s.as_bytes(), hold.as_bytes(), scan.as_bytes()],
            )
            .await?;
        rows.into_iter()
            .map(|row| {
                let bad = || malformed("claim");
                let [seq, attempt, vendor, conversation, order, content_type, body, received_at, keys] =
                    &row[..]
                else {
                    return Err(bad());
                };
                let keys: Vec<String> =
                    serde_json::from_slice(&bytes(keys).ok_or_else(bad)?).map_err(|_| bad())?;
                Ok(Leased {
                    token: LeaseToken {
                        seq: number(seq).and_then(|s| u64::try_from(s).ok()).ok_or_else(bad)?,
                        attempt: number(attempt).and_then(|a| u32::try_from(a).ok()).ok_or_else(bad)?,
                    },
                    vendor: text(vendor).ok_or_else(bad)?,
                    keys,
                    conversation: text(conversation),
                    order: number(order),
                    content_type: text(content_type),
                    body: bytes(body).ok_or_else(bad)?,
                    received_at: EpochMillis::new(number(received_at).ok_or_else(bad)?),
                })
            })
            .collect()
    }

    async fn ack(&self, token: LeaseToken) -> Result<bool, InboxError> {
        let (seq, attempt) = (token.seq.to_string(), token.attempt.to_string());
        let idle = ms(self.config.dedupe_ttl).to_string();
        let done: i64 =
            self.run(&self.scripts.ack, &[seq.as_bytes(), attempt.as_bytes(), idle.as_bytes()]).await?;
        Ok(done == 1)
    }

    async fn release(&self, token: LeaseToken, delay: Duration) -> Result<bool, InboxError> {
        let (seq, attempt) = (token.seq.to_string(), token.attempt.to_string());
        let delay = millis(delay).to_string();
        let done: i64 =
            self.run(&self.scripts.release, &[seq.as_bytes(), attempt.as_bytes(), delay.as_bytes()]).await?;
        Ok(done == 1)
    }

    async fn stats(&self) -> Result<InboxStats, InboxError> {
        let (pending, leased, remembered): (i64, i64, i64) = self.run(&self.scripts.stats, &[]).await?;
        let n = |v: i64| u64::try_from(v).unwrap_or_default();
        Ok(InboxStats { pending: n(pending), leased: n(leased), remembered: n(remembered) })
    }
}

#[async_trait]
impl StateStore for RedisInbox {
    async fn get(&self, scope: &str, key: &str) -> Result<Option<Vec<u8>>, InboxError> {
        self.run(&self.scripts.get, &[scope.as_bytes(), key.as_bytes()]).await
    }

    async fn put(
        &self,
        scope: &str,
        key: &str,
        value: Vec<u8>,
        ttl: Option<Duration>,
    ) -> Result<(), InboxError> {
        let ttl = ttl.map(|t| ms(t).to_string()).unwrap_or_default();
        let _: i64 =
            self.run(&self.scripts.put, &[scope.as_bytes(), key.as_bytes(), &value, ttl.as_bytes()]).await?;
        Ok(())
    }

    async fn delete(&self, scope: &str, key: &str) -> Result<(), InboxError> {
        let _: i64 = self.run(&self.scripts.delete, &[scope.as_bytes(), key.as_bytes()]).await?;
        Ok(())
    }

    async fn scan(&self, scope: &str) -> Result<Vec<(String, Vec<u8>)>, InboxError> {
        let flat: Vec<Value> = self.run(&self.scripts.scan, &[scope.as_bytes()]).await?;
        let mut out = flat
            .chunks(2)
            .map(|pair| match pair {
                [k, v] => Ok((
                    text(k).ok_or_else(|| malformed("scan"))?,
                    bytes(v).ok_or_else(|| malformed("scan"))?,
                )),
                _ => Err(malformed("scan")),
            })
            .collect::<Result<Vec<_>, _>>()?;
        out.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(out)
    }
}

const TOKEN_LOCK: &str = r#"
-- ARGV: prefix, name, lease
local base = p .. ':tok:' .. ARGV[2]
local fence = redis.call('INCR', base .. ':fence')
if redis.call('SET', base .. ':lock', fence, 'NX', 'PX', tonumber(ARGV[3])) then return fence end
return 0
"#;

const TOKEN_SAVE: &str = r#"
-- ARGV: prefix, name, json, id, fence ('' none), replaced id ('' none)
local base = p .. ':tok:' .. ARGV[2]
if ARGV[5] == '' then
  redis.call('HSET', base, 'json', ARGV[3], 'id', ARGV[4])
  return 1
end
if redis.call('GET', base .. ':lock') == ARGV[5] then
  redis.call('HSET', base, 'json', ARGV[3], 'id', ARGV[4])
  redis.call('DEL', base .. ':lock')
  return 1
end
-- The lease ended before the save: store it only if nothing newer was saved meanwhile.
local current = redis.call('HGET', base, 'id') or ''
if current == ARGV[6] then
  redis.call('HSET', base, 'json', ARGV[3], 'id', ARGV[4])
  return 2
end
return 0
"#;

const TOKEN_UNLOCK: &str = r#"
local base = p .. ':tok:' .. ARGV[2]
if redis.call('GET', base .. ':lock') == ARGV[3] then redis.call('DEL', base .. ':lock') end
return 1
"#;

struct TokenScripts {
    lock: Script,
    save: Script,
    unlock: Script,
}

impl TokenScripts {
    fn new() -> Self {
        let s = script;
        Self { lock: s(TOKEN_LOCK), save: s(TOKEN_SAVE), unlock: s(TOKEN_UNLOCK) }
    }
}

/// A token shared by every process on one Redis, with the cross-process refresh lock
/// ([`SharedTokenStore`](crate::auth::SharedTokenStore)): one refresh per expiry across all
/// replicas, and a rotated refresh token is never presented twice. Made by
/// [`RedisInbox::token_store`].
#[derive(Clone)]
pub struct RedisTokenStore {
    inbox: RedisInbox,
    name: String,
    scripts: std::sync::Arc<TokenScripts>,
}

impl std::fmt::Debug for RedisTokenStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisTokenStore").field("name", &self.name).finish_non_exhaustive()
    }
}

impl RedisTokenStore {
    async fn save_with(
        &self,
        token: &crate::auth::Token,
        fence: Option<u64>,
        replaced: Option<&crate::auth::Token>,
    ) -> Result<i64, crate::auth::AuthError> {
        let json = crate::auth::stored::encode(token)?;
        let id = crate::auth::stored::fingerprint(token);
        let fence = fence.map(|f| f.to_string()).unwrap_or_default();
        let replaced = replaced.map(crate::auth::stored::fingerprint).unwrap_or_default();
        self.inbox
            .run(
                &self.scripts.save,
                &[self.name.as_bytes(), &json, id.as_bytes(), fence.as_bytes(), replaced.as_bytes()],
            )
            .await
            .map_err(auth_store)
    }
}

#[async_trait]
impl crate::auth::TokenStore for RedisTokenStore {
    async fn load(&self) -> Result<Option<crate::auth::Token>, crate::auth::AuthError> {
        let key = format!("{}:tok:{}", self.inbox.prefix, self.name);
        let mut conn = self.inbox.conn.clone();
        let json: Option<Vec<u8>> = redis::cmd("HGET")
            .arg(&key)
            .arg("json")
            .query_async(&mut conn)
            .await
            .map_err(|e| auth_store(storage(e)))?;
        json.map(|bytes| crate::auth::stored::decode(&bytes, &format!("token `{}`", self.name))).transpose()
    }

    async fn save(&self, token: &crate::auth::Token) -> Result<(), crate::auth::AuthError> {
        self.save_with(token, None, None).await.map(|_| ())
    }
}

#[async_trait]
impl crate::auth::SharedTokenStore for RedisTokenStore {
    async fn try_lock(&self, lease: Duration) -> Result<Option<u64>, crate::auth::AuthError> {
        let lease = ms(lease).to_string();
        let fence: i64 = self
            .inbox
            .run(&self.scripts.lock, &[self.name.as_bytes(), lease.as_bytes()])
            .await
            .map_err(auth_store)?;
        Ok(u64::try_from(fence).ok().filter(|f| *f > 0))
    }

    async fn save_fenced(
        &self,
        token: &crate::auth::Token,
        fence: u64,
        replaced: Option<&crate::auth::Token>,
    ) -> Result<bool, crate::auth::AuthError> {
        Ok(self.save_with(token, Some(fence), replaced).await? > 0)
    }

    async fn unlock(&self, fence: u64) -> Result<(), crate::auth::AuthError> {
        let fence = fence.to_string();
        let _: i64 = self
            .inbox
            .run(&self.scripts.unlock, &[self.name.as_bytes(), fence.as_bytes()])
            .await
            .map_err(auth_store)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests;
