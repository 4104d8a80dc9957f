//! The kernels as plain scalar loops: the definition each vectorised set is checked against
//! (`conformance`), on shapes with partial tiles and for every epilogue and update. Tests
//! only: a CPU without AVX2 runs the textbook engine, not these.

use super::{
    check_accumulate, check_dot_product, check_product, check_transpose, check_weight_step,
    Backward, Epilogue, Kernels, Lhs, Mat, MatMut, Update,
};
use contract::Activation;

use crate::textbook::activate;

/// Columns of the weights whose gradient is accumulated at once, on the stack.
const CHUNK: usize = 64;

#[derive(Debug, Clone, Copy)]
pub(super) struct Reference;

impl Kernels<f32> for Reference {
    fn product(
        &self,
        lhs: Lhs<'_, f32>,
        rhs: Mat<'_, f32>,
        mut out: MatMut<'_, f32>,
        epilogue: Epilogue<'_, f32>,
    ) {
        check_product(&lhs, &rhs, &out, &epilogue);
        for r in 0..lhs.rows {
            let row = out.row_mut(r);
            row.fill(0.0);
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

    /// [`Kernels::product`] of `lhs` and the transpose of `rhs`, made explicit.
    fn dot_product(
        &self,
        lhs: Mat<'_, f32>,
        rhs: Mat<'_, f32>,
        out: MatMut<'_, f32>,
        epilogue: Epilogue<'_, f32>,
    ) {
        check_dot_product(&lhs, &rhs, &out, &epilogue);
        let (depth, cols) = (rhs.cols(), rhs.rows());
        let transposed: Vec<f32> = (0..depth)
            .flat_map(|p| (0..cols).map(move |c| rhs.row(c)[p]))
            .collect();
        let lhs = Lhs::new(lhs.data(), lhs.rows(), depth, lhs.ld(), 1);
        let rhs = Mat::new(&transposed, depth, cols, cols);
        self.product(lhs, rhs, out, epilogue);
    }

    /// Not used: the scalar loops have no vector width.
    fn narrow_batch(&self) -> usize {
        1
    }

    fn weight_step(
        &self,
        mut weights: MatMut<'_, f32>,
        delta: Mat<'_, f32>,
        input: Mat<'_, f32>,
        decay: f32,
        mut update: Update<'_, f32>,
        sum_squares: bool,
        backward: Option<Backward<'_, f32>>,
    ) -> f64 {
        check_weight_step(&weights, &delta, &input, &update, &backward);
        if let Some(Backward { out, epilogue }) = backward {
            let (rows, cols, ld) = (weights.rows(), weights.cols(), weights.ld());
            let transposed = Lhs::new(weights.data_mut(), cols, rows, 1, ld);
            let delta = Mat::new(delta.data(), rows, out.cols(), delta.ld());
            self.product(transposed, delta, out, epilogue);
        }
        let mut total = 0.0;
        for r in 0..weights.rows() {
            for c0 in (0..weights.cols()).step_by(CHUNK) {
                let c1 = (c0 + CHUNK).min(weights.cols());
                let mut g = [0.0; CHUNK];
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
                        total += f64::from(*w) * f64::from(*w);
                    }
                }
            }
        }
        total
    }

    fn transpose(&self, src: Mat<'_, f32>, mut dst: MatMut<'_, f32>) {
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
                dst.row_mut(c)[src.rows()..].fill(0.0);
            }
        }
    }

    fn accumulate(
        &self,
        mut dst: MatMut<'_, f32>,
        src: Mat<'_, f32>,
        overwrite: bool,
        derivative: Option<(Activation, Mat<'_, f32>)>,
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

/// `f′(z)` from the output `a = f(z)`, in the forms the vectorised kernels use: σ′ = a(1 − a),
/// tanh′ = 1 − a², relu′ = [a > 0].
fn derivative_from_output(activation: Activation, a: f32) -> f32 {
    match activation {
        Activation::Sigmoid => a * (1.0 - a),
        Activation::Tanh => 1.0 - a * a,
        Activation::Relu => {
            if a > 0.0 {
                1.0
            } else {
                0.0
            }
        }
    }
}
