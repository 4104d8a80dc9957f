//! The floating-point types the network is generic over: `f32` for training, `f64` for the
//! gradient checks, with one implementation of the logic for both.

use std::fmt::Debug;
use std::iter::Sum;
use std::ops::{Add, AddAssign, Div, Mul, MulAssign, Neg, Sub, SubAssign};

use crate::kernels::Kernels;

/// A float the network computes in.
pub trait Real:
    Copy
    + Debug
    + Default
    + PartialOrd
    + Send
    + Sync
    + 'static
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Div<Output = Self>
    + Neg<Output = Self>
    + AddAssign
    + SubAssign
    + MulAssign
    + Sum
{
    const ZERO: Self;
    const ONE: Self;
    fn from_f32(x: f32) -> Self;
    fn from_f64(x: f64) -> Self;
    fn to_f32(self) -> f32;
    fn to_f64(self) -> f64;
    fn exp(self) -> Self;
    fn ln(self) -> Self;
    fn sqrt(self) -> Self;
    fn tanh(self) -> Self;
    fn max(self, other: Self) -> Self;
    /// Hand-vectorised kernels for this type on this machine, if there are any; the portable
    /// kernels are used otherwise.
    fn accelerated() -> Option<&'static dyn Kernels<Self>>;
}

macro_rules! real {
    ($t:ty) => {
        const ZERO: Self = 0.0;
        const ONE: Self = 1.0;
        fn from_f32(x: f32) -> Self {
            x as $t
        }
        fn from_f64(x: f64) -> Self {
            x as $t
        }
        fn to_f32(self) -> f32 {
            self as f32
        }
        fn to_f64(self) -> f64 {
            self as f64
        }
        fn exp(self) -> Self {
            <$t>::exp(self)
        }
        fn ln(self) -> Self {
            <$t>::ln(self)
        }
        fn sqrt(self) -> Self {
            <$t>::sqrt(self)
        }
        fn tanh(self) -> Self {
            <$t>::tanh(self)
        }
        fn max(self, other: Self) -> Self {
            <$t>::max(self, other)
        }
    };
}

impl Real for f32 {
    real!(f32);
    fn accelerated() -> Option<&'static dyn Kernels<Self>> {
        crate::kernels::accelerated_f32()
    }
}

impl Real for f64 {
    real!(f64);
    fn accelerated() -> Option<&'static dyn Kernels<Self>> {
        None
    }
}
