//! The hot loop of the log relay: find every newline in a read and copy each line behind its
//! prefix. Newlines are found eight bytes at a time with a word-wide compare (exact, no false
//! matches), which for the short lines typical of logs costs far less than one search call
//! per line; short lines and prefixes are copied as fixed 16-byte blocks into room reserved
//! in advance, instead of one `memcpy` call each.

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGH: u64 = 0x8080_8080_8080_8080;
const LOW: u64 = 0x7f7f_7f7f_7f7f_7f7f;
const NEWLINES: u64 = ONES * b'\n' as u64;
/// Block size of the small copies, and the spare room they need past the data.
const BLOCK: usize = 16;

/// High bit set in each byte of `word` that is a newline, exactly.
#[inline(always)]
fn newline_bits(word: &[u8]) -> u64 {
    let mut buf = [0u8; 8];
    buf.copy_from_slice(word);
    let x = u64::from_le_bytes(buf) ^ NEWLINES;
    !(((x & LOW) + LOW) | x) & HIGH
}

/// Number of newlines in `bytes`.
pub fn count_newlines(bytes: &[u8]) -> usize {
    let mut words = bytes.chunks_exact(8);
    let mut n: usize = (&mut words).map(|w| newline_bits(w).count_ones() as usize).sum();
    n += words.remainder().iter().filter(|b| **b == b'\n').count();
    n
}

/// Appends every line of `lines` (which must end with a newline) to `out`, each behind
/// `prefix`, newline included. A line longer than `max_line` goes to `long` instead (without
/// its newline), which appends whatever it likes to `out`.
pub fn prefix_lines(
    out: &mut Vec<u8>,
    prefix: &[u8],
    lines: &[u8],
    max_line: usize,
    mut long: impl FnMut(&mut Vec<u8>, &[u8]),
) {
    let plen = prefix.len();
    let mut pblock = [0u8; BLOCK];
    let short_prefix = plen <= BLOCK;
    if short_prefix {
        pblock[..plen].copy_from_slice(prefix);
    }
    let need = |rest: usize, lines_left: usize| rest + lines_left * plen + BLOCK;
    out.reserve(need(lines.len(), count_newlines(lines)));
    for_each_line(lines, |start, end| {
        let len = end + 1 - start;
        if len > max_line + 1 {
            long(out, &lines[start..end]);
            out.reserve(need(lines.len() - end - 1, count_newlines(&lines[end + 1..])));
            return;
        }
        let at = out.len();
        debug_assert!(out.capacity() - at >= plen + len + BLOCK);
        // SAFETY: room for prefix + line + BLOCK bytes was reserved above (and after every
        // `long` call), so every write, including a whole block past the data, stays within
        // the allocation; every source read stays within `pblock`, `prefix` or `lines`; the
        // new length covers only bytes just written.
        unsafe {
            let dst = out.as_mut_ptr().add(at);
            if short_prefix {
                std::ptr::copy_nonoverlapping(pblock.as_ptr(), dst, BLOCK);
            } else {
                std::ptr::copy_nonoverlapping(prefix.as_ptr(), dst, plen);
            }
            let dst = dst.add(plen);
            if len <= BLOCK && start + BLOCK <= lines.len() {
                std::ptr::copy_nonoverlapping(lines.as_ptr().add(start), dst, BLOCK);
            } else {
                std::ptr::copy_nonoverlapping(lines.as_ptr().add(start), dst, len);
            }
            out.set_len(at + plen + len);
        }
    });
}

/// Calls `line(start, end)` for every line of `bytes` ending in `\n`, `end` being the index of
/// the newline. Returns the index just past the last newline (0 when there is none).
#[inline]
pub fn for_each_line(bytes: &[u8], mut line: impl FnMut(usize, usize)) -> usize {
    let mut start = 0;
    let mut base = 0;
    let mut words = bytes.chunks_exact(8);
    for word in &mut words {
        let mut found = newline_bits(word);
        while found != 0 {
            let end = base + (found.trailing_zeros() / 8) as usize;
            line(start, end);
            start = end + 1;
            found &= found - 1;
        }
        base += 8;
    }
    for (i, &b) in words.remainder().iter().enumerate() {
        if b == b'\n' {
            line(start, base + i);
            start = base + i + 1;
        }
    }
    start
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(bytes: &[u8]) -> (Vec<(usize, usize)>, usize) {
        let mut out = Vec::new();
        let mut start = 0;
        for (i, &b) in bytes.iter().enumerate() {
            if b == b'\n' {
                out.push((start, i));
                start = i + 1;
            }
        }
        (out, start)
    }

    fn naive_prefix(prefix: &[u8], lines: &[u8], max_line: usize) -> Vec<u8> {
        let mut out = Vec::new();
        for line in lines.split_inclusive(|b| *b == b'\n') {
            if line.len() > max_line + 1 {
                out.extend_from_slice(b"<long>");
                out.extend_from_slice(&line[..line.len() - 1]);
            } else {
                out.extend_from_slice(prefix);
                out.extend_from_slice(line);
            }
        }
        out
    }

    #[test]
    fn prefixes_every_line_like_the_obvious_loop() {
        let mut rng = fastrand::Rng::with_seed(11);
        for prefix in [&b""[..], b"db | ", b"a-rather-long-service-name | "] {
            for _ in 0..2000 {
                let mut lines = Vec::new();
                for _ in 0..rng.usize(0..40) {
                    let len = *rng.choice(&[0usize, 1, 7, 15, 16, 17, 40, 300]).unwrap_or(&3);
                    lines.extend((0..len).map(|_| rng.u8(b'a'..=b'z')));
                    lines.push(b'\n');
                }
                let mut out = b"before".to_vec();
                prefix_lines(&mut out, prefix, &lines, 64, |out, line| {
                    out.extend_from_slice(b"<long>");
                    out.extend_from_slice(line);
                });
                let mut expected = b"before".to_vec();
                expected.extend(naive_prefix(prefix, &lines, 64));
                assert_eq!(out, expected);
                assert_eq!(count_newlines(&lines), lines.iter().filter(|b| **b == b'\n').count());
            }
        }
    }

    #[test]
    fn finds_exactly_the_newlines_of_any_input() {
        let mut rng = fastrand::Rng::with_seed(7);
        for len in 0..300 {
            for _ in 0..20 {
                // Bytes near '\n' (0x0a) and 0x8a/0x80 are the ones word tricks get wrong.
                let bytes: Vec<u8> = (0..len)
                    .map(|_| {
                        *rng.choice(&[b'\n', b'\n', 0x0b, 0x09, 0x8a, 0x80, 0xff, 0x00, b'a', b'\r']).unwrap_or(&b'a')
                    })
                    .collect();
                let mut found = Vec::new();
                let end = for_each_line(&bytes, |s, e| found.push((s, e)));
                assert_eq!((found, end), naive(&bytes), "{bytes:?}");
            }
        }
    }
}
