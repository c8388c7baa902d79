//! Gives back the pages that start-up touched and idling does not need. A supervisor stays
//! resident for the life of the container, and most of its resident memory is code read in
//! once (command line, TOML and configuration checks, the first spawns: three quarters of the
//! binary's text, and of libc's); idle, it runs a few pages of its event loop. Once the set
//! has started, the file-backed mappings are advised out (`MADV_PAGEOUT`, Linux 5.4+): the
//! kernel drops the clean pages, and any that are needed again are faulted back in from the
//! page cache. Anonymous memory (the heap) is left alone.

/// Advises every file-backed mapping of this process out; returns how many were advised.
/// Best effort: a kernel without `MADV_PAGEOUT` refuses, and nothing changes.
#[cfg(target_os = "linux")]
pub fn page_out_file_mappings() -> usize {
    let Ok(maps) = std::fs::read_to_string("/proc/self/maps") else { return 0 };
    let mut advised = 0;
    for line in maps.lines() {
        // start-end perms offset dev inode path
        let fields: Vec<&str> = line.split_whitespace().collect();
        let (Some(range), Some(path)) = (fields.first(), fields.get(5)) else { continue };
        if !path.starts_with('/') {
            continue; // [heap], [stack], [vdso], anonymous
        }
        let Some((start, end)) = range.split_once('-') else { continue };
        let (Ok(start), Ok(end)) = (usize::from_str_radix(start, 16), usize::from_str_radix(end, 16)) else {
            continue;
        };
        // SAFETY: advice on a whole mapping of our own address space, taken from
        // /proc/self/maps; MADV_PAGEOUT only drops pages the kernel can read back.
        let rc = unsafe { libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_PAGEOUT) };
        if rc == 0 {
            advised += 1;
        }
    }
    advised
}

#[cfg(not(target_os = "linux"))]
pub fn page_out_file_mappings() -> usize {
    0
}
