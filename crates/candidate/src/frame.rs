//! The protocol's framing and messages (docs/candidate-protocol.md): every message is
//! `MAGIC`, a little-endian u32 length and a JSON header, then a little-endian u64 length and
//! that many bytes of `.npz` (possibly none). The magic before every frame is what makes text
//! a candidate prints to stdout detectable.

use std::io::{self, Read, Write};

use contract::{Activation, Optimizer};
use serde::{Deserialize, Serialize};

/// The version this harness speaks, sent in its first message.
pub const PROTOCOL: u32 = 1;

/// The four bytes before every frame.
pub const MAGIC: [u8; 4] = *b"MLPP";

/// Longest JSON header accepted: a header holds a few numbers and a message.
const MAX_HEADER: u32 = 1 << 20;

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
        /// λ of the loss's λ/(2m)·Σ‖W‖².
        l2: f32,
        optimizer: &'a Optimizer,
    },
    /// Loss and gradients at `W1, b1, …` on images `x` and labels `y`.
    LossAndGrads { step: usize },
    /// One optimiser step from `W1, …`, `grad.W1, …` (and `m.W1, …`, `v.W1, …` for Adam);
    /// `t` is the number of this step, 1 for the first.
    Update {
        step: usize,
        optimizer: &'a Optimizer,
        t: u64,
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
    /// `loss`, the gradients `W1, b1, …` and optionally `Z1, …`.
    Gradients,
    /// The parameters after the step, `W1, b1, …`.
    Updated,
    /// The candidate could not answer (its message, e.g. the exception).
    Error { message: String },
}

impl Answer {
    /// The `kind` as the page writes it.
    pub fn kind(&self) -> &'static str {
        match self {
            Answer::Hello { .. } => "hello",
            Answer::Gradients => "gradients",
            Answer::Updated => "updated",
            Answer::Error { .. } => "error",
        }
    }
}

/// One frame to send: everything before the payload, and the payload, kept apart so that
/// the payload (megabytes) is written where it was built instead of being copied behind the
/// header.
#[derive(Debug)]
pub struct Outgoing {
    /// The magic, the header's length, the header and the payload's length.
    head: Vec<u8>,
    payload: Vec<u8>,
}

/// `request` with `payload` (`.npz` bytes, or empty) as one frame.
pub fn encode(request: &Request<'_>, payload: Vec<u8>) -> Outgoing {
    let header = serde_json::to_vec(request).expect("requests serialise");
    let header_len = u32::try_from(header.len()).expect("a request header is small");
    let mut head = Vec::with_capacity(4 + 4 + header.len() + 8);
    head.extend_from_slice(&MAGIC);
    head.extend_from_slice(&header_len.to_le_bytes());
    head.extend_from_slice(&header);
    head.extend_from_slice(&(payload.len() as u64).to_le_bytes());
    Outgoing { head, payload }
}

/// What reading one frame from the candidate's stdout gave.
#[derive(Debug)]
pub enum Incoming {
    Frame {
        header: Vec<u8>,
        payload: Vec<u8>,
    },
    /// The stream ended before a frame began.
    End,
    /// The stream began with something else than [`MAGIC`]: the bytes read.
    Text(Vec<u8>),
    /// The frame's lengths were out of bounds or the stream ended inside it.
    Broken(String),
}

/// Reads the next frame; payloads longer than `max_payload` are refused (a candidate's
/// garbage must not exhaust memory).
pub fn read_frame(input: &mut impl Read, max_payload: u64) -> Incoming {
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
        if payload_len > max_payload {
            return Ok(Incoming::Broken(format!(
                "a payload of {payload_len} bytes (at most {max_payload} for this network)"
            )));
        }
        // Read into spare capacity: zeroing megabytes first would only be overwritten.
        let mut payload = Vec::with_capacity(payload_len as usize);
        input.by_ref().take(payload_len).read_to_end(&mut payload)?;
        if payload.len() as u64 != payload_len {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        Ok(Incoming::Frame { header, payload })
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
pub fn write_frame(output: &mut impl Write, frame: &Outgoing) -> io::Result<()> {
    output.write_all(&frame.head)?;
    output.write_all(&frame.payload)?;
    output.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The bytes `frame` puts on the wire.
    fn written(frame: &Outgoing) -> Vec<u8> {
        let mut bytes = Vec::new();
        write_frame(&mut bytes, frame).expect("a write to memory");
        bytes
    }

    #[test]
    fn a_frame_reads_back() {
        let frame = written(&encode(&Request::Bye, b"npz".to_vec()));
        assert_eq!(&frame[..4], b"MLPP");
        match read_frame(&mut &frame[..], 16) {
            Incoming::Frame { header, payload } => {
                assert_eq!(header, br#"{"kind":"bye"}"#);
                assert_eq!(payload, b"npz");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn text_a_long_payload_and_a_cut_frame_are_told_apart() {
        assert!(matches!(read_frame(&mut &b""[..], 16), Incoming::End));
        assert!(matches!(read_frame(&mut &b"loss"[..], 16), Incoming::Text(t) if t == b"loss"));
        assert!(matches!(read_frame(&mut &b"hi"[..], 16), Incoming::Text(t) if t == b"hi"));
        let frame = written(&encode(&Request::Bye, vec![0; 17]));
        assert!(matches!(
            read_frame(&mut &frame[..], 16),
            Incoming::Broken(_)
        ));
        let frame = written(&encode(&Request::Bye, b"npz".to_vec()));
        for cut in [10, frame.len() - 1] {
            let cut = &frame[..cut];
            assert!(matches!(read_frame(&mut &cut[..], 16), Incoming::Broken(_)));
        }
    }
}
