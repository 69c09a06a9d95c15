//! Reading an enrollment code or `otpauth://` URI from a QR image.
//!
//! Desktops have no camera; the user opens the portal's QR code as an image
//! file instead (the CLI's `--qr` does the same). Only PNG and JPEG are
//! decoded, and the size is checked before any pixel is decoded.

use std::io::Cursor;

use crate::error::IpcError;

/// Images larger than this (in pixels per side) are refused.
pub const MAX_SIDE: u32 = 8192;
/// Image files larger than this are refused (bytes).
pub const MAX_BYTES: usize = 16 * 1024 * 1024;

/// The text of the first readable QR code in a PNG or JPEG image.
pub fn decode(bytes: &[u8]) -> Result<String, IpcError> {
    let unreadable = || IpcError::invalid("imageUnreadable");
    if bytes.len() > MAX_BYTES {
        return Err(IpcError::invalid("tooLarge"));
    }
    let reader = image::ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|_| unreadable())?;
    let (w, h) = reader.into_dimensions().map_err(|_| unreadable())?;
    if w > MAX_SIDE || h > MAX_SIDE {
        return Err(IpcError::invalid("tooLarge"));
    }
    let img = image::load_from_memory(bytes)
        .map_err(|_| unreadable())?
        .to_luma8();
    let (w, h) = (img.width() as usize, img.height() as usize);
    let mut prepared = rqrr::PreparedImage::prepare_from_greyscale(w, h, |x, y| {
        // x < w and y < h, which came from u32 values.
        img.get_pixel(x as u32, y as u32).0[0]
    });
    prepared
        .detect_grids()
        .into_iter()
        .find_map(|g| g.decode().ok().map(|(_, text)| text))
        .ok_or_else(|| IpcError::invalid("noQrCode"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_and_blank_images_are_refused() {
        assert_eq!(
            decode(b"not an image").unwrap_err(),
            IpcError::invalid("imageUnreadable")
        );
        let mut png = Vec::new();
        image::GrayImage::from_pixel(64, 64, image::Luma([255]))
            .write_to(&mut Cursor::new(&mut png), image::ImageFormat::Png)
            .unwrap();
        assert_eq!(decode(&png).unwrap_err(), IpcError::invalid("noQrCode"));
    }
}
