//! Single flight: concurrent requests for the same missing variant share one computation.
//!
//! The first request leads: it computes and publishes the result. The others follow: they
//! wait (for a bounded time) for that result. A leader that goes away without a result (its
//! client disconnected, which cancels its work) releases the followers, and one of them
//! leads the next attempt.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use tokio::sync::watch;

use super::key::VariantId;

/// The computations in progress, by variant.
#[derive(Debug)]
pub struct Flights<T> {
    running: Mutex<HashMap<VariantId, watch::Receiver<Option<T>>>>,
}

impl<T> Default for Flights<T> {
    fn default() -> Self {
        Flights {
            running: Mutex::default(),
        }
    }
}

/// This request's part in a flight.
pub enum Turn<'a, T> {
    /// Compute, then [`Leader::finish`].
    Lead(Leader<'a, T>),
    /// Wait with [`follow`].
    Follow(watch::Receiver<Option<T>>),
}

/// The right and duty to compute one variant; dropping it unfinished releases the followers.
pub struct Leader<'a, T> {
    flights: &'a Flights<T>,
    id: VariantId,
    tx: watch::Sender<Option<T>>,
}

/// How waiting for a leader ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Waited<T> {
    /// The leader's result.
    Done(T),
    /// The leader went away without a result: try again.
    Abandoned,
    /// The wait bound passed.
    TimedOut,
}

impl<T: Clone> Flights<T> {
    /// Leads the computation of `id`, or follows the one already running.
    pub fn join(&self, id: VariantId) -> Turn<'_, T> {
        let mut running = self.running.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(rx) = running.get(&id) {
            return Turn::Follow(rx.clone());
        }
        let (tx, rx) = watch::channel(None);
        running.insert(id, rx);
        Turn::Lead(Leader {
            flights: self,
            id,
            tx,
        })
    }

    /// Computations in progress.
    pub fn len(&self) -> usize {
        self.running.lock().map_or(0, |r| r.len())
    }

    /// Whether nothing is being computed.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<T> Leader<'_, T> {
    /// Hands `value` to every follower and ends the flight.
    pub fn finish(self, value: T) {
        // No receiver left is fine: the map's own receiver is dropped below.
        let _ = self.tx.send(Some(value));
    }
}

impl<T> Drop for Leader<'_, T> {
    fn drop(&mut self) {
        let mut running = self
            .flights
            .running
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if running
            .get(&self.id)
            .is_some_and(|rx| rx.same_channel(&self.tx.subscribe()))
        {
            running.remove(&self.id);
        }
    }
}

/// Waits at most `bound` for the leader behind `rx`.
pub async fn follow<T: Clone>(mut rx: watch::Receiver<Option<T>>, bound: Duration) -> Waited<T> {
    let wait = async {
        loop {
            if let Some(v) = rx.borrow_and_update().as_ref() {
                return Waited::Done(v.clone());
            }
            if rx.changed().await.is_err() {
                // The sender is gone; it may still have sent a value just before.
                return match rx.borrow().as_ref() {
                    Some(v) => Waited::Done(v.clone()),
                    None => Waited::Abandoned,
                };
            }
        }
    };
    tokio::time::timeout(bound, wait)
        .await
        .unwrap_or(Waited::TimedOut)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: VariantId = VariantId([7; 32]);

    #[tokio::test]
    async fn followers_get_the_leaders_result() {
        let flights = Flights::<u32>::default();
        let Turn::Lead(leader) = flights.join(ID) else {
            panic!("first joiner leads")
        };
        let Turn::Follow(rx) = flights.join(ID) else {
            panic!("second joiner follows")
        };
        let waiter = tokio::spawn(follow(rx, Duration::from_secs(5)));
        leader.finish(42);
        assert_eq!(waiter.await.unwrap(), Waited::Done(42));
        assert!(flights.is_empty());
        assert!(matches!(flights.join(ID), Turn::Lead(_)));
    }

    #[tokio::test]
    async fn an_abandoned_flight_releases_followers_and_waits_are_bounded() {
        let flights = Flights::<u32>::default();
        let leader = flights.join(ID);
        let Turn::Follow(rx) = flights.join(ID) else {
            panic!("second joiner follows")
        };
        let Turn::Follow(slow) = flights.join(ID) else {
            panic!("third joiner follows")
        };
        assert_eq!(
            follow(slow, Duration::from_millis(10)).await,
            Waited::TimedOut
        );
        drop(leader);
        assert_eq!(follow(rx, Duration::from_secs(5)).await, Waited::Abandoned);
        assert!(flights.is_empty());
    }
}
