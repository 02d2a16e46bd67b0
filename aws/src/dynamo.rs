//! The DynamoDB store: one table, partition key `pk`, sort key `sk`, the
//! record in `data` (JSON), a version `v`, the expiry in milliseconds `exp`
//! (checked in code and in conditions) and in seconds `ttl` (DynamoDB's TTL
//! attribute, which deletes lazily — up to days late).
//!
//! Reads are strongly consistent (counters and single-use items depend on
//! it). One write is one `UpdateItem`/`DeleteItem`; several are one
//! `TransactWriteItems`, with one `ClientRequestToken` per logical write
//! (idempotent retries). A transaction cancelled only by a concurrent
//! transaction (`TransactionConflict`) is retried here, so callers see
//! `Conflict` only when one of *their* conditions failed.

use std::collections::HashMap;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::{
    AttributeValue, ConditionCheck, Delete, KeysAndAttributes, TransactWriteItem, Update,
};
use aws_sdk_dynamodb::Client;

use tobira::clock::Timestamp;
use tobira::store::{
    check_reads, validate_batch, Cond, Item, Key, Query, Store, StoreError, Write,
};

#[derive(Clone)]
pub struct DynamoStore {
    client: Client,
    table: String,
}

impl DynamoStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }
    pub fn table(&self) -> &str {
        &self.table
    }
}

fn s(v: &str) -> AttributeValue {
    AttributeValue::S(v.to_string())
}
fn n(v: i64) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

fn key_map(k: &Key) -> HashMap<String, AttributeValue> {
    HashMap::from([("pk".to_string(), s(&k.pk)), ("sk".to_string(), s(&k.sk))])
}

fn fault<E: ProvideErrorMetadata + std::fmt::Debug>(e: SdkError<E>) -> StoreError {
    let detail = match &e {
        SdkError::ServiceError(se) => {
            let err = se.err();
            format!(
                "{}: {}",
                err.code().unwrap_or("service error"),
                err.message().unwrap_or("")
            )
        }
        other => format!("{other:?}").chars().take(300).collect(),
    };
    StoreError::Unavailable(format!("dynamodb: {detail}"))
}

fn item_from(map: &HashMap<String, AttributeValue>) -> Result<Item, StoreError> {
    let get_s = |k: &str| map.get(k).and_then(|v| v.as_s().ok()).cloned();
    let get_n = |k: &str| {
        map.get(k)
            .and_then(|v| v.as_n().ok())
            .and_then(|v| v.parse::<i64>().ok())
    };
    let bad = || StoreError::Unavailable("dynamodb: item without pk, sk, data or v".into());
    Ok(Item {
        key: Key::new(get_s("pk").ok_or_else(bad)?, get_s("sk").ok_or_else(bad)?),
        data: get_s("data").ok_or_else(bad)?,
        version: get_n("v").ok_or_else(bad)? as u64,
        expires_at: get_n("exp").map(Timestamp::from_millis),
    })
}

/// Expression attribute names and values, only those an expression uses
/// (DynamoDB refuses unused ones).
#[derive(Default)]
struct Expr {
    names: HashMap<String, String>,
    values: HashMap<String, AttributeValue>,
}

impl Expr {
    fn name(&mut self, n: &str) -> String {
        let k = format!("#{n}");
        self.names.insert(k.clone(), n.to_string());
        k
    }
    fn value(&mut self, k: &str, v: AttributeValue) -> String {
        let k = format!(":{k}");
        self.values.insert(k.clone(), v);
        k
    }
    fn condition(&mut self, cond: Cond, now: Timestamp) -> Option<String> {
        let live = |e: &mut Self| {
            let exp = e.name("exp");
            let now = e.value("now", n(now.millis()));
            format!("(attribute_not_exists({exp}) OR {exp} > {now})")
        };
        match cond {
            Cond::Any => None,
            Cond::Absent => {
                let exp = self.name("exp");
                let now = self.value("now", n(now.millis()));
                Some(format!("attribute_not_exists(pk) OR {exp} <= {now}"))
            }
            Cond::Exists => Some(format!("attribute_exists(pk) AND {}", live(self))),
            Cond::Version(v) => {
                let vn = self.name("v");
                let vv = self.value("ver", n(v as i64));
                Some(format!("{vn} = {vv} AND {}", live(self)))
            }
        }
    }
    fn names(&self) -> Option<HashMap<String, String>> {
        (!self.names.is_empty()).then(|| self.names.clone())
    }
    fn values(&self) -> Option<HashMap<String, AttributeValue>> {
        (!self.values.is_empty()).then(|| self.values.clone())
    }
}

