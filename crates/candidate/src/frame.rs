//! The protocol's framing and messages (docs/candidate-protocol.md): every message is
//! `MAGIC`, a little-endian u32 length and a JSON header, then a little-endian u64 payload
//! length, which version 2 keeps at 0 (its arrays go through two files, [`crate::arrays`];
//! the field stays so that a version 1 client still reads the hello and can answer it). The
//! magic before every frame is what makes text a candidate prints to stdout detectable.

use std::io::{self, Read, Write};

use contract::{Activation, Optimizer};

use crate::arrays::{Entry, Files};
use serde::{Deserialize, Serialize};

/// The version this harness speaks, sent in its first message.
pub const PROTOCOL: u32 = 2;

/// The four bytes before every frame.
pub const MAGIC: [u8; 4] = *b"MLPP";

/// Longest JSON header accepted: a header holds a few numbers and a message.
const MAX_HEADER: u32 = 1 << 20;

/// An optimiser's hyperparameters as libtorch computes with them. torchref hands libtorch
/// each `f32` hyperparameter widened to `f64` (`f64::from`), so β2 = 0.999 reaches it as
/// 0.9990000128746033, and libtorch works a step's constants (1 − β2, 1 − β2ᵗ, …) out from
/// that in `f64`; the hello and every update request carry these values, not the `f32`'s
/// shortest decimal, so that a candidate following the page computes the same constants.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Hyperparameters {
    Sgd {
        lr: f64,
    },
    Adam {
        lr: f64,
        beta1: f64,
        beta2: f64,
        eps: f64,
    },
}

impl From<&Optimizer> for Hyperparameters {
    fn from(optimizer: &Optimizer) -> Self {
        match *optimizer {
            Optimizer::Sgd { lr } => Hyperparameters::Sgd { lr: lr.into() },
            Optimizer::Adam {
                lr,
                beta1,
                beta2,
                eps,
            } => Hyperparameters::Adam {
                lr: lr.into(),
                beta1: beta1.into(),
                beta2: beta2.into(),
                eps: eps.into(),
            },
        }
    }
}

/// What the harness sends.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Request<'a> {
    /// The first message: the protocol version and the network the candidate must be.
    Hello {
        protocol: u32,
        /// Widths of the hidden layers, input side first.
        hidden: &'a [usize],
        activation: Activation,
        /// λ of the loss's λ/(2m)·Σ‖W‖², widened as libtorch gets it (torchref's `f64::from`).
        l2: f64,
        optimizer: Hyperparameters,
        /// Where the arrays of every later request and answer lie.
        files: &'a Files,
    },
    /// Loss and gradients at `W1, b1, …` on images `x` and labels `y`.
    LossAndGrads { step: usize, arrays: &'a [Entry] },
    /// One optimiser step from `W1, …`, `grad.W1, …` (and `m.W1, …`, `v.W1, …` for Adam);
    /// `t` is the number of this step, 1 for the first.
    Update {
        step: usize,
        optimizer: Hyperparameters,
        t: u64,
        arrays: &'a [Entry],
    },
    /// The last message: the candidate exits with status 0.
    Bye,
}

/// What the candidate answers.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Answer {
    /// Its protocol version, and whether it has an update rule.
    Hello {
        protocol: u32,
        #[serde(default)]
        update: bool,
    },
    /// `loss`, the gradients `W1, b1, …` and optionally `Z1, …`, in the answers file.
    Gradients { arrays: Vec<Entry> },
    /// The parameters after the step, `W1, b1, …`, in the answers file.
    Updated { arrays: Vec<Entry> },
    /// The candidate could not answer (its message, e.g. the exception).
    Error { message: String },
}

impl Answer {
    /// The `kind` as the page writes it.
    pub fn kind(&self) -> &'static str {
        match self {
            Answer::Hello { .. } => "hello",
            Answer::Gradients { .. } => "gradients",
            Answer::Updated { .. } => "updated",
            Answer::Error { .. } => "error",
        }
    }
}

/// `request` as one frame.
pub fn encode(request: &Request<'_>) -> Vec<u8> {
    let header = serde_json::to_vec(request).expect("requests serialise");
    let header_len = u32::try_from(header.len()).expect("a request header is small");
    let mut frame = Vec::with_capacity(4 + 4 + header.len() + 8);
    frame.extend_from_slice(&MAGIC);
    frame.extend_from_slice(&header_len.to_le_bytes());
    frame.extend_from_slice(&header);
    frame.extend_from_slice(&0_u64.to_le_bytes());
    frame
}

