use super::*;
use testkit::assert_close;

const ALL: [Activation; 3] = [Activation::Sigmoid, Activation::Tanh, Activation::Relu];

#[test]
fn values_match_their_definitions() {
    let z = [-2.0f64, -0.5, 0.0, 0.5, 2.0];
    let want = |activation| -> Vec<f64> {
        z.iter()
            .map(|&z: &f64| match activation {
                Activation::Sigmoid => 1.0 / (1.0 + (-z).exp()),
                Activation::Tanh => (z.exp() - (-z).exp()) / (z.exp() + (-z).exp()),
                Activation::Relu => z.max(0.0),
            })
            .collect()
    };
    for activation in ALL {
        let got: Vec<f64> = z.iter().map(|&z| activate(activation, z)).collect();
        assert_close(
            &format!("{activation:?}"),
            &got,
            &want(activation),
            1e-15,
            1e-15,
        );
    }
}

#[test]
fn saturating_inputs_give_finite_limits() {
    let z = [-1000.0f32, 1000.0];
    let got: Vec<f32> = z
        .iter()
        .map(|&z| activate(Activation::Sigmoid, z))
        .collect();
    assert_close("sigmoid(±1000)", &got, &[0.0, 1.0], 0.0, 0.0);
    let got: Vec<f32> = z.iter().map(|&z| activate(Activation::Tanh, z)).collect();
    assert_close("tanh(±1000)", &got, &[-1.0, 1.0], 0.0, 0.0);
}

/// The derivative agrees with a central difference of `f` at `z`, and differs from the
/// assignment's, the same formula applied to the output `a` (except for ReLU).
#[test]
fn derivatives_are_taken_at_the_pre_activation() {
    let h = 1e-6;
    for activation in [Activation::Sigmoid, Activation::Tanh] {
        for z in [-1.5f64, -0.3, 0.4, 2.0] {
            let numeric = (activate(activation, z + h) - activate(activation, z - h)) / (2.0 * h);
            let ours = derivative(activation, z);
            assert_close(
                &format!("{activation:?}′({z})"),
                &[ours],
                &[numeric],
                1e-8,
                1e-10,
            );
            // The assignment's: f′ applied at a = f(z) instead of at z.
            let assignments = derivative(activation, activate(activation, z));
            assert!(
                (assignments - numeric).abs() > 1e-3,
                "{activation:?} at {z}"
            );
        }
    }
    let relu = [-1.0f64, 2.0].map(|z| derivative(Activation::Relu, z));
    assert_close("relu′", &relu, &[0.0, 1.0], 0.0, 0.0);
}