/// `SET data, v, exp, ttl` (or `REMOVE exp, ttl`) for a put.
fn put_update(e: &mut Expr, data: &str, expires_at: Option<Timestamp>, now: Timestamp) -> String {
    let (d, v) = (e.name("data"), e.name("v"));
    let dv = e.value("data", s(data));
    let first = e.value("first", n(now.millis()));
    let one = e.value("one", n(1));
    let (exp, ttl) = (e.name("exp"), e.name("ttl"));
    match expires_at {
        Some(t) => {
            let ev = e.value("exp", n(t.millis()));
            let tv = e.value("ttl", n(t.secs_ceil()));
            format!("SET {d} = {dv}, {v} = if_not_exists({v}, {first}) + {one}, {exp} = {ev}, {ttl} = {tv}")
        }
        None => {
            format!("SET {d} = {dv}, {v} = if_not_exists({v}, {first}) + {one} REMOVE {exp}, {ttl}")
        }
    }
}

/// A single conditional write's result: a failed condition is a `Conflict`.
fn single<E: ProvideErrorMetadata + std::fmt::Debug>(
    r: Result<(), SdkError<E>>,
    condition_failed: impl Fn(&E) -> bool,
) -> Result<(), StoreError> {
    match r {
        Ok(()) => Ok(()),
        Err(err) if err.as_service_error().is_some_and(&condition_failed) => {
            Err(StoreError::Conflict)
        }
        Err(err) => Err(fault(err)),
    }
}

enum Outcome {
    Done,
    Conflict,
    Retry,
}

impl DynamoStore {
    async fn write_one(&self, w: Write, now: Timestamp) -> Result<(), StoreError> {
        let mut e = Expr::default();
        match w {
            Write::Put {
                key,
                data,
                expires_at,
                cond,
            } => {
                let update = put_update(&mut e, &data, expires_at, now);
                let condition = e.condition(cond, now);
                let r = self
                    .client
                    .update_item()
                    .table_name(&self.table)
                    .set_key(Some(key_map(&key)))
                    .update_expression(update)
                    .set_condition_expression(condition)
                    .set_expression_attribute_names(e.names())
                    .set_expression_attribute_values(e.values())
                    .send()
                    .await;
                single(r.map(|_| ()), |e| e.is_conditional_check_failed_exception())
            }
            Write::Delete { key, cond } => {
                let condition = e.condition(cond, now);
                let r = self
                    .client
                    .delete_item()
                    .table_name(&self.table)
                    .set_key(Some(key_map(&key)))
                    .set_condition_expression(condition)
                    .set_expression_attribute_names(e.names())
                    .set_expression_attribute_values(e.values())
                    .send()
                    .await;
                single(r.map(|_| ()), |e| e.is_conditional_check_failed_exception())
            }
            check @ Write::Check { .. } => self.write_many(vec![check], now).await,
        }
    }

    fn transact_item(&self, w: &Write, now: Timestamp) -> Result<TransactWriteItem, StoreError> {
        let mut e = Expr::default();
        let build = |m: &str| StoreError::Unavailable(format!("dynamodb request: {m}"));
        Ok(match w {
            Write::Put {
                key,
                data,
                expires_at,
                cond,
            } => {
                let update = put_update(&mut e, data, *expires_at, now);
                let condition = e.condition(*cond, now);
                TransactWriteItem::builder()
                    .update(
                        Update::builder()
                            .table_name(&self.table)
                            .set_key(Some(key_map(key)))
                            .update_expression(update)
                            .set_condition_expression(condition)
                            .set_expression_attribute_names(e.names())
                            .set_expression_attribute_values(e.values())
                            .build()
                            .map_err(|x| build(&x.to_string()))?,
                    )
                    .build()
            }
            Write::Delete { key, cond } => {
                let condition = e.condition(*cond, now);
                TransactWriteItem::builder()
                    .delete(
                        Delete::builder()
                            .table_name(&self.table)
                            .set_key(Some(key_map(key)))
                            .set_condition_expression(condition)
                            .set_expression_attribute_names(e.names())
                            .set_expression_attribute_values(e.values())
                            .build()
                            .map_err(|x| build(&x.to_string()))?,
                    )
                    .build()
            }
            Write::Check { key, cond } => {
                // A check needs a condition; "Any" checks that nothing is wrong with the key.
                let condition = e
                    .condition(*cond, now)
                    .unwrap_or_else(|| "attribute_exists(pk) OR attribute_not_exists(pk)".into());
                TransactWriteItem::builder()
                    .condition_check(
                        ConditionCheck::builder()
                            .table_name(&self.table)
                            .set_key(Some(key_map(key)))
                            .condition_expression(condition)
                            .set_expression_attribute_names(e.names())
                            .set_expression_attribute_values(e.values())
                            .build()
                            .map_err(|x| build(&x.to_string()))?,
                    )
                    .build()
            }
        })
    }

