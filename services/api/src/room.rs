//! A bound on one kind of costly work: at most `max` at once, one more waits up to `wait` for
//! a place (or not at all: [`Room::try_enter`]) and is then answered `503` with `Retry-After`.
//! Searches enter one: each full-text or vector search holds memory in the database for as
//! long as it runs (with 16 text searches at once over 11,510 chunks the database went over its
//! 256 MiB and was killed), so more than a few at once are shed here instead. Streamed answers
//! take a place at once or not at all (`crate::sse`): a stream lasts seconds, longer than a
//! request should wait for room.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::error::ApiError;

#[derive(Clone)]
pub struct Room {
    places: Arc<Semaphore>,
    wait: Duration,
    /// The answer when no place came free in time.
    full: &'static str,
}

/// A place in a [`Room`], given back when dropped.
pub struct Place {
    _permit: OwnedSemaphorePermit,
}

impl Room {
    pub fn new(max: usize, wait: Duration, full: &'static str) -> Room {
        Room { places: Arc::new(Semaphore::new(max)), wait, full }
    }

    /// A place, waiting at most the room's `wait` for one (places are given in turn).
    pub async fn enter(&self) -> Result<Place, ApiError> {
        match tokio::time::timeout(self.wait, Arc::clone(&self.places).acquire_owned()).await {
            Ok(Ok(permit)) => Ok(Place { _permit: permit }),
            _ => Err(ApiError::Unavailable(self.full.into())),
        }
    }

    /// A place now, or `503` at once when every one is taken.
    pub fn try_enter(&self) -> Result<Place, ApiError> {
        Arc::clone(&self.places)
            .try_acquire_owned()
            .map(|permit| Place { _permit: permit })
            .map_err(|_| ApiError::Unavailable(self.full.into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn one_past_the_bound_waits_then_is_refused() {
        let room = Room::new(2, Duration::from_millis(20), "full");
        let _first = room.enter().await.expect("a place");
        let _second = room.enter().await.expect("a place");
        match room.enter().await {
            Err(ApiError::Unavailable(m)) => assert_eq!(m, "full"),
            Err(e) => panic!("{e:?}"),
            Ok(_) => panic!("a third place in a room of two"),
        }
        assert!(room.try_enter().is_err(), "no place at once either");
    }

    #[tokio::test]
    async fn a_place_given_back_goes_to_the_one_waiting() {
        let room = Room::new(1, Duration::from_secs(600), "full");
        let first = room.enter().await.expect("a place");
        let waiter = tokio::spawn({
            let room = room.clone();
            async move { room.enter().await.is_ok() }
        });
        // The test's runtime has one thread: yielding lets the waiter run until it waits.
        tokio::task::yield_now().await;
        assert!(!waiter.is_finished(), "the waiter waits while the room is full");
        drop(first);
        assert!(waiter.await.expect("join"), "the place given back went to the waiter");
    }
}
