//! `cgif/N`: reduce an animation's frames (the GIF encoder also reduces its colours).

use crate::model::Image;

/// How many frames `cgif/1` keeps.
pub const FIRST_FRAMES: usize = 30;

/// Reduce the frames of an animation; stills and short animations are unchanged.
///
/// `n == 1` keeps the first 30 frames. `n` in 2..=100 keeps `n` frames spread evenly over the
/// animation's duration; each kept frame shows until the next kept one starts, so the total
/// duration is unchanged.
pub fn apply(img: &mut Image, n: u8) {
    let n = usize::from(n);
    if n == 0 || !img.is_animated() {
        return;
    }
    if n == 1 {
        img.frames.truncate(FIRST_FRAMES);
        return;
    }
    let len = img.frames.len();
    if len <= n {
        return;
    }
    let starts: Vec<u64> = img
        .frames
        .iter()
        .scan(0u64, |t, f| {
            let s = *t;
            *t += u64::from(f.delay_ms);
            Some(s)
        })
        .collect();
    let total: u64 = img.frames.iter().map(|f| u64::from(f.delay_ms)).sum();
    let picks = pick(&starts, total, n);
    let mut kept = Vec::with_capacity(n);
    for (k, &i) in picks.iter().enumerate() {
        let end = picks.get(k + 1).map_or(total, |&next| starts[next]);
        if let Some(frame) = img.frames.get(i) {
            let mut frame = frame.clone();
            frame.delay_ms = u32::try_from(end.saturating_sub(starts[i])).unwrap_or(u32::MAX);
            kept.push(frame);
        }
    }
    img.frames = kept;
}

/// Indices of `n` distinct frames (n < frame count): the frame on screen at each of `n` evenly
/// spaced instants, nudged forward when two instants fall in one long frame.
fn pick(starts: &[u64], total: u64, n: usize) -> Vec<usize> {
    let len = starts.len();
    let mut picks: Vec<usize> = Vec::with_capacity(n);
    for k in 0..n {
        let on_screen = if total == 0 {
            k * len / n
        } else {
            let t = total * k as u64 / n as u64;
            starts.partition_point(|&s| s <= t).saturating_sub(1)
        };
        // Strictly after the previous pick, and leave room for the picks still to come.
        let lowest = picks.last().map_or(0, |&p| p + 1);
        let highest = len - (n - k);
        picks.push(on_screen.clamp(lowest, highest.max(lowest)));
    }
    picks
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Frame, ImageFormat, Metadata, SourceInfo};
    use image::{DynamicImage, RgbImage};

    fn anim(delays: &[u32]) -> Image {
        Image {
            frames: delays
                .iter()
                .map(|&d| Frame {
                    image: DynamicImage::ImageRgb8(RgbImage::new(1, 1)),
                    delay_ms: d,
                })
                .collect(),
            width: 1,
            height: 1,
            loop_count: 0,
            metadata: Metadata::default(),
            source: SourceInfo {
                format: ImageFormat::Gif,
                quality: None,
                lossless: true,
                palette: true,
                has_alpha: false,
                bit_depth: 8,
            },
        }
    }

    #[test]
    fn picks_are_distinct_increasing_and_start_at_the_first_frame() {
        let starts: Vec<u64> = (0..10).map(|i| i * 10).collect();
        assert_eq!(pick(&starts, 100, 5), vec![0, 2, 4, 6, 8]);
        // One long frame holding most of the time still yields n distinct frames.
        let starts = vec![0, 1000, 1010, 1020, 1030];
        let p = pick(&starts, 1040, 3);
        assert_eq!(p.len(), 3);
        assert!(p.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(p[0], 0);
    }

    #[test]
    fn zero_delays_spread_by_index() {
        let mut img = anim(&[0; 9]);
        apply(&mut img, 3);
        assert_eq!(img.frames.len(), 3);
        assert!(img.frames.iter().all(|f| f.delay_ms == 0));
    }
}