    async fn write_many(&self, writes: Vec<Write>, now: Timestamp) -> Result<(), StoreError> {
        let items = writes
            .iter()
            .map(|w| self.transact_item(w, now))
            .collect::<Result<Vec<_>, _>>()?;
        let mut delay = Duration::from_millis(20);
        // Issue 13, item 11: one token per logical write makes it idempotent.
        // The SDK's own retries (after a 500 or a timeout: it may have
        // committed) resend the same input, so the same token, and DynamoDB
        // answers a committed transaction with success, not a conflict with
        // itself. When the SDK gives up on `TransactionInProgressException`
        // (its retries met the first attempt still running), our resend
        // below keeps the token too: left unset, the SDK would make a new
        // one per `send`, and the resend would conflict with the committed
        // first attempt. A cancelled transaction committed nothing: its
        // resend is a new attempt with a new token.
        let mut token = request_token(&items);
        for _ in 0..8 {
            let r = self
                .client
                .transact_write_items()
                .set_transact_items(Some(items.clone()))
                .client_request_token(&token)
                .send()
                .await;
            let mut renew = true;
            let outcome = match r {
                Ok(_) => Outcome::Done,
                Err(err) => match err.as_service_error() {
                    Some(se) if se.is_transaction_canceled_exception() => {
                        let codes: Vec<String> = match se {
                            aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError::TransactionCanceledException(t) => t
                                .cancellation_reasons()
                                .iter()
                                .map(|r| r.code().unwrap_or("None").to_string())
                                .collect(),
                            _ => Vec::new(),
                        };
                        if codes.iter().any(|c| c == "ConditionalCheckFailed") {
                            Outcome::Conflict
                        } else if codes.iter().any(|c| c == "TransactionConflict")
                            || codes.is_empty()
                        {
                            Outcome::Retry
                        } else {
                            return Err(StoreError::Unavailable(format!(
                                "dynamodb: transaction cancelled: {codes:?}"
                            )));
                        }
                    }
                    Some(se) if se.is_transaction_in_progress_exception() => {
                        renew = false;
                        Outcome::Retry
                    }
                    _ => return Err(fault(err)),
                },
            };
            match outcome {
                Outcome::Done => return Ok(()),
                Outcome::Conflict => return Err(StoreError::Conflict),
                Outcome::Retry => {
                    if renew {
                        token = request_token(&items);
                    }
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(Duration::from_millis(500));
                }
            }
        }
        Err(StoreError::Unavailable(
            "dynamodb: transaction kept conflicting".into(),
        ))
    }
}

