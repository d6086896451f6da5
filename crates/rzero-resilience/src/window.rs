//! A rolling window of time buckets: go-zero's `collection.RollingWindow`.
//!
//! The window holds `size` buckets of `interval` each. Adding goes to the bucket of "now",
//! first resetting the buckets that time has passed over; reducing visits only the buckets
//! that are still inside the window. Not thread-safe by itself: owners keep it under their
//! own lock together with the rest of their state.

use std::time::Duration;

/// What a window bucket must do: take a value, and be emptied.
pub trait Bucket: Default {
    /// The value added, e.g. an outcome.
    type Value: Copy;
    /// Records one value.
    fn add(&mut self, value: Self::Value);
    /// Empties the bucket.
    fn reset(&mut self);
}

/// A rolling window over time.
#[derive(Debug)]
pub struct RollingWindow<B> {
    buckets: Vec<B>,
    interval: Duration,
    offset: usize,
    last: Duration,
    ignore_current: bool,
}

impl<B: Bucket> RollingWindow<B> {
    /// `size` buckets of `interval`, starting at time `now`. A zero size is taken as 1 and
    /// a zero interval as 1 ms (a window must have room and move).
    pub fn new(size: usize, interval: Duration, now: Duration) -> Self {
        let size = size.max(1);
        RollingWindow {
            buckets: (0..size).map(|_| B::default()).collect(),
            interval: interval.max(Duration::from_millis(1)),
            offset: 0,
            last: now,
            ignore_current: false,
        }
    }

    /// Leaves the bucket still being filled out of [`reduce`](Self::reduce), as go-zero's
    /// `IgnoreCurrentBucket` does: a partial bucket would read as a drop in traffic.
    pub fn ignoring_current(mut self) -> Self {
        self.ignore_current = true;
        self
    }

    /// How many buckets time has moved past since the current one started.
    fn span(&self, now: Duration) -> usize {
        let elapsed = now.saturating_sub(self.last);
        // Most calls land in the current bucket: skip the 128-bit division.
        if elapsed < self.interval {
            return 0;
        }
        let span = elapsed.as_nanos() / self.interval.as_nanos();
        usize::try_from(span).map_or(self.buckets.len(), |s| s.min(self.buckets.len()))
    }

    /// Moves the window to `now`: each bucket time has passed over is handed to `expire`
    /// (an owner keeping running totals takes it out of them), then emptied. Reading or
    /// adding at `now` afterwards sees what it would have seen without the call.
    pub fn advance(&mut self, now: Duration, mut expire: impl FnMut(&B)) {
        let span = self.span(now);
        if span == 0 {
            return;
        }
        let size = self.buckets.len();
        for i in 0..span {
            let bucket = &mut self.buckets[(self.offset + i + 1) % size];
            expire(bucket);
            bucket.reset();
        }
        self.offset = (self.offset + span) % size;
        // Align to the bucket boundary, as go-zero does, so buckets keep their length.
        let elapsed = now.saturating_sub(self.last);
        let into = Duration::from_nanos(
            u64::try_from(elapsed.as_nanos() % self.interval.as_nanos()).unwrap_or(0),
        );
        self.last = now.saturating_sub(into);
    }

    /// Adds `value` to the bucket of `now`.
    pub fn add(&mut self, now: Duration, value: B::Value) {
        self.advance(now, |_| {});
        let size = self.buckets.len();
        self.buckets[self.offset % size].add(value);
    }

    /// Visits the buckets still inside the window at `now`, oldest first.
    pub fn reduce(&self, now: Duration, mut f: impl FnMut(&B)) {
        let size = self.buckets.len();
        let span = self.span(now);
        let count = if span == 0 && self.ignore_current {
            size - 1
        } else {
            size - span
        };
        let start = (self.offset + span + 1) % size;
        for i in 0..count {
            f(&self.buckets[(start + i) % size]);
        }
    }

    /// The number of buckets.
    pub fn size(&self) -> usize {
        self.buckets.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default)]
    struct Sum(i64);

    impl Bucket for Sum {
        type Value = i64;
        fn add(&mut self, v: i64) {
            self.0 += v;
        }
        fn reset(&mut self) {
            self.0 = 0;
        }
    }

    fn total(w: &RollingWindow<Sum>, now: Duration) -> i64 {
        let mut t = 0;
        w.reduce(now, |b| t += b.0);
        t
    }

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn values_leave_the_window_as_time_passes() {
        let mut w = RollingWindow::<Sum>::new(4, 100 * MS, Duration::ZERO);
        w.add(Duration::ZERO, 1);
        w.add(150 * MS, 2);
        w.add(250 * MS, 3);
        assert_eq!(total(&w, 250 * MS), 6);
        assert_eq!(total(&w, 450 * MS), 3 + 2, "the first bucket has left");
        assert_eq!(total(&w, 10_000 * MS), 0, "long idle empties everything");
        w.add(10_000 * MS, 7);
        assert_eq!(total(&w, 10_000 * MS), 7);
    }

    #[test]
    fn advancing_first_changes_nothing_and_hands_over_what_leaves() {
        let mut plain = RollingWindow::<Sum>::new(4, 100 * MS, Duration::ZERO);
        let mut advanced = RollingWindow::<Sum>::new(4, 100 * MS, Duration::ZERO);
        let mut running = 0;
        for (i, t) in [0u32, 30, 150, 170, 260, 420, 480, 905, 1000, 1010, 5000]
            .iter()
            .enumerate()
        {
            let now = *t * MS;
            let v = i as i64 + 1;
            plain.add(now, v);
            advanced.advance(now, |b| running -= b.0);
            advanced.add(now, v);
            running += v;
            assert_eq!(total(&advanced, now), total(&plain, now), "at {t} ms");
            assert_eq!(running, total(&plain, now), "running total at {t} ms");
        }
    }

    #[test]
    fn clock_going_backwards_is_harmless() {
        let mut w = RollingWindow::<Sum>::new(3, 10 * MS, 100 * MS);
        w.add(50 * MS, 1);
        assert_eq!(total(&w, 40 * MS), 1);
    }
}
