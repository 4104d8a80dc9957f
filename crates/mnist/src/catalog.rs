//! The MNIST-format datasets known by name: where each is published, the checksums of its
//! four files, and the names of its ten classes.
//!
//! Sources: the `.gz` MD5s and mirrors are those torchvision's `MNIST`, `FashionMNIST` and
//! `KMNIST` classes publish (`torchvision/datasets/mnist.py`); KMNIST's mirror is also the one
//! its maintainers (ROIS-CODH, `rois-codh/kmnist`) link. The content SHA-256s of MNIST and
//! Fashion-MNIST were measured on the original files. KMNIST's are not known here (its
//! maintainers publish none, and there was no network to measure them), so KMNIST files are
//! verified by the published MD5 of their `.gz` only: see [`KnownFile::sha256`].

use std::fmt;
use std::str::FromStr;

use contract::CLASSES;
use serde::{Deserialize, Serialize};

use crate::checksum::KnownFile;

/// A dataset in MNIST's IDX format (28×28 grey images, ten classes, 60 000 + 10 000).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DatasetName {
    /// LeCun, Cortes and Burges' handwritten digits.
    #[default]
    Mnist,
    /// Zalando's clothing images.
    FashionMnist,
    /// Kuzushiji-MNIST: cursive Japanese (hiragana), one character per row of the syllabary.
    Kmnist,
}

impl DatasetName {
    pub const ALL: [DatasetName; 3] = [
        DatasetName::Mnist,
        DatasetName::FashionMnist,
        DatasetName::Kmnist,
    ];

    /// The short name: the `--dataset` value and the name of its cache folder.
    pub fn id(self) -> &'static str {
        match self {
            DatasetName::Mnist => "mnist",
            DatasetName::FashionMnist => "fashion-mnist",
            DatasetName::Kmnist => "kmnist",
        }
    }

    /// The name people know it by.
    pub fn title(self) -> &'static str {
        match self {
            DatasetName::Mnist => "MNIST",
            DatasetName::FashionMnist => "Fashion-MNIST",
            DatasetName::Kmnist => "Kuzushiji-MNIST",
        }
    }

    /// Train images, train labels, test images, test labels.
    pub fn files(self) -> &'static [KnownFile; 4] {
        match self {
            DatasetName::Mnist => &MNIST_FILES,
            DatasetName::FashionMnist => &FASHION_MNIST_FILES,
            DatasetName::Kmnist => &KMNIST_FILES,
        }
    }

    /// Base URLs serving `{file}.gz`, tried in this order.
    pub fn mirrors(self) -> &'static [&'static str] {
        match self {
            DatasetName::Mnist => &[
                "https://ossci-datasets.s3.amazonaws.com/mnist/",
                "https://storage.googleapis.com/cvdf-datasets/mnist/",
            ],
            DatasetName::FashionMnist => {
                &["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"]
            }
            DatasetName::Kmnist => &["http://codh.rois.ac.jp/kmnist/dataset/kmnist/"],
        }
    }

    /// The name of each label 0 to 9 (KMNIST's are torchvision's romanisations of
    /// お き す つ な は ま や れ を).
    pub fn classes(self) -> &'static [&'static str; CLASSES] {
        match self {
            DatasetName::Mnist => &["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"],
            DatasetName::FashionMnist => &[
                "T-shirt/top",
                "Trouser",
                "Pullover",
                "Dress",
                "Coat",
                "Sandal",
                "Shirt",
                "Sneaker",
                "Bag",
                "Ankle boot",
            ],
            DatasetName::Kmnist => &["o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo"],
        }
    }
}

impl fmt::Display for DatasetName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

/// A name that is none of [`DatasetName::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown dataset {0:?}: use mnist, fashion-mnist or kmnist")]
pub struct UnknownDataset(pub String);

impl FromStr for DatasetName {
    type Err = UnknownDataset;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        DatasetName::ALL
            .into_iter()
            .find(|d| d.id() == s)
            .ok_or_else(|| UnknownDataset(s.to_owned()))
    }
}

/// MNIST's four files.
pub const MNIST_FILES: [KnownFile; 4] = [
    KnownFile {
        name: "train-images-idx3-ubyte",
        gz_md5: "f68b3c2dcbeaaa9fbdd348bbdeb94873",
        sha256: Some("ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db"),
    },
    KnownFile {
        name: "train-labels-idx1-ubyte",
        gz_md5: "d53e105ee54ea40749a09fcbcd1e9432",
        sha256: Some("65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5"),
    },
    KnownFile {
        name: "t10k-images-idx3-ubyte",
        gz_md5: "9fb629c4189551a2d022fa330f9573f3",
        sha256: Some("0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7"),
    },
    KnownFile {
        name: "t10k-labels-idx1-ubyte",
        gz_md5: "ec29112dd5afa0611ce80d1b7f02629c",
        sha256: Some("ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2"),
    },
];

/// Fashion-MNIST's four files (issue 12 gives the content SHA-256s).
pub const FASHION_MNIST_FILES: [KnownFile; 4] = [
    KnownFile {
        name: "train-images-idx3-ubyte",
        gz_md5: "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
        sha256: Some("c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888"),
    },
    KnownFile {
        name: "train-labels-idx1-ubyte",
        gz_md5: "25c81989df183df01b3e8a0aad5dffbe",
        sha256: Some("bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9"),
    },
    KnownFile {
        name: "t10k-images-idx3-ubyte",
        gz_md5: "bef4ecab320f06d8554ea6380940ec79",
        sha256: Some("5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b"),
    },
    KnownFile {
        name: "t10k-labels-idx1-ubyte",
        gz_md5: "bb300cfdad3c16e7a12a480ee83cd310",
        sha256: Some("0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34"),
    },
];

/// KMNIST's four files: no content SHA-256 is known, so only the published `.gz` is accepted.
pub const KMNIST_FILES: [KnownFile; 4] = [
    KnownFile {
        name: "train-images-idx3-ubyte",
        gz_md5: "bdb82020997e1d708af4cf47b453dcf7",
        sha256: None,
    },
    KnownFile {
        name: "train-labels-idx1-ubyte",
        gz_md5: "e144d726b3acfaa3e44228e80efcd344",
        sha256: None,
    },
    KnownFile {
        name: "t10k-images-idx3-ubyte",
        gz_md5: "5c965bf0a639b31b8f53240b1b52f4d7",
        sha256: None,
    },
    KnownFile {
        name: "t10k-labels-idx1-ubyte",
        gz_md5: "7320c461ea6c1c855c0b718fb2a4b134",
        sha256: None,
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_parses_back_and_an_unknown_one_is_refused() {
        for name in DatasetName::ALL {
            assert_eq!(name.id().parse::<DatasetName>(), Ok(name));
        }
        let error = "emnist".parse::<DatasetName>().expect_err("not known");
        assert!(error.to_string().contains("fashion-mnist"), "{error}");
    }

    #[test]
    fn every_dataset_has_ten_distinct_classes_and_checksums_of_the_right_length() {
        for name in DatasetName::ALL {
            let mut classes = name.classes().to_vec();
            classes.sort_unstable();
            classes.dedup();
            assert_eq!(classes.len(), CLASSES, "{name}");
            for file in name.files() {
                assert_eq!(file.gz_md5.len(), 32, "{name} {}", file.name);
                assert!(file.sha256.is_none_or(|s| s.len() == 64), "{name}");
            }
            assert!(!name.mirrors().is_empty());
        }
    }
}
