//! Gives back the pages that busy moments touched and idling does not need. A supervisor stays
//! resident for the life of the container, and most of its resident memory is code read in
//! for a moment (command line, TOML and configuration checks, the first spawns, a `/metrics`
//! scrape, a reload: most of the binary's text, and of libc's), then not again while the set
//! idles on a few pages of its event loop.
//!
//! So once things are quiet (no request, spawn or reload for [`QUIET`]), [`trim`] runs:
//! - the file-backed mappings are advised out (`MADV_PAGEOUT`, Linux 5.4+): the kernel drops
//!   the clean pages only this process maps;
//! - the read-only file mappings without a private copy of any page (code, constants; not the
//!   relocated RELRO data, which holds private copies) are unmapped from this process
//!   (`MADV_DONTNEED`): the pages libc shares with other processes, which `MADV_PAGEOUT`
//!   leaves alone, and what fault-around mapped beside the pages really used. They stay in
//!   the page cache; what is needed again is faulted back in from it (a minor fault);
//! - the heap's free pages go back to the kernel (`malloc_trim`, glibc).
//!
//! Writable and anonymous memory is never dropped (that would lose data), only the heap's
//! free pages, through the allocator itself.

use std::time::Duration;

use tokio::sync::Notify;

/// How long without activity before the pages are given back.
pub const QUIET: Duration = Duration::from_secs(1);

static ACTIVITY: Notify = Notify::const_new();

/// Says that something touched memory that idling does not need (a request served, a process
/// spawned, a reload): [`trim_when_quiet`] trims again once things are quiet. Cheap (one atomic
/// operation when nobody waits).
pub fn touched() {
    ACTIVITY.notify_one();
}

/// Trims after each busy moment, once it has been quiet for [`QUIET`]; runs until dropped.
/// Idle, it sleeps without a timer.
pub async fn trim_when_quiet() {
    loop {
        ACTIVITY.notified().await;
        // Each touch during the quiet period starts it again.
        loop {
            tokio::select! {
                _ = tokio::time::sleep(QUIET) => break,
                _ = ACTIVITY.notified() => {}
            }
        }
        let t = trim();
        tracing::debug!(
            paged_out = t.paged_out,
            unmapped = t.unmapped,
            heap_trimmed = t.heap_trimmed,
            "gave back pages idling does not need"
        );
    }
}

/// What one [`trim`] did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Trimmed {
    /// File-backed mappings advised out.
    pub paged_out: usize,
    /// Read-only file mappings unmapped from this process (the page cache keeps them).
    pub unmapped: usize,
    /// The allocator gave memory back to the kernel.
    pub heap_trimmed: bool,
}

/// Gives back what idling does not need (see the module's docs). Best effort: what the kernel
/// or the allocator refuses is left as it is.
#[cfg(target_os = "linux")]
pub fn trim() -> Trimmed {
    let mut done = Trimmed::default();
    if let Ok(smaps) = std::fs::read_to_string("/proc/self/smaps") {
        for m in mappings(&smaps) {
            if !m.file {
                continue; // [heap], [stack], [vdso], anonymous
            }
            let (start, len) = (m.start as *mut libc::c_void, m.end - m.start);
            // SAFETY: advice on a whole file mapping of our own address space, taken from
            // /proc/self/smaps; MADV_PAGEOUT only drops pages the kernel can read back.
            if unsafe { libc::madvise(start, len, libc::MADV_PAGEOUT) } == 0 {
                done.paged_out += 1;
            }
            if m.writable || m.anonymous_kib > 0 {
                continue;
            }
            // SAFETY: the mapping is file-backed, not writable and holds no private copy of a
            // page (smaps' `Anonymous: 0`), so every page dropped reads back from the file with
            // the same content. Not writable, it cannot gain a private copy meanwhile.
            if unsafe { libc::madvise(start, len, libc::MADV_DONTNEED) } == 0 {
                done.unmapped += 1;
            }
        }
    }
    #[cfg(target_env = "gnu")]
    {
        // SAFETY: malloc_trim only returns the allocator's free pages to the kernel.
        done.heap_trimmed = unsafe { libc::malloc_trim(0) } == 1;
    }
    done
}

