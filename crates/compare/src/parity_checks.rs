//! `compare parity --check`: which parts of a step (the gradients, the loss, the optimiser
//! step) decide the exit code. Each part is measured and reported whatever it says.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use serde::Serialize;

/// One part of a parity step, judged on its own verdict line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ParityPart {
    /// Every layer's weight and bias gradient.
    Gradients,
    /// The parameters after the optimiser step.
    Update,
    /// The loss.
    Loss,
}

impl ParityPart {
    /// In the order the verdict lists them.
    pub const ALL: [ParityPart; 3] = [ParityPart::Gradients, ParityPart::Loss, ParityPart::Update];

    /// The name `--check` takes, and `verdict.json` writes.
    pub fn name(self) -> &'static str {
        match self {
            ParityPart::Gradients => "gradients",
            ParityPart::Update => "update",
            ParityPart::Loss => "loss",
        }
    }

    /// What the verdict line calls it.
    pub fn described(self) -> &'static str {
        match self {
            ParityPart::Gradients => "the gradients",
            ParityPart::Update => "the optimiser step",
            ParityPart::Loss => "the loss",
        }
    }
}

/// The parts that gate the exit code: never empty.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ParityChecks(BTreeSet<ParityPart>);

impl Default for ParityChecks {
    /// All three.
    fn default() -> Self {
        ParityChecks(ParityPart::ALL.into_iter().collect())
    }
}

impl ParityChecks {
    /// Whether a finding in `part` fails the check.
    pub fn gates(&self, part: ParityPart) -> bool {
        self.0.contains(&part)
    }

    /// Whether the optimiser step is all that gates.
    pub fn only_update(&self) -> bool {
        self.0.iter().all(|&part| part == ParityPart::Update)
    }
}

impl fmt::Display for ParityChecks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.0.iter().map(|p| p.name()).collect();
        f.write_str(&names.join(","))
    }
}

/// Why a `--check` value names no parts.
#[derive(Debug)]
pub enum ChecksError {
    Unknown(String),
    Empty,
}

impl fmt::Display for ChecksError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ChecksError::Unknown(name) => write!(f, "{name:?} is not a part"),
            ChecksError::Empty => f.write_str("no part named"),
        }?;
        f.write_str(": name one or more of gradients, update, loss, comma-separated")
    }
}

impl std::error::Error for ChecksError {}

impl FromStr for ParityChecks {
    type Err = ChecksError;

    /// A comma-separated list of part names, in any order (a name given twice counts once).
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let parts = (text
            .split(',')
            .map(str::trim)
            .filter(|name| !name.is_empty()))
        .map(|name| {
            (ParityPart::ALL.into_iter())
                .find(|part| part.name() == name)
                .ok_or_else(|| ChecksError::Unknown(name.to_owned()))
        })
        .collect::<Result<BTreeSet<_>, _>>()?;
        if parts.is_empty() {
            return Err(ChecksError::Empty);
        }
        Ok(ParityChecks(parts))
    }
}

#[cfg(test)]
mod tests {
    use super::{ParityChecks, ParityPart};

    #[test]
    fn a_check_list_is_a_set_of_parts_in_any_order() {
        let checks: ParityChecks = "loss, gradients,loss".parse().expect("valid");
        assert!(checks.gates(ParityPart::Loss) && checks.gates(ParityPart::Gradients));
        assert!(!checks.gates(ParityPart::Update));
        assert_eq!(checks.to_string(), "gradients,loss");
        assert_eq!(ParityChecks::default().to_string(), "gradients,update,loss");
        assert!("update"
            .parse::<ParityChecks>()
            .expect("valid")
            .only_update());
        for wrong in ["", ",", "gradient", "loss,weights"] {
            let error = wrong.parse::<ParityChecks>().expect_err("refused");
            assert!(
                error.to_string().contains("gradients, update, loss"),
                "{error}"
            );
        }
    }
}
