//! Issue 17 item 6: argon2 runs on tokio's blocking pool, so a host that
//! serves many requests at once (the local portal) keeps answering the
//! others while a password is hashed or verified.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use crate::mfa_support::PW;
use crate::support::{ctx, Harness};

/// How often another task ran on the same (single) worker thread while
/// `work` was under way.
async fn others_ran_during(work: impl std::future::Future<Output = ()>) -> u64 {
    let done = Arc::new(AtomicBool::new(false));
    let ticks = Arc::new(AtomicU64::new(0));
    let (d, t) = (done.clone(), ticks.clone());
    let other = tokio::spawn(async move {
        while !d.load(Ordering::SeqCst) {
            t.fetch_add(1, Ordering::SeqCst);
            tokio::task::yield_now().await;
        }
    });
    tokio::task::yield_now().await;
    let before = ticks.load(Ordering::SeqCst);
    work.await;
    let during = ticks.load(Ordering::SeqCst) - before;
    done.store(true, Ordering::SeqCst);
    other.await.unwrap();
    during
}

#[tokio::test(flavor = "current_thread")]
async fn a_sign_in_and_a_new_password_leave_the_worker_free_while_argon2_runs() {
    let h = Harness::new();
    h.active_user_in("busy@example.com", PW, "econ1000000001", "ecid8100000001")
        .await;
    let pw = tobira::ids::Password::parse(PW).unwrap();
    // A sign-in verifies the password (argon2id, tens of milliseconds).
    let ran = others_ran_during(async {
        h.app.login("busy@example.com", &pw, &ctx()).await.unwrap();
    })
    .await;
    assert!(
        ran > 100,
        "the worker was held by the hash: other tasks ran {ran} times"
    );
    // A wrong one for a login ID nobody holds burns one verification alike.
    let ran = others_ran_during(async {
        h.app
            .login("nobody@example.com", &pw, &ctx())
            .await
            .unwrap_err();
    })
    .await;
    assert!(ran > 100, "the dummy verification held the worker: {ran}");
}
