//! The tray icon, drawn in code: an envelope whose colour says how things are ([`Look`]) and
//! the total unread count drawn on it (1–99, then "99+").
//!
//! Drawn rather than loaded from files so the count is part of the image (most tray hosts
//! show no text next to an icon) and nothing has to be installed for it. Pure: sizes and counts
//! in, RGBA pixels out.

use crate::model::Look;

/// The sizes handed to the tray host; it picks the nearest and scales.
pub const TRAY_SIZES: [u32; 3] = [22, 32, 48];

/// An RGBA image, rows top to bottom, 4 bytes per pixel, not premultiplied.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Image {
    pub width: u32,
    pub height: u32,
    pub rgba: Vec<u8>,
}

type Rgba = [u8; 4];

const TRANSPARENT: Rgba = [0, 0, 0, 0];
const WHITE: Rgba = [255, 255, 255, 255];
/// The badge's red (Material red 600): readable white digits, distinct from every envelope.
pub const BADGE_RED: Rgba = [229, 57, 53, 255];
/// The badge while paused: the count is still true, but nothing will pop up.
pub const BADGE_GREY: Rgba = [97, 97, 97, 255];

/// Envelope fill and outline for a look.
pub fn envelope_colors(look: Look) -> (Rgba, Rgba) {
    match look {
        Look::Idle => ([236, 239, 241, 255], [120, 144, 156, 255]),
        Look::Unread => ([30, 136, 229, 255], [13, 71, 161, 255]),
        Look::Attention => ([251, 140, 0, 255], [191, 54, 12, 255]),
        Look::Paused => ([189, 189, 189, 255], [97, 97, 97, 255]),
    }
}

/// The text drawn on the badge: `None` for 0, "1" to "99", then "99+".
pub fn badge_text(unread: u32) -> Option<String> {
    match unread {
        0 => None,
        1..=99 => Some(unread.to_string()),
        _ => Some("99+".to_owned()),
    }
}

/// A 3×5 pixel font: each row is 3 bits, most significant bit on the left.
pub fn glyph(c: char) -> Option<[u8; 5]> {
    Some(match c {
        '0' => [0b111, 0b101, 0b101, 0b101, 0b111],
        '1' => [0b010, 0b110, 0b010, 0b010, 0b111],
        '2' => [0b111, 0b001, 0b111, 0b100, 0b111],
        '3' => [0b111, 0b001, 0b011, 0b001, 0b111],
        '4' => [0b101, 0b101, 0b111, 0b001, 0b001],
        '5' => [0b111, 0b100, 0b111, 0b001, 0b111],
        '6' => [0b111, 0b100, 0b111, 0b101, 0b111],
        '7' => [0b111, 0b001, 0b010, 0b010, 0b010],
        '8' => [0b111, 0b101, 0b111, 0b101, 0b111],
        '9' => [0b111, 0b101, 0b111, 0b001, 0b111],
        '+' => [0b000, 0b010, 0b111, 0b010, 0b000],
        '!' => [0b010, 0b010, 0b010, 0b000, 0b010],
        _ => return None,
    })
}

struct Canvas {
    size: u32,
    px: Vec<Rgba>,
}

impl Canvas {
    fn new(size: u32) -> Canvas {
        Canvas {
            size,
            px: vec![TRANSPARENT; (size * size) as usize],
        }
    }

    fn put(&mut self, x: i64, y: i64, color: Rgba) {
        let s = i64::from(self.size);
        if (0..s).contains(&x) && (0..s).contains(&y) {
            self.px[(y * s + x) as usize] = color;
        }
    }

    /// Fills every pixel whose centre lies inside the rounded rectangle (in pixels).
    fn round_rect(&mut self, x0: f32, y0: f32, x1: f32, y1: f32, r: f32, color: Rgba) {
        let r = r.min((x1 - x0) / 2.0).min((y1 - y0) / 2.0).max(0.0);
        for y in y0.floor() as i64..y1.ceil() as i64 {
            for x in x0.floor() as i64..x1.ceil() as i64 {
                let (cx, cy) = (x as f32 + 0.5, y as f32 + 0.5);
                if cx < x0 || cx > x1 || cy < y0 || cy > y1 {
                    continue;
                }
                let dx = (x0 + r - cx).max(cx - (x1 - r)).max(0.0);
                let dy = (y0 + r - cy).max(cy - (y1 - r)).max(0.0);
                if dx * dx + dy * dy <= r * r {
                    self.put(x, y, color);
                }
            }
        }
    }

