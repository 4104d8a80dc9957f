//! What must match for two seeds' results to be pooled, and the first field where two
//! fingerprints part.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Everything that decides a seed's result apart from the seed itself. Threads, host and
/// timing are left out on purpose: they change how long a seed takes, not what it computes.
/// `C` is the caller's configuration with the seed, thread, output and logging settings left
/// out.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fingerprint<C> {
    pub config: C,
    /// The SHA-256 of each dataset file's content, by file name.
    pub dataset_sha256: BTreeMap<String, String>,
    /// The version of the crates that trained (one for the whole workspace).
    pub crate_version: String,
    pub libtorch_version: String,
    /// The engine the scratch model ran on, as resolved on the CPU (never `auto`).
    pub scratch_engine: String,
    /// The torch model's device (`cpu`, `cuda:0`).
    pub device: String,
}

/// A field of a [`Fingerprint`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Field {
    /// A configuration key, dotted when nested (`data.dataset`).
    Config(String),
    /// A dataset file, present on one side only or with another checksum.
    DatasetFile(String),
    CrateVersion,
    LibtorchVersion,
    ScratchEngine,
    Device,
}

/// Where two fingerprints first part, with both values as JSON text (`absent` when a side
/// lacks the field).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Difference {
    pub field: Field,
    pub ours: String,
    pub theirs: String,
}

const ABSENT: &str = "absent";

impl<C: Serialize + PartialEq> Fingerprint<C> {
    /// The first field in which `other` differs, in the order configuration, dataset,
    /// versions, engine, device; `None` when they match.
    pub fn first_difference(&self, other: &Self) -> Option<Difference> {
        if self.config != other.config {
            return Some(config_difference(&self.config, &other.config));
        }
        let names = self
            .dataset_sha256
            .keys()
            .chain(other.dataset_sha256.keys());
        for name in names {
            let (ours, theirs) = (
                self.dataset_sha256.get(name),
                other.dataset_sha256.get(name),
            );
            if ours != theirs {
                let show = |sha: Option<&String>| sha.map_or(ABSENT.to_owned(), String::clone);
                return Some(Difference {
                    field: Field::DatasetFile(name.clone()),
                    ours: show(ours),
                    theirs: show(theirs),
                });
            }
        }
        [
            (
                Field::CrateVersion,
                &self.crate_version,
                &other.crate_version,
            ),
            (
                Field::LibtorchVersion,
                &self.libtorch_version,
                &other.libtorch_version,
            ),
            (
                Field::ScratchEngine,
                &self.scratch_engine,
                &other.scratch_engine,
            ),
            (Field::Device, &self.device, &other.device),
        ]
        .into_iter()
        .find(|(_, ours, theirs)| ours != theirs)
        .map(|(field, ours, theirs)| Difference {
            field,
            ours: ours.clone(),
            theirs: theirs.clone(),
        })
    }
}

/// The first key where two unequal configurations differ, found on their serde form: the
/// keys are discovered there, never looked up by name.
fn config_difference<C: Serialize>(ours: &C, theirs: &C) -> Difference {
    // Through the text, not `to_value`, which widens an f32 to f64 (0.01 would show as
    // 0.009999999776482582).
    let as_value = |config: &C| {
        serde_json::to_string(config)
            .ok()
            .and_then(|text| serde_json::from_str::<Value>(&text).ok())
    };
    match (as_value(ours), as_value(theirs)) {
        (Some(ours), Some(theirs)) => first_key_difference("", &ours, &theirs),
        _ => None,
    }
    // Unequal yet serialised alike (a NaN, or a type whose `PartialEq` sees more than its
    // serde form): the configuration as a whole is what differs.
    .unwrap_or_else(|| {
        let text = |config: &C| serde_json::to_string(config).unwrap_or_default();
        Difference {
            field: Field::Config(String::new()),
            ours: text(ours),
            theirs: text(theirs),
        }
    })
}

fn first_key_difference(path: &str, ours: &Value, theirs: &Value) -> Option<Difference> {
    let join = |key: &str| match path {
        "" => key.to_owned(),
        _ => format!("{path}.{key}"),
    };
    match (ours, theirs) {
        (Value::Object(ours), Value::Object(theirs)) => {
            let keys = ours
                .keys()
                .chain(theirs.keys().filter(|k| !ours.contains_key(*k)));
            keys.map(|key| (key, ours.get(key), theirs.get(key)))
                .find_map(|(key, ours, theirs)| match (ours, theirs) {
                    (Some(ours), Some(theirs)) => first_key_difference(&join(key), ours, theirs),
                    _ => Some(Difference {
                        field: Field::Config(join(key)),
                        ours: ours.map_or(ABSENT.to_owned(), Value::to_string),
                        theirs: theirs.map_or(ABSENT.to_owned(), Value::to_string),
                    }),
                })
        }
        // Lists of the same length are compared item by item (`models[1].lr`).
        (Value::Array(ours), Value::Array(theirs)) if ours.len() == theirs.len() => ours
            .iter()
            .zip(theirs)
            .enumerate()
            .find_map(|(i, (ours, theirs))| {
                first_key_difference(&format!("{path}[{i}]"), ours, theirs)
            }),
        _ if ours == theirs => None,
        _ => Some(Difference {
            field: Field::Config(path.to_owned()),
            ours: ours.to_string(),
            theirs: theirs.to_string(),
        }),
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Field::Config(key) if key.is_empty() => f.write_str("the configuration"),
            Field::Config(key) => write!(f, "the configuration's {key}"),
            Field::DatasetFile(name) => write!(f, "the SHA-256 of dataset file {name}"),
            Field::CrateVersion => f.write_str("the crate version"),
            Field::LibtorchVersion => f.write_str("the libtorch version"),
            Field::ScratchEngine => f.write_str("the scratch engine"),
            Field::Device => f.write_str("the device"),
        }
    }
}

