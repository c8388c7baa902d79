//! Joins MP3 clips (one per dialogue line) into one file that browsers play: MPEG audio is a
//! sequence of self-contained frames, so clips of the same format concatenate once their
//! containers' extras are removed — an ID3v2 tag in front, an ID3v1 tag at the end, and a
//! Xing/Info/VBRI header frame (whose frame count would describe only its own clip).

use anyhow::{bail, ensure};

/// One MPEG audio frame header, as far as joining needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Header {
    /// MPEG-1 (true) or MPEG-2/2.5.
    mpeg1: bool,
    mono: bool,
    crc: bool,
    length: usize,
}

/// Layer III bitrates in kbit/s by index, MPEG-1 and MPEG-2/2.5.
const BITRATES_V1: [u32; 15] = [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320];
const BITRATES_V2: [u32; 15] = [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160];

fn header(bytes: &[u8]) -> Option<Header> {
    let b = bytes.get(..4)?;
    if b[0] != 0xFF || b[1] & 0xE0 != 0xE0 {
        return None;
    }
    let version = (b[1] >> 3) & 0b11; // 0: 2.5, 2: 2, 3: 1
    let layer = (b[1] >> 1) & 0b11; // 1: layer III
    let bitrate_index = (b[2] >> 4) as usize;
    let rate_index = ((b[2] >> 2) & 0b11) as usize;
    if version == 1 || layer != 1 || bitrate_index == 0 || bitrate_index == 15 || rate_index == 3 {
        return None;
    }
    let mpeg1 = version == 3;
    let base_rate = [44_100u32, 48_000, 32_000][rate_index];
    let sample_rate = match version {
        3 => base_rate,
        2 => base_rate / 2,
        _ => base_rate / 4,
    };
    let bitrate = if mpeg1 { BITRATES_V1[bitrate_index] } else { BITRATES_V2[bitrate_index] } * 1000;
    let padding = ((b[2] >> 1) & 1) as usize;
    let coefficient = if mpeg1 { 144 } else { 72 };
    let length = (coefficient * bitrate / sample_rate) as usize + padding;
    Some(Header { mpeg1, mono: b[3] >> 6 == 0b11, crc: b[1] & 1 == 0, length })
}

/// The clip's audio frames: without tags and without a leading Xing/Info/VBRI frame.
pub fn frames_of(clip: &[u8]) -> anyhow::Result<&[u8]> {
    let mut data = clip;
    if data.len() >= 10 && &data[..3] == b"ID3" {
        let size = data[6..10].iter().fold(0usize, |acc, b| (acc << 7) | (*b as usize & 0x7F));
        let footer = if data[5] & 0x10 != 0 { 10 } else { 0 };
        let end = 10 + size + footer;
        ensure!(end <= data.len(), "a truncated ID3 tag");
        data = &data[end..];
    }
    if data.len() >= 128 && &data[data.len() - 128..data.len() - 125] == b"TAG" {
        data = &data[..data.len() - 128];
    }
    // Some encoders pad between the tag and the first frame.
    let start = data.iter().position(|b| *b != 0).unwrap_or(data.len());
    data = &data[start..];
    let Some(first) = header(data) else {
        bail!("not MP3 audio (no MPEG Layer III frame at the start)");
    };
    let side_info = match (first.mpeg1, first.mono) {
        (true, false) => 32,
        (true, true) => 17,
        (false, false) => 17,
        (false, true) => 9,
    };
    let tag_at = 4 + if first.crc { 2 } else { 0 } + side_info;
    let is_info = |at: usize, tags: &[&[u8]]| data.get(at..at + 4).is_some_and(|t| tags.contains(&t));
    if (is_info(tag_at, &[b"Xing", b"Info"]) || is_info(36, &[b"VBRI"])) && first.length <= data.len() {
        data = &data[first.length..];
    }
    Ok(data)
}

/// The clips joined into one MP3 stream.
pub fn join<B: AsRef<[u8]>>(clips: &[B]) -> anyhow::Result<Vec<u8>> {
    let mut out = Vec::with_capacity(clips.iter().map(|c| c.as_ref().len()).sum());
    for (i, clip) in clips.iter().enumerate() {
        let frames = frames_of(clip.as_ref()).map_err(|e| anyhow::anyhow!("audio clip {}: {e}", i + 1))?;
        out.extend_from_slice(frames);
    }
    ensure!(!out.is_empty(), "no audio to join");
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame() -> Vec<u8> {
        let mut f = vec![0u8; 417];
        f[..4].copy_from_slice(&[0xFF, 0xFB, 0x90, 0x64]);
        f
    }

    #[test]
    fn a_128k_frame_is_417_bytes() {
        assert_eq!(header(&frame()).map(|h| h.length), Some(417));
        assert_eq!(header(b"ID3\x04"), None);
    }

    #[test]
    fn tags_and_info_frames_are_removed() {
        let mut info = frame();
        info[36..40].copy_from_slice(b"Info");
        let mut clip = b"ID3\x04\x00\x00\x00\x00\x00\x02\x00\x00".to_vec();
        clip.extend(info);
        clip.extend(frame());
        clip.extend(frame());
        let mut tag = b"TAG".to_vec();
        tag.resize(128, b' ');
        clip.extend(tag);
        assert_eq!(frames_of(&clip).unwrap().len(), 2 * 417);
        let joined = join(&[clip.clone(), clip]).unwrap();
        assert_eq!(joined.len(), 4 * 417);
        assert!(join(&[b"<html>nope</html>".to_vec()]).is_err());
    }
}
