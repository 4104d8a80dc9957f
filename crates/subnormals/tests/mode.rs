//! The mode as the arithmetic sees it: a product whose exact value is subnormal, computed on
//! the thread that set the mode and on a thread it starts afterwards.

use std::hint::black_box;

use subnormals::{current, set, Mode};

#[cfg(not(target_arch = "x86_64"))]
#[test]
fn elsewhere_flushing_is_refused_and_the_mode_unknown() {
    assert!(matches!(
        set(Mode::FlushToZero),
        Err(subnormals::Error::Unavailable { .. })
    ));
    assert_eq!(set(Mode::Keep), Ok(()));
    assert_eq!(current(), None);
    assert!(quarter_of_min_positive().is_subnormal());
}

/// `MIN_POSITIVE / 4`, exactly representable as a subnormal, computed at run time.
fn quarter_of_min_positive() -> f32 {
    black_box(f32::MIN_POSITIVE) * black_box(0.25)
}

#[cfg(target_arch = "x86_64")]
#[test]
fn flushing_turns_a_subnormal_product_into_zero_and_keeping_restores_it() {
    set(Mode::FlushToZero).expect("x86_64 can flush");
    assert_eq!(current(), Some(Mode::FlushToZero));
    assert_eq!(quarter_of_min_positive().to_bits(), 0);
    // DAZ: a subnormal operand (built from its bits, so no arithmetic made it) reads as 0.
    assert_eq!((black_box(f32::from_bits(1)) * black_box(2.0)).to_bits(), 0);

    set(Mode::Keep).expect("keeping is always possible");
    assert_eq!(current(), Some(Mode::Keep));
    let kept = quarter_of_min_positive();
    assert!(kept.is_subnormal(), "{kept:e}");
    assert_eq!((black_box(f32::from_bits(1)) * black_box(2.0)).to_bits(), 2);
}

#[cfg(target_arch = "x86_64")]
#[test]
fn a_thread_started_afterwards_inherits_the_mode() {
    for mode in [Mode::FlushToZero, Mode::Keep] {
        set(mode).expect("x86_64 has both modes");
        let (seen, product) = std::thread::spawn(|| (current(), quarter_of_min_positive()))
            .join()
            .expect("the thread ends");
        assert_eq!(seen, Some(mode));
        assert_eq!(product.is_subnormal(), mode == Mode::Keep, "{product:e}");
    }
}

#[test]
fn count_finds_exactly_the_subnormals() {
    let values = [
        0.0,
        -0.0,
        f32::MIN_POSITIVE,
        f32::from_bits(1),
        -f32::from_bits(0x007f_ffff),
        1.0,
        f32::NAN,
    ];
    assert_eq!(subnormals::count(&values), 2);
}
