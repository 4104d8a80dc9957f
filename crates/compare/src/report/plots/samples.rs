//! `samples.svg`: the first training images, as the assignment's first figure.

use std::path::Path;

use anyhow::Result;
use plotters::prelude::*;

use super::chart::plot_error;

/// `samples.svg`: the first nine training images in a 3×3 grid with their class names, as
/// the assignment's first figure.
pub fn sample_images(
    folder: &Path,
    train: &mnist::Dataset,
    classes: &[&str; contract::CLASSES],
) -> Result<()> {
    const SIDE: usize = 28;
    const SCALE: i32 = 6;
    const CELL: i32 = SIDE as i32 * SCALE + 36;
    let path = folder.join("samples.svg");
    let fail = || plot_error(&path);
    let root = SVGBackend::new(&path, (3 * CELL as u32, 3 * CELL as u32)).into_drawing_area();
    root.fill(&WHITE).map_err(fail())?;
    for index in 0..9.min(train.len()) {
        let (row, column) = (index as i32 / 3, index as i32 % 3);
        let (left, top) = (column * CELL + 18, row * CELL + 28);
        let label = format!("label: {}", classes[usize::from(train.labels[index])]);
        root.draw(&Text::new(label, (left, top - 22), ("sans-serif", 16)))
            .map_err(fail())?;
        // The background is white: only inked pixels become squares.
        for (pixel, &value) in train.images.row(index).iter().enumerate() {
            if value <= 0.0 {
                continue;
            }
            let (y, x) = ((pixel / SIDE) as i32, (pixel % SIDE) as i32);
            let shade = 255 - (value.clamp(0.0, 1.0) * 255.0).round() as u8;
            let corner = (left + x * SCALE, top + y * SCALE);
            let square = Rectangle::new(
                [corner, (corner.0 + SCALE, corner.1 + SCALE)],
                RGBColor(shade, shade, shade).filled(),
            );
            root.draw(&square).map_err(fail())?;
        }
    }
    root.present().map_err(fail())?;
    Ok(())
}
