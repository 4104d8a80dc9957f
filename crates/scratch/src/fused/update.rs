//! The fused engine's update rule on its own: SGD and Adam per element exactly as its pass
//! applies them (`*w -= lr·g`, [`AdamStep::apply`]; the vectorised kernels are checked
//! against the same rule in `kernels/conformance.rs`), on parameters, gradient and state handed
//! in, for the parity check of the optimiser.

use contract::{LayerParameters, UpdateRequest, Updated};

use super::adam::AdamStep;

/// One step of `request.optimizer`, leaving nothing behind.
///
/// # Panics
/// If the gradient or state is not shaped like the parameters (a bug in the caller).
pub(crate) fn update(request: &UpdateRequest<'_>) -> Updated {
    let mut parameters = request.parameters.clone();
    let gradient = request.gradient;
    assert_eq!(gradient.len(), parameters.len(), "one gradient per layer");
    let each = |p: &mut LayerParameters, g: &LayerParameters, f: &mut dyn FnMut(&mut f32, f32)| {
        assert_eq!(
            (p.weight.len(), p.bias.len()),
            (g.weight.len(), g.bias.len())
        );
        p.weight
            .iter_mut()
            .zip(&g.weight)
            .for_each(|(w, &g)| f(w, g));
        p.bias.iter_mut().zip(&g.bias).for_each(|(b, &g)| f(b, g));
    };
    let Some([lr, beta1, beta2, eps]) = request.optimizer.adam_f64() else {
        let lr = request.optimizer.lr();
        for (p, g) in parameters.iter_mut().zip(gradient) {
            each(p, g, &mut |w, g| *w -= lr * g);
        }
        return Updated {
            parameters,
            adam: None,
        };
    };
    let mut state = request.adam_before();
    state.steps += 1;
    let step = AdamStep::new(lr, beta1, beta2, eps, state.steps);
    let moments = state.m.iter_mut().zip(state.v.iter_mut());
    for ((p, g), (m, v)) in parameters.iter_mut().zip(gradient).zip(moments) {
        let (mut m_all, mut v_all) = (
            m.weight.iter_mut().chain(m.bias.iter_mut()),
            v.weight.iter_mut().chain(v.bias.iter_mut()),
        );
        each(p, g, &mut |w, g| {
            let (Some(m), Some(v)) = (m_all.next(), v_all.next()) else {
                panic!("Adam's state is not shaped like the parameters")
            };
            step.apply(w, g, m, v);
        });
    }
    Updated {
        parameters,
        adam: Some(state),
    }
}
