//! Tokio's paused clock, held still. Under `#[tokio::test(start_paused = true)]` the clock
//! jumps to the next timer whenever the runtime is idle: a test that waits with `sleep`
//! or `timeout` therefore lets every timer fire. To show that something happens *without*
//! a timer (a one-second tick, say), [`without_time_passing`] keeps the runtime busy while
//! it waits, so the clock cannot move, and checks afterwards that it did not.
//!
//! The engine reads its time from this same clock (`tokio::time::Instant`): a second, fake
//! clock would disagree with the runtime's own timers and timeouts.

use std::time::Duration;

/// Waits until `done()` holds, keeping the (current-thread, paused) runtime busy so that its
/// clock stands still; I/O and ready tasks still run. Panics, naming `what`, if the clock
/// moved anyway or if `done()` does not hold within `wall` of real time (a hang guard).
pub async fn without_time_passing(what: &str, wall: Duration, done: impl Fn() -> bool) {
    let frozen = tokio::time::Instant::now();
    let guard = std::time::Instant::now();
    while !done() {
        assert!(
            guard.elapsed() < wall,
            "{what}: did not happen while the clock stood still"
        );
        // A yielded task is polled again after the runtime has polled its I/O without
        // blocking, which never advances the paused clock.
        tokio::task::yield_now().await;
    }
    assert_eq!(tokio::time::Instant::now(), frozen, "{what}: the clock moved");
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    use super::*;

    #[tokio::test(start_paused = true)]
    async fn ready_work_happens_and_timers_do_not_fire() {
        let flag = Arc::new(AtomicBool::new(false));
        let set = flag.clone();
        tokio::spawn(async move { set.store(true, Ordering::SeqCst) });
        without_time_passing("a spawned task", Duration::from_secs(10), || {
            flag.load(Ordering::SeqCst)
        })
        .await;

        let late = Arc::new(AtomicBool::new(false));
        let set = late.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_secs(1)).await;
            set.store(true, Ordering::SeqCst);
        });
        let waited = tokio::spawn(async move {
            without_time_passing("a timer", Duration::from_millis(200), || {
                late.load(Ordering::SeqCst)
            })
            .await;
        })
        .await;
        assert!(
            waited.is_err(),
            "a one-second timer fired while the clock was held"
        );
    }
}
