//! Handing decoded rows from the decoding threads to the stager in batches.
//!
//! Objects of tens of KB hold a record or two each. Sending each object's rows on their own
//! woke the staging thread once per object: two context switches for a few hundred bytes of
//! rows. A decoding task now collects what its objects yield and sends it when it holds
//! [`BATCH_ROWS`] rows, and when the task ends (the batcher is dropped).

use std::sync::mpsc::SyncSender;

use crate::rows::Decoded;

/// Rows (invocations and rejects) a batch collects before it is sent.
pub const BATCH_ROWS: usize = 4096;

/// One decoding task's rows on their way to the stager. A clone starts empty, with the same
/// destination: rayon clones it for every task it splits off.
#[derive(Debug)]
pub struct Batcher {
    sender: SyncSender<Decoded>,
    pending: Decoded,
}

impl Batcher {
    pub fn new(sender: SyncSender<Decoded>) -> Self {
        Self {
            sender,
            pending: Decoded::default(),
        }
    }

    /// Adds what a slice of an object yielded; sends the batch once it is full.
    pub fn add(&mut self, mut decoded: Decoded) {
        let pending = &mut self.pending;
        pending.invocations.append(&mut decoded.invocations);
        pending.rejects.append(&mut decoded.rejects);
        pending.noise_events += decoded.noise_events;
        if pending.invocations.len() + pending.rejects.len() >= BATCH_ROWS {
            self.send();
        }
    }

    fn send(&mut self) {
        let batch = std::mem::take(&mut self.pending);
        if !batch.is_empty() {
            // A closed channel means staging failed; the ingest reports that error.
            let _ = self.sender.send(batch);
        }
    }
}

impl Clone for Batcher {
    fn clone(&self) -> Self {
        Self::new(self.sender.clone())
    }
}

impl Drop for Batcher {
    fn drop(&mut self) {
        self.send();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rows::Reject;
    use std::sync::Arc;
    use std::sync::mpsc::sync_channel;

    fn rejects(n: usize, noise: u64) -> Decoded {
        let reject = Reject {
            source: Arc::from("file:///o"),
            format: None,
            line: None,
            byte_offset: None,
            reason: "r".to_owned(),
            excerpt: "e".to_owned(),
        };
        Decoded {
            rejects: vec![reject; n],
            noise_events: noise,
            ..Decoded::default()
        }
    }

    #[test]
    fn sends_full_batches_then_the_rest_when_dropped() {
        // (rows added one slice at a time, the batches the stager receives)
        let cases: &[(&[usize], &[usize])] = &[
            (&[], &[]),
            (&[0], &[]),
            (&[1, 2, 3], &[6]),
            (&[BATCH_ROWS - 1, 1, 5], &[BATCH_ROWS, 5]),
            (&[BATCH_ROWS + 7, 2], &[BATCH_ROWS + 7, 2]),
        ];
        for (slices, expected) in cases {
            let (sender, receiver) = sync_channel(16);
            let mut batcher = Batcher::new(sender);
            for &n in *slices {
                batcher.add(rejects(n, 0));
            }
            drop(batcher);
            let sent: Vec<usize> = receiver.iter().map(|d| d.rejects.len()).collect();
            assert_eq!(sent, *expected, "{slices:?}");
        }
    }

    #[test]
    fn noise_alone_is_sent_and_a_clone_starts_empty() {
        let (sender, receiver) = sync_channel(16);
        let mut batcher = Batcher::new(sender);
        batcher.add(rejects(0, 3));
        let clone = batcher.clone();
        drop(clone);
        drop(batcher);
        let sent: Vec<(usize, u64)> = receiver
            .iter()
            .map(|d| (d.rejects.len(), d.noise_events))
            .collect();
        assert_eq!(sent, [(0, 3)]);
    }
}