/// `the configuration's lr (0.01 in the first, 0.1 in the second)`
impl fmt::Display for Difference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} ({} in the first, {} in the second)",
            self.field, self.ours, self.theirs
        )
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    pub struct Config {
        pub lr: f32,
        pub hidden: Vec<usize>,
        pub data: Data,
    }

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    pub struct Data {
        pub dataset: String,
        pub limit: Option<usize>,
    }

    pub fn fingerprint() -> Fingerprint<Config> {
        Fingerprint {
            config: Config {
                lr: 0.01,
                hidden: vec![500, 250, 100],
                data: Data {
                    dataset: "mnist".into(),
                    limit: None,
                },
            },
            dataset_sha256: [
                ("train-images-idx3-ubyte", "ba89"),
                ("t10k-labels-idx1-ubyte", "f7ae"),
            ]
            .map(|(name, sha)| (name.to_owned(), sha.to_owned()))
            .into(),
            crate_version: "0.1.0".into(),
            libtorch_version: "2.13.0".into(),
            scratch_engine: "avx2".into(),
            device: "cpu".into(),
        }
    }

    fn difference(change: impl FnOnce(&mut Fingerprint<Config>)) -> Option<Difference> {
        let mut other = fingerprint();
        change(&mut other);
        fingerprint().first_difference(&other)
    }

    #[test]
    fn equal_fingerprints_have_no_difference() {
        assert_eq!(difference(|_| {}), None);
    }

    #[test]
    fn a_configuration_difference_names_its_key_dotted_when_nested() {
        let lr = difference(|f| f.config.lr = 0.1).unwrap();
        assert_eq!(lr.field, Field::Config("lr".into()));
        assert_eq!(
            lr.to_string(),
            "the configuration's lr (0.01 in the first, 0.1 in the second)"
        );
        let limit = difference(|f| f.config.data.limit = Some(640)).unwrap();
        assert_eq!(limit.field, Field::Config("data.limit".into()));
        assert_eq!(
            (limit.ours.as_str(), limit.theirs.as_str()),
            ("null", "640")
        );
        let hidden = difference(|f| f.config.hidden = vec![256, 128]).unwrap();
        assert_eq!(
            hidden.to_string(),
            "the configuration's hidden ([500,250,100] in the first, [256,128] in the second)"
        );
        let width = difference(|f| f.config.hidden[1] = 200).unwrap();
        assert_eq!(
            width.to_string(),
            "the configuration's hidden[1] (250 in the first, 200 in the second)"
        );
    }

    #[test]
    fn the_configuration_is_compared_before_the_rest() {
        let both = difference(|f| {
            f.device = "cuda:0".into();
            f.config.data.dataset = "kmnist".into();
        });
        assert_eq!(both.unwrap().field, Field::Config("data.dataset".into()));
    }

    #[test]
    fn a_nan_that_serialises_alike_still_differs_as_the_whole_configuration() {
        let mut nan = fingerprint();
        nan.config.lr = f32::NAN;
        let whole = nan.first_difference(&nan.clone()).unwrap();
        assert_eq!(whole.field, Field::Config(String::new()));
        assert!(
            whole
                .to_string()
                .starts_with("the configuration ({\"lr\":null,"),
            "{whole}"
        );
    }

    #[test]
    fn a_dataset_file_differs_by_checksum_or_by_being_on_one_side_only() {
        let changed = difference(|f| {
            f.dataset_sha256
                .insert("train-images-idx3-ubyte".into(), "0000".into());
        })
        .unwrap();
        assert_eq!(
            changed.field,
            Field::DatasetFile("train-images-idx3-ubyte".into())
        );
        assert_eq!(
            (changed.ours.as_str(), changed.theirs.as_str()),
            ("ba89", "0000")
        );
        let missing = difference(|f| {
            f.dataset_sha256.remove("t10k-labels-idx1-ubyte");
        })
        .unwrap();
        assert_eq!(
            missing.to_string(),
            "the SHA-256 of dataset file t10k-labels-idx1-ubyte (f7ae in the first, absent in the second)"
        );
    }

    #[test]
    fn versions_engine_and_device_are_named() {
        assert_eq!(
            difference(|f| f.crate_version = "0.2.0".into())
                .unwrap()
                .field,
            Field::CrateVersion
        );
        assert_eq!(
            difference(|f| f.libtorch_version = "2.12.0".into())
                .unwrap()
                .field,
            Field::LibtorchVersion
        );
        assert_eq!(
            difference(|f| f.scratch_engine = "textbook".into())
                .unwrap()
                .to_string(),
            "the scratch engine (avx2 in the first, textbook in the second)"
        );
        assert_eq!(
            difference(|f| f.device = "cuda:0".into()).unwrap().field,
            Field::Device
        );
    }
}
