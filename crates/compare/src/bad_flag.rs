//! The error of a command line that asks for something impossible: exit code 2, like the
//! errors clap reports itself.

/// A command line that asks for something impossible, with the fix: exit code 2, like the
/// errors clap reports itself (unknown flags, values of the wrong type).
#[derive(Debug)]
pub struct BadFlag(pub String);

impl std::fmt::Display for BadFlag {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for BadFlag {}
