//! The arrays of a frame: a request's `.npz` written, an answer's read back under the page's
//! rules (every expected name present and no other, the expected shape, float32 or float64,
//! every value finite).

use std::collections::BTreeSet;
use std::io::Cursor;

use contract::{LayerParameters, Parameters};
use ndarray::{ArrayBase, ArrayD, Data, Dimension, IxDyn, OwnedRepr};
use ndarray_npy::{NpzReader, NpzWriter, ReadNpyError, ReadNpzError, WritableElement};

use crate::Fault;

/// The names of layer `l`'s (from 0) weight and bias, CS231n style: `W1`, `b1`, ….
pub fn parameter_names(l: usize) -> (String, String) {
    (format!("W{}", l + 1), format!("b{}", l + 1))
}

/// The name of hidden layer `l`'s (from 0) pre-activations: `Z1`, ….
pub fn pre_activation_name(l: usize) -> String {
    format!("Z{}", l + 1)
}

/// Room for one member's names and headers in an archive (its local and central zip
/// headers and `.npy` header; about 200 bytes).
const MEMBER_ROOM: usize = 512;

/// A request's `.npz`, built array by array in memory.
pub struct Payload(NpzWriter<Cursor<Vec<u8>>>);

impl Payload {
    /// An archive with room for `members` arrays of `bytes` of values in all, so that its
    /// buffer is not grown (and copied) as it fills.
    pub fn with_room(members: usize, bytes: usize) -> Self {
        let buffer = Vec::with_capacity(bytes + members * MEMBER_ROOM);
        Payload(NpzWriter::new(Cursor::new(buffer)))
    }

    pub fn add<A, S, D>(&mut self, name: &str, array: &ArrayBase<S, D>)
    where
        A: WritableElement,
        S: Data<Elem = A>,
        D: Dimension,
    {
        self.0
            .add_array(name, array)
            .expect("an array writes to memory");
    }

    /// Room for one set of `parameters` in [`Payload::with_room`]: members and bytes.
    pub fn room_for(parameters: &Parameters) -> (usize, usize) {
        let values: usize = parameters
            .iter()
            .map(|p| p.weight.len() + p.bias.len())
            .sum();
        (2 * parameters.len(), values * std::mem::size_of::<f32>())
    }

    /// Every layer's weight `(out, in)` and bias `(out)` as `{prefix}W1`, `{prefix}b1`, ….
    pub fn add_parameters(&mut self, prefix: &str, parameters: &Parameters) {
        for (l, p) in parameters.iter().enumerate() {
            let (w, b) = parameter_names(l);
            let weight =
                ndarray::ArrayView2::from_shape((p.out_features, p.in_features), &p.weight)
                    .expect("parameters hold out × in weights");
            self.add(&format!("{prefix}{w}"), &weight);
            self.add(&format!("{prefix}{b}"), &ndarray::aview1(&p.bias));
        }
    }

    pub fn finish(self) -> Vec<u8> {
        self.0
            .finish()
            .expect("an archive writes to memory")
            .into_inner()
    }
}

/// An answer's `.npz`, read name by name.
pub struct Answered {
    reader: NpzReader<Cursor<Vec<u8>>>,
    /// Names not yet taken.
    left: BTreeSet<String>,
}

impl Answered {
    pub fn open(payload: Vec<u8>) -> Result<Self, Fault> {
        let malformed = |e: ReadNpzError| Fault::Malformed(format!("the payload is no .npz: {e}"));
        let mut reader = NpzReader::new(Cursor::new(payload)).map_err(malformed)?;
        let left = reader.names().map_err(malformed)?.into_iter().collect();
        Ok(Answered { reader, left })
    }

    pub fn has(&self, name: &str) -> bool {
        self.left.contains(name)
    }

    /// Array `name` of `shape`, float32 or float64 (narrowed to f32), all finite.
    pub fn take(&mut self, name: &str, shape: &[usize]) -> Result<Vec<f32>, Fault> {
        let (got, values) = self.take_any(name)?;
        if got != shape {
            return Err(Fault::WrongShape {
                name: name.to_owned(),
                expected: shape.to_vec(),
                got,
            });
        }
        Ok(values)
    }

