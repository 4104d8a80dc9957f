//! A multilayer perceptron written by hand on ndarray.
