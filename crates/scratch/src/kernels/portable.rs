//! The kernels in plain Rust for any [`Real`]: the definition the vectorised ones are tested
//! against, and what runs in `f64` and on CPUs without AVX-512.

use super::{
    check_accumulate, check_product, check_transpose, check_weight_step, Epilogue, Kernels, Lhs,
    Mat, MatMut, Update,
};
use mnist::Activation;

use crate::activation::{activate, derivative_from_output};
use crate::real::Real;

/// Columns of the weights whose gradient is accumulated at once, on the stack.
const CHUNK: usize = 64;

#[derive(Debug, Clone, Copy)]
pub(crate) struct Portable;

impl<T: Real> Kernels<T> for Portable {
    fn product(
        &self,
        lhs: Lhs<'_, T>,
        rhs: Mat<'_, T>,
        mut out: MatMut<'_, T>,
        epilogue: Epilogue<'_, T>,
    ) {
        check_product(&lhs, &rhs, &out, &epilogue);
        for r in 0..lhs.rows {
            let row = out.row_mut(r);
            row.fill(T::ZERO);
            for p in 0..lhs.depth {
                let a = lhs.at(r, p);
                for (o, &b) in row.iter_mut().zip(rhs.row(p)) {
                    *o += a * b;
                }
            }
            match epilogue {
                Epilogue::Store => {}
                Epilogue::Bias { bias, activation } => {
                    for o in row.iter_mut() {
                        let z = *o + bias[r];
                        *o = activation.map_or(z, |f| activate(f, z));
                    }
                }
                Epilogue::Derivative { activation, output } => {
                    for (o, &a) in row.iter_mut().zip(output.row(r)) {
                        *o *= derivative_from_output(activation, a);
                    }
                }
            }
        }
    }

    fn weight_step(
        &self,
        mut weights: MatMut<'_, T>,
        delta: Mat<'_, T>,
        input: Mat<'_, T>,
        decay: T,
        mut update: Update<'_, T>,
        sum_squares: bool,
    ) -> f64 {
        check_weight_step(&weights, &delta, &input, &update);
        let mut total = 0.0;
        for r in 0..weights.rows() {
            for c0 in (0..weights.cols()).step_by(CHUNK) {
                let c1 = (c0 + CHUNK).min(weights.cols());
                let mut g = [T::ZERO; CHUNK];
                let g = &mut g[..c1 - c0];
                for (i, &d) in delta.row(r).iter().enumerate() {
                    for (g, &x) in g.iter_mut().zip(&input.row(i)[c0..c1]) {
                        *g += d * x;
                    }
                }
                let w = &mut weights.row_mut(r)[c0..c1];
                for (c, (w, &g)) in w.iter_mut().zip(g.iter()).enumerate() {
                    let g = g + decay * *w;
                    match &mut update {
                        Update::Store { out } => out.row_mut(r)[c0 + c] = g,
                        Update::Sgd { lr } => *w -= *lr * g,
                        Update::Adam { step, m, v } => {
                            step.apply(w, g, &mut m.row_mut(r)[c0 + c], &mut v.row_mut(r)[c0 + c])
                        }
                    }
                    if sum_squares {
                        total += w.to_f64() * w.to_f64();
                    }
                }
            }
        }
        total
    }

    fn transpose(&self, src: Mat<'_, T>, mut dst: MatMut<'_, T>) {
        check_transpose(&src, &dst);
        // Blocks of 16×16 keep both sides' lines in L1 while they are walked across.
        const BLOCK: usize = 16;
        for c0 in (0..src.cols()).step_by(BLOCK) {
            let c1 = (c0 + BLOCK).min(src.cols());
            for r0 in (0..src.rows()).step_by(BLOCK) {
                let r1 = (r0 + BLOCK).min(src.rows());
                for c in c0..c1 {
                    let row = &mut dst.row_mut(c)[r0..r1];
                    for (r, x) in (r0..).zip(row) {
                        *x = src.row(r)[c];
                    }
                }
            }
            for c in c0..c1 {
                dst.row_mut(c)[src.rows()..].fill(T::ZERO);
            }
        }
    }

    fn accumulate(
        &self,
        mut dst: MatMut<'_, T>,
        src: Mat<'_, T>,
        overwrite: bool,
        derivative: Option<(Activation, Mat<'_, T>)>,
    ) {
        check_accumulate(&dst, &src, &derivative);
        for r in 0..src.rows() {
            let row = dst.row_mut(r);
            for (d, &s) in row.iter_mut().zip(src.row(r)) {
                *d = if overwrite { s } else { *d + s };
            }
            if let Some((activation, output)) = derivative {
                for (d, &a) in row.iter_mut().zip(output.row(r)) {
                    *d *= derivative_from_output(activation, a);
                }
            }
        }
    }
}
