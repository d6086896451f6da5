//! A few values made on first use and found again without a lock or a hash: the bound
//! instruments of one route, one per method and per status it answers; its span name.
//!
//! The metrics SDK finds the time series of a measurement by hashing its attribute set
//! (SipHash over every key and value) under a read lock, on every request. A route sees a
//! handful of (method, status) pairs over its life, so each one is bound once, here, and
//! a request only compares a method and a status against the slots already filled, each
//! an atomic load. When all slots are taken (a route answering more distinct statuses
//! than [`SLOTS`]) the caller records through the unbound instrument, as before: the
//! numbers are the same, only slower.

use std::sync::OnceLock;

/// Slots per route for each kind of key.
pub(crate) const SLOTS: usize = 8;

/// Up to [`SLOTS`] `(key, value)` pairs, each set once. Filled slots are always a prefix:
/// a caller fills the first free slot it meets, so a key is never behind a free slot.
pub(crate) struct Slots<K, V> {
    slots: [OnceLock<(K, V)>; SLOTS],
}

impl<K, V> Default for Slots<K, V> {
    fn default() -> Self {
        Slots {
            slots: std::array::from_fn(|_| OnceLock::new()),
        }
    }
}

impl<K, V> Slots<K, V> {
    /// The index and value of the slot whose key `is` accepts; made with `make` in the
    /// first free slot when there is none; `None` when every slot holds another key.
    ///
    /// Two callers racing for a free slot: one fills it, the other gets its pair back,
    /// checks the winner's key and goes on to the next slot with the pair it made.
    pub(crate) fn get_or_make(
        &self,
        is: impl Fn(&K) -> bool,
        make: impl FnOnce() -> (K, V),
    ) -> Option<(usize, &V)> {
        let mut make = Some(make);
        let mut made = None;
        for (i, slot) in self.slots.iter().enumerate() {
            if slot.get().is_none() {
                let pair = match (made.take(), make.take()) {
                    (Some(pair), _) => pair,
                    (None, Some(make)) => make(),
                    (None, None) => return None,
                };
                if let Err(pair) = slot.set(pair) {
                    made = Some(pair);
                }
            }
            if let Some((k, v)) = slot.get()
                && is(k)
            {
                return Some((i, v));
            }
        }
        None
    }

    /// The value in slot `i`, as [`get_or_make`](Self::get_or_make) numbered it.
    pub(crate) fn at(&self, i: usize) -> Option<&V> {
        self.slots.get(i)?.get().map(|(_, v)| v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_made_once_and_found_again() {
        let slots = Slots::<u16, String>::default();
        let mut made = 0;
        for _ in 0..3 {
            let v = slots.get_or_make(
                |k| *k == 200,
                || {
                    made += 1;
                    (200, "ok".to_owned())
                },
            );
            assert_eq!(v.map(|(i, s)| (i, s.as_str())), Some((0, "ok")));
        }
        assert_eq!(made, 1);
        let v = slots.get_or_make(|k| *k == 404, || (404, "missing".to_owned()));
        assert_eq!(v.map(|(i, s)| (i, s.as_str())), Some((1, "missing")));
        let v = slots.get_or_make(|k| *k == 200, || panic!("200 is there"));
        assert_eq!(v.map(|(_, s)| s.as_str()), Some("ok"));
        assert_eq!(slots.at(1).map(String::as_str), Some("missing"));
        assert_eq!(slots.at(2), None);
    }

    #[test]
    fn full_slots_answer_none() {
        let slots = Slots::<usize, usize>::default();
        for i in 0..SLOTS {
            let got = slots.get_or_make(|k| *k == i, || (i, i * 10));
            assert_eq!(got, Some((i, &(i * 10))));
        }
        assert_eq!(slots.get_or_make(|k| *k == SLOTS, || (SLOTS, 0)), None);
        assert_eq!(slots.get_or_make(|k| *k == 3, || (3, 0)), Some((3, &30)));
    }

    #[test]
    fn threads_racing_store_each_key_once() {
        let slots = Slots::<usize, usize>::default();
        std::thread::scope(|s| {
            for t in 0..4 {
                let slots = &slots;
                s.spawn(move || {
                    for i in 0..SLOTS {
                        let key = (i + t) % SLOTS;
                        let got = slots.get_or_make(|k| *k == key, || (key, key + 1));
                        assert_eq!(got.map(|(_, v)| *v), Some(key + 1));
                    }
                });
            }
        });
        let mut keys: Vec<usize> = slots
            .slots
            .iter()
            .filter_map(|s| s.get())
            .map(|kv| kv.0)
            .collect();
        keys.sort_unstable();
        assert_eq!(keys, (0..SLOTS).collect::<Vec<_>>());
    }
}
