//! What the integration tests share: one test per engine, so that the tests of a kernel set
//! this CPU lacks are counted as ignored, not as passed (`build.rs` decides which run).

/// `test_on_engines!(name: textbook, avx2, avx512)` turns `fn name(engine: Engine)` into a
/// module `name` of one test per engine listed (`name::textbook`, `name::avx2`,
/// `name::avx512`); those of a kernel set are ignored where the build found the CPU without
/// it or `SCRATCH_TEST_DISABLE` named it.
macro_rules! test_on_engines {
    ($($name:ident: $($engine:ident),+;)+) => {$(
        mod $name {
            $(test_on_engines!(@test $name $engine);)+
        }
    )+};
    (@test $name:ident textbook) => {
        #[test]
        fn textbook() {
            super::$name(scratch::Engine::Textbook);
        }
    };
    (@test $name:ident avx2) => {
        #[test]
        #[cfg_attr(
            not(test_avx2),
            ignore = "needs AVX2 and FMA (absent here or in SCRATCH_TEST_DISABLE)"
        )]
        fn avx2() {
            super::$name(scratch::Engine::Avx2);
        }
    };
    (@test $name:ident avx512) => {
        #[test]
        #[cfg_attr(
            not(test_avx512),
            ignore = "needs AVX-512F (absent here or in SCRATCH_TEST_DISABLE)"
        )]
        fn avx512() {
            super::$name(scratch::Engine::Avx512);
        }
    };
}
