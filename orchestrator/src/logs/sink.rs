//! The single writer of `ephitup`'s stdout and stderr. Relays hand it whole formatted lines
//! in chunks; a dedicated thread writes them, so a stalled reader of `ephitup`'s output stalls
//! only the log path (by backpressure to the services), never supervision.
//!
//! Room is counted in bytes by a fair (FIFO) semaphore: a relay waits for its turn, which is
//! what keeps one flooding service from starving the others; and a relay that found room at
//! once gives way after its chunk, so the turn passes even while nobody has to wait.

use std::collections::VecDeque;
use std::io::Write;
use std::os::fd::{AsFd, OwnedFd};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::{Duration, Instant};

use tokio::sync::Semaphore;

use super::file::RotatingFile;

/// Bytes that may wait in the sink before relays have to wait.
const BUDGET: usize = 4 << 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Stream {
    Stdout,
    Stderr,
}

impl Stream {
    pub fn as_str(self) -> &'static str {
        match self {
            Stream::Stdout => "stdout",
            Stream::Stderr => "stderr",
        }
    }
}

/// Whole lines for one output, and optionally the same lines, unformatted, for a file.
#[derive(Debug)]
pub struct Chunk {
    pub stream: Stream,
    pub console: Vec<u8>,
    pub file: Option<(Arc<Mutex<RotatingFile>>, Vec<u8>)>,
}

#[derive(Debug)]
struct Queued {
    chunk: Chunk,
    permits: usize,
}

#[derive(Debug, Default)]
struct Queue {
    chunks: VecDeque<Queued>,
    closed: bool,
    /// True while the writer holds chunks it has taken but not yet written.
    busy: bool,
}

#[derive(Debug)]
struct Shared {
    queue: Mutex<Queue>,
    wake: Condvar,
    room: Semaphore,
    /// Written buffers handed back to the relays, so a steady stream allocates nothing.
    spare: Mutex<Vec<Vec<u8>>>,
}

/// Spare buffers kept, and the largest one worth keeping.
const SPARE_BUFFERS: usize = 16;
const SPARE_CAPACITY: usize = 4 << 20;

/// Handle to the writer thread.
#[derive(Debug)]
pub struct LogSink {
    shared: Arc<Shared>,
    thread: Mutex<Option<std::thread::JoinHandle<()>>>,
}

impl LogSink {
    /// Starts the writer thread on duplicates of `ephitup`'s stdout and stderr.
    pub fn start() -> std::io::Result<Arc<LogSink>> {
        let stdout = std::io::stdout().as_fd().try_clone_to_owned()?;
        let stderr = std::io::stderr().as_fd().try_clone_to_owned()?;
        Self::start_on(stdout, stderr)
    }

    pub fn start_on(stdout: OwnedFd, stderr: OwnedFd) -> std::io::Result<Arc<LogSink>> {
        // When our output is a pipe (as under Docker), a bigger one means fewer stalls and
        // wake-ups; best effort.
        #[cfg(target_os = "linux")]
        for fd in [&stdout, &stderr] {
            let _ = nix::fcntl::fcntl(fd, nix::fcntl::FcntlArg::F_SETPIPE_SZ(1 << 20));
        }
        let shared = Arc::new(Shared {
            queue: Mutex::default(),
            wake: Condvar::new(),
            room: Semaphore::new(BUDGET),
            spare: Mutex::new(Vec::new()),
        });
        let writer = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name("log-writer".into())
            .stack_size(64 * 1024)
            .spawn(move || write_loop(&writer, std::fs::File::from(stdout), std::fs::File::from(stderr)))?;
        Ok(Arc::new(LogSink { shared, thread: Mutex::new(Some(thread)) }))
    }

    /// An empty buffer for the next chunk, recycled when one is available.
    pub fn buffer(&self) -> Vec<u8> {
        self.shared.spare.lock().unwrap_or_else(PoisonError::into_inner).pop().unwrap_or_default()
    }

    /// Queues a chunk, waiting (fairly) for room first, then yields to the other relays.
    pub async fn send(&self, chunk: Chunk) {
        let permits = chunk.console.len().clamp(1, BUDGET);
        match self.shared.room.acquire_many(u32::try_from(permits).unwrap_or(u32::MAX)).await {
            Ok(p) => p.forget(),
            Err(_) => return,
        }
        self.push(Queued { chunk, permits });
        // A flood's pipe and the sink's room are both ready at once: without a yield its relay
        // would run on for tokio's whole cooperative budget (64 chunks, 16 MiB) before another
        // service's relay got its turn.
        tokio::task::yield_now().await;
    }

    /// Queues a chunk without waiting: for `ephitup`'s own, rare, lines.
    pub fn send_now(&self, chunk: Chunk) {
        self.push(Queued { chunk, permits: 0 });
    }

    fn push(&self, queued: Queued) {
        let mut q = self.shared.queue.lock().unwrap_or_else(PoisonError::into_inner);
        q.chunks.push_back(queued);
        drop(q);
        self.shared.wake.notify_one();
    }

    /// Writes out what is queued and stops the thread, waiting at most `timeout` (a reader
    /// that stopped reading must not keep `ephitup` from exiting).
    pub fn close(&self, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        {
            let mut q = self.shared.queue.lock().unwrap_or_else(PoisonError::into_inner);
            q.closed = true;
        }
        self.shared.wake.notify_all();
        let thread = self.thread.lock().unwrap_or_else(PoisonError::into_inner).take();
        if let Some(thread) = thread {
            while !thread.is_finished() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(2));
            }
            if thread.is_finished() {
                let _ = thread.join();
            }
        }
    }
}

fn write_loop(shared: &Shared, mut stdout: std::fs::File, mut stderr: std::fs::File) {
    let mut lost_output = false;
    loop {
        let batch: Vec<Queued> = {
            let mut q = shared.queue.lock().unwrap_or_else(PoisonError::into_inner);
            q.busy = false;
            while q.chunks.is_empty() && !q.closed {
                q = shared.wake.wait(q).unwrap_or_else(PoisonError::into_inner);
            }
            if q.chunks.is_empty() {
                return;
            }
            q.busy = true;
            q.chunks.drain(..).collect()
        };
        for Queued { chunk, permits } in batch {
            let out = match chunk.stream {
                Stream::Stdout => &mut stdout,
                Stream::Stderr => &mut stderr,
            };
            if let Err(e) = out.write_all(&chunk.console) {
                if !lost_output {
                    lost_output = true;
                    let _ = writeln!(
                        stderr,
                        "ephitup | cannot write service output to {}: {e}; later lines go only to log files",
                        chunk.stream.as_str()
                    );
                }
            }
            if let Some((file, bytes)) = chunk.file {
                let mut file = file.lock().unwrap_or_else(PoisonError::into_inner);
                if let Err(e) = file.write(&bytes) {
                    let _ = writeln!(stderr, "ephitup | cannot write log file: {e}");
                }
            }
            if permits > 0 {
                shared.room.add_permits(permits);
            }
            let mut buffer = chunk.console;
            if buffer.capacity() <= SPARE_CAPACITY {
                buffer.clear();
                let mut spare = shared.spare.lock().unwrap_or_else(PoisonError::into_inner);
                if spare.len() < SPARE_BUFFERS {
                    spare.push(buffer);
                }
            }
        }
    }
}
