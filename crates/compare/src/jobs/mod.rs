//! One file per subcommand: each takes its plain configuration, runs, and says how it ended.

pub mod aggregate;
pub mod data;
pub mod parity;
pub mod run;
pub mod seeds;
pub mod table;
