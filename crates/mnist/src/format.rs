//! What an MNIST-format file holds: 28 × 28 images (the models' [`INPUT_SIZE`] pixels) and
//! labels, told apart by their IDX magic numbers.

use contract::INPUT_SIZE;

/// Magic number of an images file: unsigned bytes (0x08), three dimensions.
pub const IMAGES_MAGIC: u32 = 0x0803;
/// Magic number of a labels file: unsigned bytes (0x08), one dimension.
pub const LABELS_MAGIC: u32 = 0x0801;
/// Image height and width.
pub const ROWS: u32 = 28;
pub const COLS: u32 = 28;

const _: () = assert!((ROWS * COLS) as usize == INPUT_SIZE);

/// What a file that starts with `magic` is, for error messages.
pub fn describe_magic(magic: u32) -> &'static str {
    match magic {
        IMAGES_MAGIC => "an IDX images file",
        LABELS_MAGIC => "an IDX labels file",
        _ => "not an IDX file of 28×28 images or labels",
    }
}