/// A `ClientRequestToken` (at most 36 characters) for one logical write:
/// a digest of the batch and 128 fresh random bits, so two writes of the
/// same items (two sign-ins, say) are never taken for one.
fn request_token(items: &[TransactWriteItem]) -> String {
    use sha2::{Digest, Sha256};
    let mut nonce = [0u8; 16];
    getrandom::fill(&mut nonce).expect("the OS random number generator failed");
    let mut h = Sha256::new();
    h.update(b"tobira transact-write token\0");
    h.update(nonce);
    h.update(format!("{items:?}").as_bytes());
    h.finalize()[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[async_trait]
impl Store for DynamoStore {
    async fn get(&self, key: &Key, now: Timestamp) -> Result<Option<Item>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key_map(key)))
            .consistent_read(true)
            .send()
            .await
            .map_err(fault)?;
        match out.item() {
            Some(m) => Ok(Some(item_from(m)?).filter(|i| i.is_live(now))),
            None => Ok(None),
        }
    }

    /// `BatchGetItem` (strongly consistent), retrying the keys DynamoDB
    /// leaves unprocessed under throttling with a growing pause.
    async fn get_many(
        &self,
        keys: &[Key],
        now: Timestamp,
    ) -> Result<Vec<Option<Item>>, StoreError> {
        check_reads(keys)?;
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let mut found: HashMap<Key, Item> = HashMap::with_capacity(keys.len());
        let mut pending = Some(
            KeysAndAttributes::builder()
                .set_keys(Some(keys.iter().map(key_map).collect()))
                .consistent_read(true)
                .build()
                .map_err(|e| StoreError::Unavailable(e.to_string()))?,
        );
        let mut delay = Duration::from_millis(20);
        for _ in 0..8 {
            let Some(wanted) = pending.take() else {
                break;
            };
            let out = self
                .client
                .batch_get_item()
                .request_items(&self.table, wanted)
                .send()
                .await
                .map_err(fault)?;
            for m in out
                .responses()
                .and_then(|r| r.get(&self.table))
                .into_iter()
                .flatten()
            {
                let item = item_from(m)?;
                found.insert(item.key.clone(), item);
            }
            // Strongly consistent again, whatever DynamoDB echoes back.
            pending = out
                .unprocessed_keys()
                .and_then(|u| u.get(&self.table))
                .filter(|k| !k.keys().is_empty())
                .map(|k| {
                    KeysAndAttributes::builder()
                        .set_keys(Some(k.keys().to_vec()))
                        .consistent_read(true)
                        .build()
                        .map_err(|e| StoreError::Unavailable(e.to_string()))
                })
                .transpose()?;
            if pending.is_some() {
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_millis(500));
            }
        }
        if pending.is_some() {
            return Err(StoreError::Unavailable(
                "BatchGetItem left keys unprocessed after retries".into(),
            ));
        }
        Ok(keys
            .iter()
            .map(|k| found.remove(k).filter(|i| i.is_live(now)))
            .collect())
    }

    async fn query(&self, q: &Query, now: Timestamp) -> Result<Vec<Item>, StoreError> {
        let mut out = Vec::new();
        let mut start = q
            .after
            .as_ref()
            .map(|a| key_map(&Key::new(q.pk.clone(), a.clone())));
        loop {
            // A key condition may not compare with an empty string.
            let mut req = self
                .client
                .query()
                .table_name(&self.table)
                .consistent_read(true);
            req = if q.sk_prefix.is_empty() {
                req.key_condition_expression("pk = :pk")
                    .expression_attribute_values(":pk", s(&q.pk))
            } else {
                req.key_condition_expression("pk = :pk AND begins_with(sk, :p)")
                    .expression_attribute_values(":pk", s(&q.pk))
                    .expression_attribute_values(":p", s(&q.sk_prefix))
            };
            let page = req
                .set_exclusive_start_key(start.take())
                .limit(q.limit.clamp(1, 1000) as i32)
                .send()
                .await
                .map_err(fault)?;
            for m in page.items() {
                let item = item_from(m)?;
                if item.is_live(now) {
                    out.push(item);
                    if out.len() >= q.limit {
                        return Ok(out);
                    }
                }
            }
            match page.last_evaluated_key() {
                Some(k) if !k.is_empty() => start = Some(k.clone()),
                _ => return Ok(out),
            }
        }
    }

    async fn write(&self, mut writes: Vec<Write>, now: Timestamp) -> Result<(), StoreError> {
        validate_batch(&writes)?;
        if writes.len() == 1 {
            self.write_one(writes.pop().expect("one write"), now).await
        } else {
            self.write_many(writes, now).await
        }
    }

    async fn increment(&self, key: &Key, _now: Timestamp) -> Result<u64, StoreError> {
        // `ADD` is atomic in DynamoDB: concurrent calls never see one value.
        let mut e = Expr::default();
        let (v, d) = (e.name("v"), e.name("data"));
        let one = e.value("one", n(1));
        let empty = e.value("empty", s("0"));
        let r = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key_map(key)))
            .update_expression(format!(
                "SET {d} = if_not_exists({d}, {empty}) ADD {v} {one}"
            ))
            .set_expression_attribute_names(e.names())
            .set_expression_attribute_values(e.values())
            .return_values(aws_sdk_dynamodb::types::ReturnValue::UpdatedNew)
            .send()
            .await
            .map_err(fault)?;
        r.attributes()
            .and_then(|a| a.get("v"))
            .and_then(|v| v.as_n().ok())
            .and_then(|v| v.parse::<u64>().ok())
            .ok_or_else(|| StoreError::Unavailable("dynamodb: counter without a value".into()))
    }
}

/// Create the table as `infra/template.yaml` declares it (tests, local emulators).
pub async fn create_table(client: &Client, table: &str) -> Result<(), StoreError> {
    use aws_sdk_dynamodb::types::{
        AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
        TimeToLiveSpecification,
    };
    let attr = |n: &str| {
        AttributeDefinition::builder()
            .attribute_name(n)
            .attribute_type(ScalarAttributeType::S)
            .build()
            .expect("valid")
    };
    let key = |n: &str, t| {
        KeySchemaElement::builder()
            .attribute_name(n)
            .key_type(t)
            .build()
            .expect("valid")
    };
    client
        .create_table()
        .table_name(table)
        .attribute_definitions(attr("pk"))
        .attribute_definitions(attr("sk"))
        .key_schema(key("pk", KeyType::Hash))
        .key_schema(key("sk", KeyType::Range))
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await
        .map_err(fault)?;
    client
        .update_time_to_live()
        .table_name(table)
        .time_to_live_specification(
            TimeToLiveSpecification::builder()
                .attribute_name("ttl")
                .enabled(true)
                .build()
                .expect("valid"),
        )
        .send()
        .await
        .map_err(fault)?;
    Ok(())
}