/// What reading one frame from the candidate's stdout gave.
#[derive(Debug)]
pub enum Incoming {
    /// A frame's header (its payload was empty).
    Frame(Vec<u8>),
    /// The stream ended before a frame began.
    End,
    /// The stream began with something else than [`MAGIC`]: the bytes read.
    Text(Vec<u8>),
    /// The frame's lengths were out of bounds (a payload is) or the stream ended inside it.
    Broken(String),
}

/// Reads the next frame.
pub fn read_frame(input: &mut impl Read) -> Incoming {
    let mut magic = [0u8; 4];
    let got = match read_up_to(input, &mut magic) {
        Ok(n) => n,
        Err(e) => return Incoming::Broken(format!("reading stdout: {e}")),
    };
    if got == 0 {
        return Incoming::End;
    }
    if got < magic.len() || magic != MAGIC {
        return Incoming::Text(magic[..got].to_vec());
    }
    let mut body = || -> io::Result<Incoming> {
        let mut len = [0u8; 4];
        input.read_exact(&mut len)?;
        let header_len = u32::from_le_bytes(len);
        if header_len > MAX_HEADER {
            let what = format!("a header of {header_len} bytes (at most {MAX_HEADER})");
            return Ok(Incoming::Broken(what));
        }
        let mut header = vec![0u8; header_len as usize];
        input.read_exact(&mut header)?;
        let mut len = [0u8; 8];
        input.read_exact(&mut len)?;
        let payload_len = u64::from_le_bytes(len);
        if payload_len != 0 {
            return Ok(Incoming::Broken(format!(
                "a payload of {payload_len} bytes after the header: protocol {PROTOCOL} frames carry none (arrays go in the answers file)"
            )));
        }
        Ok(Incoming::Frame(header))
    };
    body().unwrap_or_else(|e| Incoming::Broken(format!("the stream ended inside a frame ({e})")))
}

/// Fills as much of `buf` as the stream has; fewer bytes only at its end.
fn read_up_to(input: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match input.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// Writes one frame and flushes.
pub fn write_frame(output: &mut impl Write, frame: &[u8]) -> io::Result<()> {
    output.write_all(frame)?;
    output.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_frame_reads_back() {
        let frame = encode(&Request::Bye);
        assert_eq!(&frame[..4], b"MLPP");
        match read_frame(&mut &frame[..]) {
            Incoming::Frame(header) => assert_eq!(header, br#"{"kind":"bye"}"#),
            other => panic!("{other:?}"),
        }
    }

    /// The hyperparameters go out as libtorch gets them, the f32s widened: β2 0.999 is
    /// 0.9990000128746033 (1 − β2 then differs from 0.001 by 1.3e-5 of it), lr 1e-3 is
    /// 0.0010000000474974513, ε 1e-8 is 9.99999993922529e-9.
    #[test]
    fn an_update_request_carries_the_hyperparameters_libtorch_computes_with() {
        let request = Request::Update {
            step: 1,
            optimizer: (&Optimizer::adam(1e-3)).into(),
            t: 1,
            arrays: &[],
        };
        // As text: serde_json's parser (without its float_roundtrip feature) may read the
        // last digit one ulp off; Python's and C's strtod read it exactly.
        let frame = encode(&request);
        let header = String::from_utf8_lossy(&frame[8..frame.len() - 8]).into_owned();
        assert!(
            header.contains(r#""optimizer":{"kind":"adam","lr":0.0010000000474974513,"beta1":0.8999999761581421,"beta2":0.9990000128746033,"eps":9.99999993922529e-9}"#),
            "{header}"
        );
        assert_eq!(0.9990000128746033, f64::from(0.999_f32));
        let sgd = Hyperparameters::from(&Optimizer::Sgd { lr: 0.01 });
        assert_eq!(
            serde_json::to_string(&sgd).expect("serialises"),
            r#"{"kind":"sgd","lr":0.009999999776482582}"#
        );
    }

    #[test]
    fn text_a_payload_and_a_cut_frame_are_told_apart() {
        assert!(matches!(read_frame(&mut &b""[..]), Incoming::End));
        assert!(matches!(read_frame(&mut &b"loss"[..]), Incoming::Text(t) if t == b"loss"));
        assert!(matches!(read_frame(&mut &b"hi"[..]), Incoming::Text(t) if t == b"hi"));
        let mut frame = encode(&Request::Bye);
        let at = frame.len() - 8;
        frame[at] = 3;
        frame.extend_from_slice(b"npz");
        assert!(matches!(read_frame(&mut &frame[..]), Incoming::Broken(_)));
        let frame = encode(&Request::Bye);
        for cut in [10, frame.len() - 1] {
            let cut = &frame[..cut];
            assert!(matches!(read_frame(&mut &cut[..]), Incoming::Broken(_)));
        }
    }
}