    /// A line of width `w` from (ax, ay) to (bx, by).
    fn line(&mut self, (ax, ay): (f32, f32), (bx, by): (f32, f32), w: f32, color: Rgba) {
        let (dx, dy) = (bx - ax, by - ay);
        let len2 = dx * dx + dy * dy;
        let s = self.size as f32;
        for y in 0..self.size {
            for x in 0..self.size {
                let (px, py) = (x as f32 + 0.5, y as f32 + 0.5);
                let t = if len2 == 0.0 {
                    0.0
                } else {
                    (((px - ax) * dx + (py - ay) * dy) / len2).clamp(0.0, 1.0)
                };
                let (qx, qy) = (ax + t * dx - px, ay + t * dy - py);
                if qx * qx + qy * qy <= (w / 2.0) * (w / 2.0) && px < s && py < s {
                    self.put(i64::from(x), i64::from(y), color);
                }
            }
        }
    }

    /// Draws `text` with the 3×5 font at `scale`, top-left at (x, y).
    fn text(&mut self, text: &str, x: i64, y: i64, scale: i64, color: Rgba) {
        let mut cx = x;
        for c in text.chars() {
            if let Some(rows) = glyph(c) {
                for (row, bits) in rows.iter().enumerate() {
                    for col in 0..3 {
                        if bits & (0b100 >> col) != 0 {
                            for sy in 0..scale {
                                for sx in 0..scale {
                                    self.put(
                                        cx + col * scale + sx,
                                        y + row as i64 * scale + sy,
                                        color,
                                    );
                                }
                            }
                        }
                    }
                }
            }
            cx += 4 * scale;
        }
    }

    fn into_image(self) -> Image {
        Image {
            width: self.size,
            height: self.size,
            rgba: self.px.into_iter().flatten().collect(),
        }
    }
}

/// Width in pixels of `text` in the 3×5 font at `scale` (glyphs 3 wide, 1 apart).
fn text_width(text: &str, scale: i64) -> i64 {
    let n = text.chars().count() as i64;
    if n == 0 { 0 } else { (4 * n - 1) * scale }
}

/// Where the count badge sits and how big its digits are, for `size` and `text`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BadgeBox {
    pub x0: i64,
    pub y0: i64,
    pub x1: i64,
    pub y1: i64,
    pub scale: i64,
}

/// The badge: a pill in the top-right corner, as tall as half the icon, as wide as its text
/// needs (never wider than the icon); the digit scale is the largest that fits.
pub fn badge_box(size: u32, text: &str) -> BadgeBox {
    let s = i64::from(size);
    let height = (s / 2).max(7);
    let pad = (s / 16).max(1);
    let mut scale = ((height - 2 * pad) / 5).max(1);
    while scale > 1 && text_width(text, scale) + 2 * pad + 2 > s {
        scale -= 1;
    }
    let width = (text_width(text, scale) + 2 * pad + 2).max(height).min(s);
    BadgeBox {
        x0: s - width,
        y0: 0,
        x1: s,
        y1: height,
        scale,
    }
}

/// Top-left pixel of the badge text: centred in the pill.
pub fn text_origin(b: &BadgeBox, text: &str) -> (i64, i64) {
    let tw = text_width(text, b.scale);
    (
        b.x0 + ((b.x1 - b.x0) - tw + 1) / 2,
        b.y0 + ((b.y1 - b.y0) - 5 * b.scale + 1) / 2,
    )
}

