//! The same multilayer perceptron in tch (libtorch).
