//! Reading an enrollment code or otpauth:// URI from a QR image file.
//!
//! Desktops have no camera; the product lets the user open the portal's QR
//! code as an image instead. Only PNG and JPEG are decoded (the image crate
//! is built with just those two), and images are size-checked first.

use std::path::Path;

use crate::Result;
use crate::error::CliError;
use crate::i18n::{Lang, tr};

/// Images larger than this (in pixels per side) are refused.
const MAX_SIDE: u32 = 8192;

/// The text of the first QR code found in the image at `path`.
pub fn decode(lang: Lang, path: &Path) -> Result<String> {
    let p = path.display().to_string();
    let unreadable = || {
        CliError::usage(tr!(
            lang,
            "Das Bild {p} konnte nicht gelesen werden (nur PNG und JPEG).",
            "The image {p} could not be read (PNG and JPEG only)."
        ))
    };
    let reader = image::ImageReader::open(path)
        .map_err(|e| CliError::io(lang, path, &e))?
        .with_guessed_format()
        .map_err(|e| CliError::io(lang, path, &e))?;
    let (w, h) = reader.into_dimensions().map_err(|_| unreadable())?;
    if w > MAX_SIDE || h > MAX_SIDE {
        return Err(unreadable());
    }
    let img = image::open(path).map_err(|_| unreadable())?.to_luma8();
    let (w, h) = (img.width() as usize, img.height() as usize);
    let mut prepared = rqrr::PreparedImage::prepare_from_greyscale(w, h, |x, y| {
        img.get_pixel(x as u32, y as u32).0[0]
    });
    for grid in prepared.detect_grids() {
        if let Ok((_, text)) = grid.decode() {
            return Ok(text);
        }
    }
    Err(CliError::usage(tr!(
        lang,
        "Im Bild {p} wurde kein lesbarer QR-Code gefunden.",
        "No readable QR code was found in the image {p}."
    )))
}