/// Draws the icon for `look` with `unread` on it, `size` pixels square.
pub fn render(look: Look, unread: u32, size: u32) -> Image {
    let size = size.max(8);
    let mut c = Canvas::new(size);
    let u = size as f32 / 32.0;
    let (fill, outline) = envelope_colors(look);
    // The envelope: outline, body, flap.
    let (x0, y0, x1, y1) = (2.0 * u, 9.0 * u, 30.0 * u, 28.0 * u);
    c.round_rect(x0, y0, x1, y1, 2.5 * u, outline);
    let border = (1.5 * u).max(1.0);
    c.round_rect(
        x0 + border,
        y0 + border,
        x1 - border,
        y1 - border,
        1.5 * u,
        fill,
    );
    let flap = if look == Look::Idle { outline } else { WHITE };
    let w = (1.6 * u).max(1.0);
    c.line((x0 + border, y0 + border), (16.0 * u, 19.5 * u), w, flap);
    c.line((x1 - border, y0 + border), (16.0 * u, 19.5 * u), w, flap);

    match look {
        Look::Paused => {
            // Two bars in the lower left.
            let (bx, by, bh, bw) = (4.0 * u, 18.0 * u, 8.0 * u, 2.5 * u);
            c.round_rect(
                bx - u,
                by - u,
                bx + 2.0 * bw + 2.0 * u,
                by + bh + u,
                u,
                WHITE,
            );
            c.round_rect(bx, by, bx + bw, by + bh, 0.0, BADGE_GREY);
            c.round_rect(bx + bw + u, by, bx + 2.0 * bw + u, by + bh, 0.0, BADGE_GREY);
        }
        Look::Attention => {
            // A "!" in a dark disc, lower left.
            let (cx, cy, r) = (8.0 * u, 22.0 * u, 5.5 * u);
            c.round_rect(cx - r, cy - r, cx + r, cy + r, r, outline);
            let scale = ((2.0 * r - 2.0) / 5.0).floor().max(1.0) as i64;
            let gx = (cx - 1.5 * scale as f32).round() as i64;
            let gy = (cy - 2.5 * scale as f32).round() as i64;
            c.text("!", gx, gy, scale, WHITE);
        }
        Look::Unread | Look::Idle => {}
    }

    if let Some(text) = badge_text(unread) {
        let b = badge_box(size, &text);
        let color = if look == Look::Paused {
            BADGE_GREY
        } else {
            BADGE_RED
        };
        // A white rim keeps the badge readable on any envelope colour.
        c.round_rect(
            b.x0 as f32,
            b.y0 as f32,
            b.x1 as f32,
            b.y1 as f32,
            (b.y1 - b.y0) as f32 / 2.0,
            WHITE,
        );
        c.round_rect(
            b.x0 as f32 + 1.0,
            b.y0 as f32 + 1.0,
            b.x1 as f32 - 1.0,
            b.y1 as f32 - 1.0,
            (b.y1 - b.y0 - 2) as f32 / 2.0,
            color,
        );
        let (tx, ty) = text_origin(&b, &text);
        c.text(&text, tx, ty, b.scale, WHITE);
    }
    c.into_image()
}

impl Image {
    /// ARGB32 in network byte order, what StatusNotifierItem's `IconPixmap` carries.
    pub fn to_argb32(&self) -> Vec<u8> {
        self.rgba
            .chunks_exact(4)
            .flat_map(|p| [p[3], p[0], p[1], p[2]])
            .collect()
    }