#[cfg(not(target_os = "linux"))]
pub fn trim() -> Trimmed {
    Trimmed::default()
}

/// One mapping of `/proc/self/smaps`, as far as trimming cares.
#[derive(Debug, PartialEq, Eq)]
struct Mapping {
    start: usize,
    end: usize,
    writable: bool,
    /// Backed by a file (its path is absolute), not `[heap]`, `[stack]` or anonymous.
    file: bool,
    /// Private copies of pages (a written private mapping, relocated data).
    anonymous_kib: u64,
}

/// The mappings of an smaps text: a header line (`start-end perms offset dev inode path`)
/// followed by `Key: value` lines.
fn mappings(smaps: &str) -> Vec<Mapping> {
    let mut out: Vec<Mapping> = Vec::new();
    for line in smaps.lines() {
        let mut fields = line.split_whitespace();
        let Some(first) = fields.next() else { continue };
        if let Some((start, end)) = first.split_once('-') {
            let (Ok(start), Ok(end)) = (usize::from_str_radix(start, 16), usize::from_str_radix(end, 16)) else {
                continue;
            };
            let perms = fields.next().unwrap_or("");
            let path = fields.nth(3).unwrap_or("");
            out.push(Mapping {
                start,
                end,
                writable: perms.as_bytes().get(1) != Some(&b'-'),
                file: path.starts_with('/'),
                // Unknown until its `Anonymous:` line: counted as holding copies (kept).
                anonymous_kib: u64::MAX,
            });
        } else if first == "Anonymous:" {
            if let (Some(m), Some(Ok(kib))) = (out.last_mut(), fields.next().map(str::parse)) {
                m.anonymous_kib = kib;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const SMAPS: &str = "\
55d0a0000000-55d0a0010000 r--p 00000000 fd:01 123 /usr/bin/ephitup
Size:                 64 kB
Rss:                  64 kB
Anonymous:             0 kB
55d0a0010000-55d0a0020000 r--p 00010000 fd:01 123 /usr/bin/ephitup
Anonymous:            12 kB
55d0a0020000-55d0a0030000 rw-p 00020000 fd:01 123 /usr/bin/ephitup
Anonymous:             0 kB
55d0a1000000-55d0a1100000 rw-p 00000000 00:00 0 [heap]
Anonymous:           292 kB
7f0000000000-7f0000001000 r-xp 00000000 fd:01 456 /usr/lib/x86_64-linux-gnu/libc.so.6
VmFlags: rd ex mr mw me
7f0000002000-7f0000003000 r-xp 00000000 fd:01 456 /usr/lib/x86_64-linux-gnu/libc.so.6
Anonymous:             0 kB
";

    #[test]
    fn smaps_mappings() {
        let m = mappings(SMAPS);
        assert_eq!(m.len(), 6);
        assert_eq!(
            m[0],
            Mapping { start: 0x55d0a0000000, end: 0x55d0a0010000, writable: false, file: true, anonymous_kib: 0 }
        );
        assert_eq!(m[1].anonymous_kib, 12);
        assert!(m[2].writable && m[2].file);
        assert!(!m[3].file && m[3].writable);
        // No `Anonymous:` line: assumed to hold copies, never unmapped.
        assert_eq!(m[4].anonymous_kib, u64::MAX);
        assert!(!m[5].writable && m[5].anonymous_kib == 0);
    }

    /// Code and constants unmapped by a trim read back as they were: the process goes on.
    #[test]
    fn trim_keeps_the_process_working() {
        let text: Vec<String> = (0..1000).map(|i| format!("line {i}")).collect();
        let before = text.join("\n");
        let t = trim();
        assert!(t.paged_out > 0 && t.unmapped > 0, "{t:?}");
        assert_eq!(text.join("\n"), before);
        let t = trim();
        assert!(t.unmapped > 0);
    }
}
