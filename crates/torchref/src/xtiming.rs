#![allow(warnings)]
use crate::optim::*;
use tch::{Device, Kind, Tensor};
use std::time::Instant;

fn params() -> Vec<Tensor> {
    let sizes = [784i64, 500, 250, 100, 10];
    let mut v = vec![];
    for p in sizes.windows(2) {
        v.push(Tensor::randn([p[1], p[0]], (Kind::Float, Device::Cpu)) * 0.05);
        v.push(Tensor::randn([p[1]], (Kind::Float, Device::Cpu)) * 0.05);
    }
    v
}

#[test]
#[ignore]
fn xtiming() {
    tch::set_num_threads(2);
    let mut p = params();
    let g: Vec<Tensor> = p.iter().map(|t| t.randn_like() * 0.01).collect();
    let mut fused = Adam::new(0.01, 0.9, 0.999, 1e-8, &p);
    let mut tens = Adam::new(0.01, 0.9, 0.999, 1e-8, &p);
    let mut copt = tch::COptimizer::adam(0.01, 0.9, 0.999, 0.0, 1e-8, false).unwrap();
    for t in &p { let t = t.set_requires_grad(true); copt.add_parameters(&t, 0).unwrap(); }
    // give grads
    let loss: Tensor = p.iter().zip(&g).map(|(p, g)| (p * g).sum(Kind::Float)).reduce(|a, b| a + b).unwrap();
    loss.backward();
    let n = 200;
    for rep in 0..3 {
        let t0 = Instant::now();
        for _ in 0..n { tch::no_grad(|| fused.update_fused(&mut p, &g)); }
        let a = t0.elapsed().as_secs_f64() / n as f64 * 1e3;
        let t0 = Instant::now();
        for _ in 0..n { tch::no_grad(|| tens.update_tensors(&mut p, &g)); }
        let b = t0.elapsed().as_secs_f64() / n as f64 * 1e3;
        let t0 = Instant::now();
        for _ in 0..n { copt.step().unwrap(); }
        let c = t0.elapsed().as_secs_f64() / n as f64 * 1e3;
        let t0 = Instant::now();
        for _ in 0..n { tch::no_grad(|| for (p, g) in p.iter_mut().zip(&g) { let _ = p.g_sub_(&(g * 0.01)); }); }
        let d = t0.elapsed().as_secs_f64() / n as f64 * 1e3;
        eprintln!("rep {rep}: fused {a:.3} ms, tensors {b:.3} ms, libtorch {c:.3} ms, sgd {d:.3} ms");
    }
}
