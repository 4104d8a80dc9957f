//! The vector type the `f32` kernels are written over ([`Vector`], implemented by `avx2.rs`
//! with 8 lanes and by `avx512.rs` with 16), the lanes of a partial vector, and the
//! element-wise functions built on it (activations, their derivatives, `exp`, `expm1`): the
//! leaf that the tiled kernels (`simd.rs`) and the narrow ones (`narrow.rs`) share.

use contract::Activation;

/// A vector of `f32` lanes and the operations the kernels need.
///
/// # Safety
/// Every method needs the instruction set of its implementation; they may only be called
/// from inside that set's `#[target_feature]` entry points, which exist only on CPUs that
/// have it. Loads and stores also need their lanes of memory to be valid.
pub(super) trait Vector: Copy {
    /// Lanes of a vector.
    const LANES: usize;
    /// Which lanes a masked load or store touches.
    type Mask: Copy;

    /// A mask of the first `min(lanes, LANES)` lanes.
    unsafe fn first(lanes: usize) -> Self::Mask;
    unsafe fn zero() -> Self;
    unsafe fn splat(x: f32) -> Self;
    unsafe fn load(p: *const f32) -> Self;
    /// The masked lanes from `p`, zeros in the others.
    unsafe fn load_masked(p: *const f32, mask: Self::Mask) -> Self;
    unsafe fn store(self, p: *mut f32);
    unsafe fn store_masked(self, p: *mut f32, mask: Self::Mask);
    /// `a·b + self`, rounded once.
    unsafe fn mul_add(self, a: Self, b: Self) -> Self;
    /// `self − a·b`, rounded once.
    unsafe fn mul_sub_from(self, a: Self, b: Self) -> Self;
    unsafe fn add(self, b: Self) -> Self;
    unsafe fn sub(self, b: Self) -> Self;
    unsafe fn mul(self, b: Self) -> Self;
    unsafe fn div(self, b: Self) -> Self;
    unsafe fn sqrt(self) -> Self;
    unsafe fn min(self, b: Self) -> Self;
    unsafe fn max(self, b: Self) -> Self;
    /// Each lane rounded to the nearest whole number (ties to even).
    unsafe fn round(self) -> Self;
    /// `self · 2ⁿ` for whole `n` with `|n| ≤ 150`, overflowing to ±∞ and underflowing to 0
    /// as one exact scaling would.
    unsafe fn scale(self, n: Self) -> Self;
    /// `self` in the lanes where `a > 0`, else 0.
    unsafe fn where_positive(self, a: Self) -> Self;
    /// The sum of the lanes.
    unsafe fn sum(self) -> f32;
}

/// The lanes of one vector of a tile that loads and stores keep.
#[derive(Debug, Clone, Copy)]
pub(super) struct Lanes<V: Vector> {
    pub(super) mask: V::Mask,
    pub(super) all: bool,
}

impl<V: Vector> Lanes<V> {
    /// The first `min(lanes, LANES)` lanes.
    #[inline(always)]
    pub(super) unsafe fn first(lanes: usize) -> Self {
        Lanes {
            mask: V::first(lanes),
            all: lanes >= V::LANES,
        }
    }

    #[inline(always)]
    pub(super) unsafe fn load(self, p: *const f32) -> V {
        if self.all {
            V::load(p)
        } else {
            V::load_masked(p, self.mask)
        }
    }

    #[inline(always)]
    pub(super) unsafe fn store(self, p: *mut f32, x: V) {
        if self.all {
            x.store(p)
        } else {
            x.store_masked(p, self.mask)
        }
    }
}

/// `f(z)` on each lane.
#[inline(always)]
pub(super) unsafe fn activate<V: Vector>(activation: Activation, z: V) -> V {
    let one = V::splat(1.0);
    match activation {
        // 1 / (1 + e^(−z)); e^(−z) saturates to +∞ for z < −88 and the result to 0.
        Activation::Sigmoid => one.div(one.add(exp(V::zero().sub(z)))),
        // tanh z = e / (e + 2) with e = expm1(2z), accurate near 0 where 1 − 2/(e^2z + 1)
        // would cancel; |z| ≥ 9 already rounds to ±1.
        Activation::Tanh => {
            let z = z.max(V::splat(-9.0)).min(V::splat(9.0));
            let e = expm1(z.add(z));
            e.div(e.add(V::splat(2.0)))
        }
        Activation::Relu => z.max(V::zero()),
    }
}

/// `delta · f′(z)` on each lane, from the output `a = f(z)` (see `reference::derivative_from_output`).
#[inline(always)]
pub(super) unsafe fn derivative_from_output<V: Vector>(
    activation: Activation,
    a: V,
    delta: V,
) -> V {
    let one = V::splat(1.0);
    match activation {
        Activation::Sigmoid => delta.mul(a.mul(one.sub(a))),
        Activation::Tanh => delta.mul(one.mul_sub_from(a, a)),
        Activation::Relu => delta.where_positive(a),
    }
}

/// `e^x − 1` on each lane, and `n` with `x = n·ln 2 + r`, |r| ≤ ln2/2: the shared part of
/// [`exp`] and [`expm1`]. Inputs are clamped to ±100, beyond which the results saturate.
#[inline(always)]
unsafe fn reduced_expm1<V: Vector>(x: V) -> (V, V) {
    let x = x.max(V::splat(-100.0)).min(V::splat(100.0));
    let n = x.mul(V::splat(std::f32::consts::LOG2_E)).round();
    // Cody–Waite: ln 2 split so that n·LN2_HI is exact.
    const LN2_HI: f32 = 0.693_359_4;
    const LN2_LO: f32 = -2.121_944_4e-4;
    let r = x.mul_sub_from(n, V::splat(LN2_HI));
    let r = r.mul_sub_from(n, V::splat(LN2_LO));
    // e^r − 1 = r(1 + r/2 + r²/6 + … + r⁶/5040): Taylor to r⁷, whose remainder is below
    // 2e-8 of the result for |r| ≤ ln2/2.
    let mut p = V::splat(1.0 / 5040.0);
    for c in [1.0 / 720.0, 1.0 / 120.0, 1.0 / 24.0, 1.0 / 6.0, 0.5, 1.0] {
        p = V::splat(c).mul_add(p, r);
    }
    (p.mul(r), n)
}

/// `e^x` on each lane, within about 2 ulp.
#[inline(always)]
pub(super) unsafe fn exp<V: Vector>(x: V) -> V {
    let (em1, n) = reduced_expm1(x);
    em1.add(V::splat(1.0)).scale(n)
}

/// `e^x − 1` on each lane, with small relative error near 0 too.
#[inline(always)]
pub(super) unsafe fn expm1<V: Vector>(x: V) -> V {
    let (em1, n) = reduced_expm1(x);
    // e^x − 1 = 2ⁿ(e^r − 1) + (2ⁿ − 1); exact when n = 0.
    let one = V::splat(1.0);
    let power = one.scale(n);
    power.mul(em1).add(power.sub(one))
}
