//! One contract suite for every store: the in-memory fake, the embedded
//! SQLite store and DynamoDB (through the real AWS SDK, on the local
//! emulator). Every rule of uniqueness, single use and counting rests on
//! these semantics.

use std::sync::Arc;

use tobira::clock::Timestamp;
use tobira::store::{Cond, Key, Query, Store, StoreError, Write};
use tobira_local::sqlite::SqliteStore;
use tobira_test_kit::MemoryStore;

use crate::support::{dynamo_store, T0};

fn put(k: &Key, v: &str, exp: Option<Timestamp>, cond: Cond) -> Write {
    Write::Put {
        key: k.clone(),
        data: format!("{{\"v\":\"{v}\"}}"),
        expires_at: exp,
        cond,
    }
}

/// Delete `k` if it is there (single use).
fn take(k: &Key) -> Vec<Write> {
    vec![Write::Delete {
        key: k.clone(),
        cond: Cond::Exists,
    }]
}

async fn suite(store: Arc<dyn Store>) {
    let s = store.as_ref();
    let now = T0;
    let a = Key::new("P#1", "a");
    let b = Key::new("P#1", "b");

    // Absent: creates once, the second create conflicts and writes nothing.
    s.write(vec![put(&a, "1", None, Cond::Absent)], now)
        .await
        .unwrap();
    assert_eq!(
        s.write(vec![put(&a, "2", None, Cond::Absent)], now).await,
        Err(StoreError::Conflict)
    );
    let item = s.get(&a, now).await.unwrap().unwrap();
    assert_eq!(item.data, "{\"v\":\"1\"}");

    // Version: compare-and-swap; every put raises the version.
    let v1 = item.version;
    s.write(vec![put(&a, "2", None, Cond::Version(v1))], now)
        .await
        .unwrap();
    assert_eq!(
        s.write(vec![put(&a, "3", None, Cond::Version(v1))], now)
            .await,
        Err(StoreError::Conflict)
    );
    let v2 = s.get(&a, now).await.unwrap().unwrap().version;
    assert!(v2 > v1);

    // All or nothing: one failing condition stops every write of the batch.
    let r = s
        .write(
            vec![
                put(&b, "x", None, Cond::Absent),
                put(&a, "4", None, Cond::Version(v1)),
            ],
            now,
        )
        .await;
    assert_eq!(r, Err(StoreError::Conflict));
    assert!(
        s.get(&b, now).await.unwrap().is_none(),
        "a failed batch must write nothing"
    );
    s.write(
        vec![
            put(&b, "x", None, Cond::Absent),
            Write::Check {
                key: a.clone(),
                cond: Cond::Version(v2),
            },
        ],
        now,
    )
    .await
    .unwrap();
    assert!(s.get(&b, now).await.unwrap().is_some());

    // Exists / delete: single use.
    s.write(take(&b), now).await.unwrap();
    assert_eq!(s.write(take(&b), now).await, Err(StoreError::Conflict));

    // Expiry is checked in code: an expired item is invisible, counts as
    // absent and fails Exists/Version even though it is still stored.
    let t = Key::new("P#2", "token");
    let exp = now.plus(std::time::Duration::from_secs(60));
    s.write(vec![put(&t, "t", Some(exp), Cond::Absent)], now)
        .await
        .unwrap();
    let live = s.get(&t, now).await.unwrap().unwrap();
    assert_eq!(live.expires_at, Some(exp));
    let later = exp; // expiry instant itself is expired
    assert!(s.get(&t, later).await.unwrap().is_none());
    assert_eq!(s.write(take(&t), later).await, Err(StoreError::Conflict));
    assert_eq!(
        s.write(
            vec![put(&t, "t2", None, Cond::Version(live.version))],
            later
        )
        .await,
        Err(StoreError::Conflict)
    );
    s.write(vec![put(&t, "t3", None, Cond::Absent)], later)
        .await
        .unwrap();
    let replaced = s.get(&t, later).await.unwrap().unwrap();
    assert_ne!(
        replaced.version, live.version,
        "a replaced item never reuses a version"
    );
    assert_eq!(replaced.expires_at, None);

    // Query: one partition, prefix, order, paging, expiry.
    for i in 0..7 {
        let exp = if i == 3 { Some(now) } else { None };
        s.write(
            vec![put(
                &Key::new("Q#1", format!("item#{i:02}")),
                &i.to_string(),
                exp,
                Cond::Any,
            )],
            now,
        )
        .await
        .unwrap();
    }
    s.write(
        vec![put(&Key::new("Q#1", "other"), "o", None, Cond::Any)],
        now,
    )
    .await
    .unwrap();
    s.write(
        vec![put(&Key::new("Q#2", "item#00"), "z", None, Cond::Any)],
        now,
    )
    .await
    .unwrap();
    let q = |after: Option<&str>, limit| Query {
        pk: "Q#1".into(),
        sk_prefix: "item#".into(),
        after: after.map(Into::into),
        limit,
    };
    let page1 = s.query(&q(None, 4), now).await.unwrap();
    let sks: Vec<_> = page1.iter().map(|i| i.key.sk.as_str()).collect();
    assert_eq!(sks, ["item#00", "item#01", "item#02", "item#04"]);
    let page2 = s.query(&q(Some("item#04"), 4), now).await.unwrap();
    let sks: Vec<_> = page2.iter().map(|i| i.key.sk.as_str()).collect();
    assert_eq!(sks, ["item#05", "item#06"]);

    // An empty prefix reads the whole partition.
    let all = s
        .query(
            &Query {
                pk: "Q#1".into(),
                sk_prefix: String::new(),
                after: None,
                limit: 100,
            },
            now,
        )
        .await
        .unwrap();
    assert_eq!(all.len(), 7);

    // Refused batches: empty, too large, a key twice.
    assert!(matches!(
        s.write(vec![], now).await,
        Err(StoreError::Unavailable(_))
    ));
    let dup = vec![put(&a, "x", None, Cond::Any), put(&a, "y", None, Cond::Any)];
    assert!(matches!(
        s.write(dup, now).await,
        Err(StoreError::Unavailable(_))
    ));

    // Race: 50 parallel creates of one key, exactly one wins.
    let race = Key::new("R#1", "once");
    let mut tasks = Vec::new();
    for i in 0..50 {
        let store = store.clone();
        let k = race.clone();
        tasks.push(tokio::spawn(async move {
            store
                .write(vec![put(&k, &i.to_string(), None, Cond::Absent)], now)
                .await
        }));
    }
    let mut ok = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(()) => ok += 1,
            Err(StoreError::Conflict) => {}
            Err(e) => panic!("unexpected {e}"),
        }
    }
    assert_eq!(ok, 1, "exactly one of 50 parallel creates wins");

    // Counters: 100 parallel increments see 1..=100, each exactly once.
    let counter = Key::new("COUNTER", "c");
    let mut tasks = Vec::new();
    for _ in 0..100 {
        let store = store.clone();
        let counter = counter.clone();
        tasks.push(tokio::spawn(
            async move { store.increment(&counter, now).await },
        ));
    }
    let mut seen = Vec::new();
    for t in tasks {
        seen.push(t.await.unwrap().unwrap());
    }
    seen.sort_unstable();
    assert_eq!(seen, (1..=100).collect::<Vec<u64>>());
    assert_eq!(s.increment(&counter, now).await.unwrap(), 101);
    assert_eq!(
        s.increment(&Key::new("COUNTER", "other"), now)
            .await
            .unwrap(),
        1
    );

    // Many reads in one: the live items in the order asked, None for a
    // missing or expired key; 100 keys at most, none twice.
    let gone = Key::new("MANY", "expired");
    s.write(
        vec![
            put(&Key::new("MANY", "x"), "x", None, Cond::Any),
            put(&Key::new("MANY", "y"), "y", None, Cond::Any),
            put(
                &gone,
                "old",
                Some(now.plus(std::time::Duration::from_secs(10))),
                Cond::Any,
            ),
        ],
        now,
    )
    .await
    .unwrap();
    let asked = [
        Key::new("MANY", "y"),
        Key::new("MANY", "nothing"),
        gone.clone(),
        Key::new("MANY", "x"),
    ];
    let got = s
        .get_many(&asked, now.plus(std::time::Duration::from_secs(11)))
        .await
        .unwrap();
    let data: Vec<Option<&str>> = got
        .iter()
        .map(|i| i.as_ref().map(|i| i.data.as_str()))
        .collect();
    assert_eq!(
        data,
        [Some("{\"v\":\"y\"}"), None, None, Some("{\"v\":\"x\"}")]
    );
    assert_eq!(got[0].as_ref().unwrap().key, asked[0]);
    assert_eq!(
        s.get_many(&[], now).await.unwrap(),
        Vec::<Option<tobira::store::Item>>::new()
    );
    let hundred: Vec<Key> = (0..100)
        .map(|i| Key::new("MANY", format!("k{i:03}")))
        .collect();
    assert_eq!(s.get_many(&hundred, now).await.unwrap().len(), 100);
    let too_many: Vec<Key> = (0..101)
        .map(|i| Key::new("MANY", format!("k{i:03}")))
        .collect();
    assert!(s.get_many(&too_many, now).await.is_err());
    assert!(s
        .get_many(&[asked[0].clone(), asked[0].clone()], now)
        .await
        .is_err());
}

#[tokio::test]
async fn contract_memory_store() {
    suite(Arc::new(MemoryStore::default())).await;
}

#[tokio::test]
async fn contract_embedded_sqlite_store() {
    suite(Arc::new(SqliteStore::in_memory())).await;
}

#[tokio::test]
async fn contract_embedded_store_survives_restart() {
    let dir = std::env::temp_dir().join(format!("tobira-restart-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("t.db");
    {
        let s = SqliteStore::open(&path).unwrap();
        s.write(
            vec![put(&Key::new("K", "k"), "kept", None, Cond::Absent)],
            T0,
        )
        .await
        .unwrap();
    }
    let s = SqliteStore::open(&path).unwrap();
    assert_eq!(
        s.get(&Key::new("K", "k"), T0).await.unwrap().unwrap().data,
        "{\"v\":\"kept\"}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn contract_dynamodb_store_on_emulator() {
    suite(Arc::new(dynamo_store().await)).await;
}
