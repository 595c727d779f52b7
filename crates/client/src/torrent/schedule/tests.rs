//! Hours of a torrent's schedules, driven through in microseconds: time is a parameter.

use super::*;

const SEC: Duration = Duration::from_secs(1);

/// Feeds `f` the times from `start` to `start + span`, one a second, as the driver's tick
/// does.
fn every_second(start: Instant, span: Duration, mut f: impl FnMut(Instant)) {
    let mut now = start;
    while now <= start + span {
        f(now);
        now += SEC;
    }
}

#[test]
fn announces_follow_the_trackers_interval_for_hours() {
    let t0 = Instant::now();
    let mut a = AnnounceSchedule::new(t0, 15 * SEC, 1800 * SEC);
    let mut sent = Vec::new();
    every_second(t0, Duration::from_secs(10 * 3600), |now| {
        if let Some(event) = a.due(now, true) {
            sent.push((now - t0, event));
            // The tracker answers within the same second.
            a.succeeded(
                now,
                Reply {
                    interval: 1800,
                    min_interval: None,
                },
            );
        }
    });
    assert_eq!(
        sent.len(),
        21,
        "one at the start, then every 30 minutes for 10 hours"
    );
    assert_eq!(sent[0], (Duration::ZERO, AnnounceEvent::Started));
    for (i, (at, event)) in sent.iter().enumerate().skip(1) {
        assert_eq!(*at, Duration::from_secs(1800 * i as u64));
        assert_eq!(*event, AnnounceEvent::None);
    }
}

#[test]
fn min_interval_and_the_floor_of_30_seconds_hold_the_next_announce_back() {
    let t0 = Instant::now();
    let mut a = AnnounceSchedule::new(t0, 15 * SEC, 1800 * SEC);
    assert_eq!(a.due(t0, true), Some(AnnounceEvent::Started));
    assert_eq!(a.due(t0, true), None, "one announce at a time");
    assert_eq!(a.next_at(), None, "nothing is scheduled while one is in flight");
    a.succeeded(
        t0,
        Reply {
            interval: 60,
            min_interval: Some(300),
        },
    );
    assert_eq!(
        a.next_at(),
        Some(t0 + 300 * SEC),
        "min interval wins over a shorter interval"
    );
    assert_eq!(a.due(t0 + 299 * SEC, true), None);
    let t1 = t0 + 300 * SEC;
    assert_eq!(a.due(t1, true), Some(AnnounceEvent::None));
    a.succeeded(
        t1,
        Reply {
            interval: 5,
            min_interval: None,
        },
    );
    assert_eq!(
        a.next_at(),
        Some(t1 + MIN_ANNOUNCE_INTERVAL),
        "never more often than 30 s"
    );
}

#[test]
fn failed_announces_back_off_doubling_up_to_the_maximum_then_reset() {
    let t0 = Instant::now();
    let mut a = AnnounceSchedule::new(t0, 15 * SEC, 1800 * SEC);
    let mut now = t0;
    let mut waits = Vec::new();
    for _ in 0..10 {
        assert!(a.due(now, true).is_some());
        a.failed(now);
        let next = a.next_at().unwrap();
        waits.push((next - now).as_secs());
        assert_eq!(a.due(next - SEC, true), None, "not before the back-off ends");
        now = next;
    }
    assert_eq!(waits, [15, 30, 60, 120, 240, 480, 960, 1800, 1800, 1800]);
    // About 2 hours of failures went by; one success and the interval rules again.
    assert!(now - t0 > Duration::from_secs(2 * 3600));
    assert!(a.due(now, true).is_some());
    a.succeeded(
        now,
        Reply {
            interval: 900,
            min_interval: None,
        },
    );
    assert_eq!(a.next_at(), Some(now + 900 * SEC));
    let later = now + 900 * SEC;
    assert!(a.due(later, true).is_some());
    a.failed(later);
    assert_eq!(a.next_at(), Some(later + 15 * SEC), "the back-off starts over");
}

