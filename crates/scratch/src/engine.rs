//! Which engine runs the network. [`Engine::Auto`] picks the fastest this CPU has: the fused
//! kernels for AVX-512, else those for AVX2 with FMA, else the textbook engine (plain
//! ndarray, any CPU). Naming an engine forces it, so that every engine is tested and timed on
//! one machine that has them all (an AVX-512 CPU runs AVX2 code too); naming one the CPU
//! lacks is an [`EngineError`], not a panic.

use std::fmt;
use std::str::FromStr;

use crate::fused::kernels::{self, Kernels};

/// An engine for [`crate::Mlp`] (see [`crate::Mlp::with_engine`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    /// The fastest this CPU has: AVX-512, else AVX2 with FMA, else textbook.
    Auto,
    /// [`crate::textbook`]: one ndarray function per formula, on any CPU.
    Textbook,
    /// The fused engine on hand-written AVX2 and FMA kernels (Intel since Haswell, AMD since
    /// Zen).
    Avx2,
    /// The fused engine on hand-written AVX-512F kernels (Intel Xeons and some desktops, AMD
    /// since Zen 4).
    Avx512,
}

/// Why an [`Engine`] cannot be had.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EngineError {
    #[error("unknown scratch engine {0:?}: expected one of auto, textbook, avx2, avx512")]
    Unknown(String),
    #[error("the {engine} engine needs {needs}, which this CPU does not have")]
    Unavailable { engine: Engine, needs: &'static str },
}

impl Engine {
    /// Every engine, [`Engine::Auto`] first.
    pub const ALL: [Engine; 4] = [Engine::Auto, Engine::Textbook, Engine::Avx2, Engine::Avx512];

    /// The engines [`Engine::Auto`] chooses from, slowest first.
    pub const CONCRETE: [Engine; 3] = [Engine::Textbook, Engine::Avx2, Engine::Avx512];

    /// The name [`Engine::from_str`] reads.
    pub fn name(self) -> &'static str {
        match self {
            Engine::Auto => "auto",
            Engine::Textbook => "textbook",
            Engine::Avx2 => "avx2",
            Engine::Avx512 => "avx512",
        }
    }

    /// The engine that runs when this one is asked for: [`Engine::Auto`] becomes the fastest
    /// this CPU has, any other engine itself.
    ///
    /// # Errors
    /// [`EngineError::Unavailable`] if this CPU cannot run it.
    pub fn resolve(self) -> Result<Engine, EngineError> {
        match self {
            Engine::Auto => Ok([Engine::Avx512, Engine::Avx2]
                .into_iter()
                .find(|engine| engine.kernels().is_some())
                .unwrap_or(Engine::Textbook)),
            Engine::Textbook => Ok(Engine::Textbook),
            Engine::Avx2 | Engine::Avx512 => match self.kernels() {
                Some(_) => Ok(self),
                None => Err(EngineError::Unavailable {
                    engine: self,
                    needs: self.needs(),
                }),
            },
        }
    }

    /// Whether this CPU can run the engine.
    pub fn is_available(self) -> bool {
        self.resolve().is_ok()
    }

    /// The fused kernels of this engine, if it has some and this CPU runs them.
    pub(crate) fn kernels(self) -> Option<&'static dyn Kernels<f32>> {
        match self {
            Engine::Auto => self.resolve().ok()?.kernels(),
            Engine::Textbook => None,
            Engine::Avx2 => kernels::avx2(),
            Engine::Avx512 => kernels::avx512(),
        }
    }

    /// The instruction sets the engine needs, for messages.
    pub(crate) fn needs(self) -> &'static str {
        match self {
            Engine::Auto | Engine::Textbook => "nothing",
            Engine::Avx2 => "x86-64 with AVX2 and FMA",
            Engine::Avx512 => "x86-64 with AVX-512F",
        }
    }
}

impl fmt::Display for Engine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.name())
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
        assert!(Engine::Auto.is_available() && Engine::Textbook.is_available());
        assert_ne!(Engine::Auto.resolve(), Ok(Engine::Auto));
        // Widths apply, so that tables of engines line up.
        assert_eq!(format!("[{:<6}]", Engine::Avx2), "[avx2  ]");
    }

    /// `build.rs` decided which kernel sets' tests run (the others are ignored): exactly those
    /// this CPU has and `SCRATCH_TEST_DISABLE` did not name. Fails on a build from a machine
    /// with other instruction sets, whose tests would be ignored or fail for the wrong reason.
    #[test]
    fn the_kernel_sets_under_test_are_those_this_cpu_runs() {
        let disabled = env!("SCRATCH_TEST_DISABLE_AT_BUILD");
        let disabled: Vec<&str> = disabled.split(',').collect();
        for (engine, under_test) in [
            (Engine::Avx2, cfg!(test_avx2)),
            (Engine::Avx512, cfg!(test_avx512)),
        ] {
            let expected = engine.is_available() && !disabled.contains(&engine.name());
            assert_eq!(
                under_test,
                expected,
                "{engine}: the build decided to test it: {under_test}; this CPU runs it: {}, \
                 disabled: {disabled:?} (a build from another machine? `cargo clean -p scratch`)",
                engine.is_available()
            );
        }
    }
}
