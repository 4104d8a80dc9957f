//! Which kernels the network's passes run on. [`Engine::Auto`] picks the fastest set this CPU
//! has; naming a set forces it, so that every set is tested and timed on one machine that has
//! them all (an AVX-512 CPU runs AVX2 code too).

use std::fmt;
use std::str::FromStr;

/// A set of kernels for [`crate::Mlp`] (see [`crate::Mlp::with_engine`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    /// AVX-512 where the CPU has it, else AVX2 with FMA, else portable.
    Auto,
    /// Plain Rust that the compiler vectorises for the baseline of the target: any CPU.
    Portable,
    /// Hand-written AVX2 and FMA kernels (Intel since Haswell, AMD since Zen).
    Avx2,
    /// Hand-written AVX-512F kernels (Intel Xeons and some desktops, AMD since Zen 4).
    Avx512,
}

/// Why an [`Engine`] cannot be had.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EngineError {
    #[error("unknown scratch engine {0:?}: expected one of auto, portable, avx2, avx512")]
    Unknown(String),
    #[error("the {engine} engine needs {needs}, which this CPU does not have")]
    Unavailable { engine: Engine, needs: &'static str },
}

impl Engine {
    /// Every engine, [`Engine::Auto`] first.
    pub const ALL: [Engine; 4] = [Engine::Auto, Engine::Portable, Engine::Avx2, Engine::Avx512];

    /// The name [`Engine::from_str`] reads.
    pub fn name(self) -> &'static str {
        match self {
            Engine::Auto => "auto",
            Engine::Portable => "portable",
            Engine::Avx2 => "avx2",
            Engine::Avx512 => "avx512",
        }
    }

    /// Whether this CPU can run the engine.
    pub fn is_available(self) -> bool {
        crate::kernels::f32_kernels(self).is_some()
    }

    /// The instruction sets the engine needs, for messages.
    pub(crate) fn needs(self) -> &'static str {
        match self {
            Engine::Auto | Engine::Portable => "nothing",
            Engine::Avx2 => "x86-64 with AVX2 and FMA",
            Engine::Avx512 => "x86-64 with AVX-512F",
        }
    }
}

impl fmt::Display for Engine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Engine {
    type Err = EngineError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Engine::ALL
            .into_iter()
            .find(|e| e.name() == s)
            .ok_or_else(|| EngineError::Unknown(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_read_back_and_unknown_ones_are_refused() {
        for engine in Engine::ALL {
            assert_eq!(engine.name().parse(), Ok(engine));
        }
        assert_eq!(
            "avx".parse::<Engine>(),
            Err(EngineError::Unknown("avx".into()))
        );
        assert!(Engine::Auto.is_available() && Engine::Portable.is_available());
    }
}