#[test]
fn a_failed_announce_keeps_its_event_for_the_retry() {
    let t0 = Instant::now();
    let mut a = AnnounceSchedule::new(t0, 15 * SEC, 1800 * SEC);
    assert_eq!(a.due(t0, true), Some(AnnounceEvent::Started));
    a.failed(t0);
    let retry = a.next_at().unwrap();
    assert_eq!(a.due(retry, true), Some(AnnounceEvent::Started));
    let reply = Reply {
        interval: 900,
        min_interval: None,
    };
    a.succeeded(retry, reply);
    a.completed(retry);
    assert_eq!(a.due(retry, true), Some(AnnounceEvent::Completed));
    a.failed(retry);
    let retry = a.next_at().unwrap();
    assert_eq!(a.due(retry, true), Some(AnnounceEvent::Completed));
    a.succeeded(retry, reply);
    assert_eq!(a.due(retry + 900 * SEC, true), Some(AnnounceEvent::None));
}

#[test]
fn completion_is_announced_at_once_but_only_after_started() {
    let t0 = Instant::now();
    let mut a = AnnounceSchedule::new(t0, 15 * SEC, 1800 * SEC);
    // No tracker has heard `started`: nothing to complete.
    a.completed(t0);
    assert_eq!(a.due(t0, true), Some(AnnounceEvent::Started));
    a.succeeded(
        t0,
        Reply {
            interval: 1800,
            min_interval: None,
        },
    );
    assert!(a.started_sent());
    let t1 = t0 + 600 * SEC;
    a.completed(t1);
    assert_eq!(a.due(t1, true), Some(AnnounceEvent::Completed));
    a.succeeded(
        t1,
        Reply {
            interval: 1800,
            min_interval: None,
        },
    );
    assert_eq!(a.due(t1 + 1800 * SEC, true), Some(AnnounceEvent::None));
}

#[test]
fn without_trackers_the_question_comes_back_hourly() {
    let t0 = Instant::now();
    let mut a = AnnounceSchedule::new(t0, 15 * SEC, 1800 * SEC);
    assert_eq!(a.due(t0, false), None);
    assert_eq!(a.next_at(), Some(t0 + 3600 * SEC));
    // The `started` event waits for a tracker.
    assert_eq!(a.due(t0 + 3600 * SEC, true), Some(AnnounceEvent::Started));
}

#[test]
fn choke_rounds_every_10_seconds_and_rotations_every_30_for_an_hour() {
    let t0 = Instant::now();
    let mut c = ChokeSchedule::new(t0, 10 * SEC, 30 * SEC);
    let (mut rounds, mut rotations) = (Vec::new(), Vec::new());
    every_second(t0, Duration::from_secs(3600), |now| {
        if let Some(round) = c.due(now) {
            rounds.push((now - t0).as_secs());
            if round.rotate {
                rotations.push((now - t0).as_secs());
            }
        }
    });
    assert_eq!(rounds.len(), 360);
    assert!(
        rounds
            .iter()
            .enumerate()
            .all(|(i, at)| *at == 10 * (i as u64 + 1))
    );
    assert_eq!(rotations.len(), 120);
    assert!(
        rotations
            .iter()
            .enumerate()
            .all(|(i, at)| *at == 30 * (i as u64 + 1))
    );
    assert_eq!(c.next_at(), t0 + 3610 * SEC);
}

#[test]
fn a_late_tick_runs_one_round_not_a_burst() {
    let t0 = Instant::now();
    let mut c = ChokeSchedule::new(t0, 10 * SEC, 30 * SEC);
    // The driver was busy for a minute (a long recheck, say).
    assert_eq!(c.due(t0 + 60 * SEC), Some(ChokeRound { rotate: true }));
    assert_eq!(c.due(t0 + 61 * SEC), None);
    assert_eq!(c.due(t0 + 70 * SEC), Some(ChokeRound { rotate: false }));
}

#[test]
fn resume_state_is_saved_at_most_every_interval_and_at_once_on_completion() {
    let t0 = Instant::now();
    let mut r = ResumeSchedule::new(t0, 30 * SEC);
    let mut saves = Vec::new();
    every_second(t0, Duration::from_secs(3600), |now| {
        // A piece verified every second for the first 10 minutes, then nothing.
        if now - t0 < Duration::from_secs(600) {
            r.changed();
        }
        if r.due(now) {
            saves.push((now - t0).as_secs());
        }
    });
    let expected: Vec<u64> = (1..=20).map(|i| 30 * i).collect();
    assert_eq!(
        saves, expected,
        "every 30 s while pieces arrive, and once after the last"
    );
    let t1 = t0 + 3600 * SEC;
    r.changed();
    r.completed();
    assert!(r.due(t1), "completion saves at once");
    assert!(!r.due(t1 + 3600 * SEC), "nothing changed since");
}
