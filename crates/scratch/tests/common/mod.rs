//! What the integration tests share: one test per engine, so that the tests of a kernel set
//! this CPU lacks are counted as ignored, not as passed (`build.rs` decides which run).

/// Turns each `fn name(engine: Engine)` named into a module `name` of three tests,
/// `name::textbook`, `name::avx2` and `name::avx512`, the last two ignored where the build
/// found the CPU without the set or `SCRATCH_TEST_DISABLE` named it.
macro_rules! test_on_every_engine {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            use scratch::Engine;

            #[test]
            fn textbook() {
                super::$name(Engine::Textbook);
            }

            #[test]
            #[cfg_attr(
                not(test_avx2),
                ignore = "needs AVX2 and FMA (absent here or in SCRATCH_TEST_DISABLE)"
            )]
            fn avx2() {
                super::$name(Engine::Avx2);
            }

            #[test]
            #[cfg_attr(
                not(test_avx512),
                ignore = "needs AVX-512F (absent here or in SCRATCH_TEST_DISABLE)"
            )]
            fn avx512() {
                super::$name(Engine::Avx512);
            }
        }
    )*};
}