    #[cfg(test)]
    pub fn pixel(&self, x: u32, y: u32) -> [u8; 4] {
        let i = ((y * self.width + x) * 4) as usize;
        [
            self.rgba[i],
            self.rgba[i + 1],
            self.rgba[i + 2],
            self.rgba[i + 3],
        ]
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    const LOOKS: [Look; 4] = [Look::Idle, Look::Unread, Look::Attention, Look::Paused];

    /// Reads the digits back from the pixels: every cell of the 3×5 grid at the text's
    /// position must be all white (ink) or all badge colour (no ink), and the ink pattern of
    /// each glyph must be a glyph of the font.
    fn read_badge(img: &Image, len: usize, background: Rgba) -> String {
        let b = badge_box(img.width, &"9".repeat(len));
        let (tx, ty) = text_origin(&b, &"9".repeat(len));
        let s = b.scale;
        let mut out = String::new();
        for g in 0..len as i64 {
            let mut rows = [0u8; 5];
            for (row, bits) in rows.iter_mut().enumerate() {
                for col in 0..3 {
                    let cell: Vec<Rgba> = (0..s)
                        .flat_map(|dy| (0..s).map(move |dx| (dx, dy)))
                        .map(|(dx, dy)| {
                            let x = tx + g * 4 * s + col * s + dx;
                            let y = ty + row as i64 * s + dy;
                            img.pixel(x as u32, y as u32)
                        })
                        .collect();
                    if cell.iter().all(|p| *p == WHITE) {
                        *bits |= 0b100 >> col;
                    } else {
                        assert!(cell.iter().all(|p| *p == background), "mixed cell {cell:?}");
                    }
                }
            }
            let c = "0123456789+"
                .chars()
                .find(|c| glyph(*c) == Some(rows))
                .unwrap_or('?');
            out.push(c);
        }
        out
    }

    #[test]
    fn badge_text_caps_at_99_plus() {
        assert_eq!(badge_text(0), None);
        assert_eq!(badge_text(1).as_deref(), Some("1"));
        assert_eq!(badge_text(99).as_deref(), Some("99"));
        assert_eq!(badge_text(100).as_deref(), Some("99+"));
        assert_eq!(badge_text(u32::MAX).as_deref(), Some("99+"));
    }

    #[test]
    fn the_count_can_be_read_back_from_the_pixels() {
        for size in [22, 32, 48, 64] {
            for (n, text) in [
                (1, "1"),
                (7, "7"),
                (42, "42"),
                (99, "99"),
                (100, "99+"),
                (5000, "99+"),
            ] {
                for look in LOOKS {
                    let img = render(look, n, size);
                    let bg = if look == Look::Paused {
                        BADGE_GREY
                    } else {
                        BADGE_RED
                    };
                    assert_eq!(
                        read_badge(&img, text.len(), bg),
                        text,
                        "{look:?} {n} at {size}px"
                    );
                }
            }
        }
    }

    #[test]
    fn the_badge_fits_the_icon() {
        for size in [16, 22, 32, 48] {
            for text in ["1", "99", "99+"] {
                let b = badge_box(size, text);
                assert!(b.x0 >= 0 && b.x1 <= i64::from(size), "{size} {text} {b:?}");
                assert!(b.scale >= 1);
            }
        }
        // Big enough to read: 2× digits from 32 px up for one or two digits.
        assert_eq!(badge_box(32, "9").scale, 2);
        assert_eq!(badge_box(48, "99").scale, 3);
    }

    #[test]
    fn no_badge_without_unread_mail() {
        for look in LOOKS {
            let img = render(look, 0, 32);
            assert!(
                !img.rgba.chunks_exact(4).any(|p| p == BADGE_RED),
                "{look:?} has a red badge"
            );
        }
        let img = render(Look::Unread, 3, 32);
        assert!(img.rgba.chunks_exact(4).any(|p| p == BADGE_RED));
        // Paused: the count stays, in grey.
        let img = render(Look::Paused, 3, 32);
        assert!(!img.rgba.chunks_exact(4).any(|p| p == BADGE_RED));
        assert_eq!(read_badge(&img, 1, BADGE_GREY), "3");
    }

    #[test]
    fn each_look_is_distinct() {
        let images: Vec<Image> = LOOKS.iter().map(|l| render(*l, 0, 32)).collect();
        for i in 0..images.len() {
            for j in i + 1..images.len() {
                assert_ne!(images[i], images[j], "{:?} vs {:?}", LOOKS[i], LOOKS[j]);
            }
        }
        // The envelope's colour is the look's colour (a pixel of the body, off the flap).
        for look in LOOKS {
            let img = render(look, 0, 32);
            assert_eq!(img.pixel(16, 26), envelope_colors(look).0, "{look:?}");
        }
        // Counts change the picture, capped ones do not.
        assert_ne!(render(Look::Unread, 5, 32), render(Look::Unread, 8, 32));
        assert_eq!(
            render(Look::Unread, 100, 32),
            render(Look::Unread, 5000, 32)
        );
    }

    #[test]
    fn argb_conversion() {
        let img = Image {
            width: 1,
            height: 1,
            rgba: vec![1, 2, 3, 4],
        };
        assert_eq!(img.to_argb32(), [4, 1, 2, 3]);
        let img = render(Look::Unread, 1, 22);
        assert_eq!(img.rgba.len(), 22 * 22 * 4);
    }
}