    /// A scalar `name`: shape `()` (or `(1,)`).
    pub fn take_scalar(&mut self, name: &str) -> Result<f32, Fault> {
        let (got, values) = self.take_any(name)?;
        match (got.as_slice(), values.as_slice()) {
            ([] | [1], [value]) => Ok(*value),
            _ => Err(Fault::WrongShape {
                name: name.to_owned(),
                expected: Vec::new(),
                got,
            }),
        }
    }

    /// Every layer's weight and bias, named `W1, b1, …`, shaped like `like`.
    pub fn take_parameters(&mut self, like: &Parameters) -> Result<Parameters, Fault> {
        like.iter()
            .enumerate()
            .map(|(l, p)| {
                let (w, b) = parameter_names(l);
                Ok(LayerParameters {
                    weight: self.take(&w, &[p.out_features, p.in_features])?,
                    bias: self.take(&b, &[p.out_features])?,
                    ..*p
                })
            })
            .collect()
    }

    /// Fails on the first name the protocol does not define (the answer's names left).
    pub fn finish(self) -> Result<(), Fault> {
        match self.left.into_iter().next() {
            Some(name) => Err(Fault::UnknownArray { name }),
            None => Ok(()),
        }
    }

    fn take_any(&mut self, name: &str) -> Result<(Vec<usize>, Vec<f32>), Fault> {
        if !self.left.remove(name) {
            return Err(Fault::MissingArray {
                name: name.to_owned(),
                got: self.left.iter().cloned().collect(),
            });
        }
        let (shape, values) = match self.reader.by_name::<OwnedRepr<f32>, IxDyn>(name) {
            Ok(narrow) => (narrow.shape().to_vec(), row_major(narrow)),
            Err(ReadNpzError::Npy(ReadNpyError::WrongDescriptor(_))) => {
                match self.reader.by_name::<OwnedRepr<f64>, IxDyn>(name) {
                    Ok(wide) => {
                        let shape = wide.shape().to_vec();
                        let values = row_major(wide);
                        if let Some(fault) = first_not_finite(name, values.iter().copied()) {
                            return Err(fault);
                        }
                        (shape, values.into_iter().map(|x| x as f32).collect())
                    }
                    Err(ReadNpzError::Npy(ReadNpyError::WrongDescriptor(dtype))) => {
                        return Err(Fault::WrongDtype {
                            name: name.to_owned(),
                            dtype: dtype.to_string(),
                        })
                    }
                    Err(e) => return Err(Fault::Malformed(format!("array {name:?}: {e}"))),
                }
            }
            Err(e) => return Err(Fault::Malformed(format!("array {name:?}: {e}"))),
        };
        // A float64 beyond f32's range becomes infinite here.
        if let Some(fault) = first_not_finite(name, values.iter().map(|&x| f64::from(x))) {
            return Err(fault);
        }
        Ok((shape, values))
    }
}

/// The elements in row-major order: the array's own buffer when it is in that order
/// already, else a copy of its standard-layout slice (iterating an `IxDyn` array element by
/// element is slow: 20 ms for the default network's gradient).
fn row_major<A: Copy>(array: ArrayD<A>) -> Vec<A> {
    let len = array.len();
    let array = if array.is_standard_layout() {
        array
    } else {
        array.as_standard_layout().into_owned()
    };
    // A standard-layout array's elements are `len` in a row from its offset (0 here: it was
    // read whole or just copied).
    let (mut values, offset) = array.into_raw_vec_and_offset();
    values.drain(..offset.unwrap_or(0));
    values.truncate(len);
    values
}

/// [`Fault::NotFinite`] at the first NaN or infinity of `values`, in row-major order.
fn first_not_finite(name: &str, values: impl Iterator<Item = f64>) -> Option<Fault> {
    let (index, value) = values.enumerate().find(|(_, x)| !x.is_finite())?;
    Some(Fault::NotFinite {
        name: name.to_owned(),
        index,
        value,
    })
}
