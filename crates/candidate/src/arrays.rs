//! The arrays of requests and answers (protocol 2): raw little-endian values in two files
//! that the harness creates at start and names in its hello, so that megabytes a step do not
//! pass through the pipes or an archive. The harness writes a request's arrays to the requests
//! file before it sends the request, whose header lists them ([`Entry`]: name, dtype, shape,
//! byte offset); the candidate writes its answer's arrays to the answers file and lists them
//! so in its answer's header. Neither side touches a file while the other may read it.
//!
//! An answer's arrays are read under the page's rules: every expected name present and no
//! other, the expected shape, float32 or float64, inside the file, every value finite.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::os::fd::AsRawFd;
use std::path::Path;

use contract::{LayerParameters, Parameters};
use ndarray::ArrayView2;
use serde::{Deserialize, Serialize};

use crate::Fault;

/// Where every request's array starts: a multiple of this many bytes, so that a candidate can
/// view it in place (64 is a cache line and more than any dtype's alignment).
const ALIGN: usize = 64;

/// The names of layer `l`'s (from 0) weight and bias, CS231n style: `W1`, `b1`, ….
pub fn parameter_names(l: usize) -> (String, String) {
    (format!("W{}", l + 1), format!("b{}", l + 1))
}

/// The name of hidden layer `l`'s (from 0) pre-activations: `Z1`, ….
pub fn pre_activation_name(l: usize) -> String {
    format!("Z{}", l + 1)
}

/// Where one array lies in its file, as a header lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    pub name: String,
    /// NumPy's name of the element type: `<f4` or `<f8` (float32, float64), `<i8` (int64).
    pub dtype: String,
    pub shape: Vec<usize>,
    /// Bytes from the file's start.
    pub offset: u64,
}

/// The two files, named in the hello as `{"requests": path, "answers": path}`. Each is
/// created without a name (`O_TMPFILE`) in `/dev/shm` (memory, on Linux) when there is one,
/// else in the temporary folder, and named by this process's descriptor of it,
/// `/proc/<pid>/fd/<n>`, which the candidate opens as a file (as often as it likes) while
/// this process runs. So no file is ever left behind, whichever process ends and however
/// (a SIGKILL included): the memory goes once neither holds the file open.
#[derive(Debug, Serialize)]
pub struct Files {
    requests: String,
    answers: String,
    #[serde(skip)]
    request_file: File,
    #[serde(skip)]
    answer_file: File,
}

impl Files {
    pub fn create() -> io::Result<Files> {
        let shm = Path::new("/dev/shm");
        let folder = if shm.is_dir() {
            shm.to_owned()
        } else {
            std::env::temp_dir()
        };
        let create = || {
            let file = tempfile::tempfile_in(&folder)?;
            let path = format!("/proc/{}/fd/{}", std::process::id(), file.as_raw_fd());
            Ok::<_, io::Error>((file, path))
        };
        let (request_file, requests) = create()?;
        let (answer_file, answers) = create()?;
        Ok(Files {
            requests,
            answers,
            request_file,
            answer_file,
        })
    }

    /// A request's arrays, written to the requests file one after another as they are added.
    pub fn request(&mut self) -> RequestArrays<'_> {
        RequestArrays {
            file: &mut self.request_file,
            end: 0,
            entries: Vec::new(),
            error: None,
        }
    }

    /// The arrays an answer's header lists, read from the answers file, none of which may end
    /// past `max_bytes`.
    pub fn answer(&mut self, entries: Vec<Entry>, max_bytes: u64) -> Result<Answered<'_>, Fault> {
        let mut left = BTreeMap::new();
        for entry in entries {
            let name = entry.name.clone();
            if left.insert(name.clone(), entry).is_some() {
                return Err(Fault::Malformed(format!("array {name:?} is listed twice")));
            }
        }
        Ok(Answered {
            files: self,
            left,
            max_bytes,
        })
    }
}

/// A request's arrays being written, each straight from where it lies (no buffer between).
pub struct RequestArrays<'f> {
    file: &'f mut File,
    /// Where the last array written ends.
    end: u64,
    entries: Vec<Entry>,
    /// The first write that failed (the arrays after it are not written).
    error: Option<io::Error>,
}

impl RequestArrays<'_> {
    /// `values` (row-major) as array `name` of `shape`.
    pub fn add_f32(&mut self, name: String, shape: &[usize], values: &[f32]) {
        if cfg!(target_endian = "little") {
            self.put(name, "<f4", shape, bytemuck::cast_slice(values));
        } else {
            let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
            self.put(name, "<f4", shape, &bytes);
        }
    }

    /// `values` as array `name`, one dimension, int64.
    pub fn add_i64(&mut self, name: String, values: impl Iterator<Item = i64>) {
        let bytes: Vec<u8> = values.flat_map(i64::to_le_bytes).collect();
        self.put(name, "<i8", &[bytes.len() / 8], &bytes);
    }

    /// The images of a batch, `(m, 784)`, as array `name`.
    pub fn add_images(&mut self, name: String, images: &ArrayView2<'_, f32>) {
        match images.as_slice() {
            Some(values) => self.add_f32(name, images.shape(), values),
            None => self.add_f32(
                name,
                images.shape(),
                &images.iter().copied().collect::<Vec<_>>(),
            ),
        }
    }

    /// Every layer's weight `(out, in)` and bias `(out)` as `{prefix}W1`, `{prefix}b1`, ….
    pub fn add_parameters(&mut self, prefix: &str, parameters: &Parameters) {
        for (l, p) in parameters.iter().enumerate() {
            let (w, b) = parameter_names(l);
            let shape = [p.out_features, p.in_features];
            self.add_f32(format!("{prefix}{w}"), &shape, &p.weight);
            self.add_f32(format!("{prefix}{b}"), &[p.bias.len()], &p.bias);
        }
    }

    /// The entries of the arrays written, for the request's header, or the first failure.
    pub fn finish(self) -> io::Result<Vec<Entry>> {
        match self.error {
            Some(error) => Err(error),
            None => Ok(self.entries),
        }
    }

    /// `bytes` as array `name`, at the next aligned offset.
    fn put(&mut self, name: String, dtype: &str, shape: &[usize], bytes: &[u8]) {
        let offset = self.end.next_multiple_of(ALIGN as u64);
        self.end = offset + bytes.len() as u64;
        self.entries.push(Entry {
            name,
            dtype: dtype.to_owned(),
            shape: shape.to_vec(),
            offset,
        });
        if self.error.is_none() {
            let file = &mut *self.file;
            let written = file
                .seek(SeekFrom::Start(offset))
                .and_then(|_| file.write_all(bytes));
            self.error = written.err();
        }
    }
}

/// An answer's arrays, read name by name.
pub struct Answered<'f> {
    files: &'f mut Files,
    /// Entries not yet taken, by name.
    left: BTreeMap<String, Entry>,
    max_bytes: u64,
}

impl Answered<'_> {
    pub fn has(&self, name: &str) -> bool {
        self.left.contains_key(name)
    }

    /// Array `name` of `shape`, float32 or float64 (narrowed to f32), all finite.
    pub fn take(&mut self, name: &str, shape: &[usize]) -> Result<Vec<f32>, Fault> {
        let (got, values) = self.take_any(name)?;
        if got != shape {
            return Err(Fault::WrongShape {
                name: name.to_owned(),
                expected: shape.to_vec(),
                got,
            });
        }
        Ok(values)
    }

    /// A scalar `name`: shape `()` (or `(1,)`).
    pub fn take_scalar(&mut self, name: &str) -> Result<f32, Fault> {
        let (got, values) = self.take_any(name)?;
        match (got.as_slice(), values.as_slice()) {
            ([] | [1], [value]) => Ok(*value),
            _ => Err(Fault::WrongShape {
                name: name.to_owned(),
                expected: Vec::new(),
                got,
            }),
        }
    }

    /// Every layer's weight and bias, named `W1, b1, …`, shaped like `like`.
    pub fn take_parameters(&mut self, like: &Parameters) -> Result<Parameters, Fault> {
        like.iter()
            .enumerate()
            .map(|(l, p)| {
                let (w, b) = parameter_names(l);
                Ok(LayerParameters {
                    weight: self.take(&w, &[p.out_features, p.in_features])?,
                    bias: self.take(&b, &[p.out_features])?,
                    ..*p
                })
            })
            .collect()
    }

    /// Fails on the first name the protocol does not define (the answer's names left).
    pub fn finish(self) -> Result<(), Fault> {
        match self.left.into_keys().next() {
            Some(name) => Err(Fault::UnknownArray { name }),
            None => Ok(()),
        }
    }

    fn take_any(&mut self, name: &str) -> Result<(Vec<usize>, Vec<f32>), Fault> {
        let Some(entry) = self.left.remove(name) else {
            return Err(Fault::MissingArray {
                name: name.to_owned(),
                got: self.left.keys().cloned().collect(),
            });
        };
        let values: Vec<f32> = match entry.dtype.as_str() {
            "<f4" => self.read(&entry, f32::from_le_bytes)?,
            "<f8" => {
                let wide = self.read(&entry, f64::from_le_bytes)?;
                if let Some(fault) = first_not_finite(name, &wide) {
                    return Err(fault);
                }
                wide.into_iter().map(|x| x as f32).collect()
            }
            _ => {
                return Err(Fault::WrongDtype {
                    name: entry.name,
                    dtype: entry.dtype,
                })
            }
        };
        // A float64 beyond f32's range becomes infinite here.
        if let Some(fault) = first_not_finite(name, &values) {
            return Err(fault);
        }
        Ok((entry.shape, values))
    }

    /// `entry`'s values, `N` little-endian bytes each: read straight into them on a
    /// little-endian machine, else each decoded with `decode`.
    fn read<T: bytemuck::Pod, const N: usize>(
        &mut self,
        entry: &Entry,
        decode: fn([u8; N]) -> T,
    ) -> Result<Vec<T>, Fault> {
        let name = &entry.name;
        let end = entry
            .shape
            .iter()
            .try_fold(N as u64, |bytes, &n| bytes.checked_mul(n as u64))
            .and_then(|bytes| Some((bytes, bytes.checked_add(entry.offset)?)))
            .filter(|&(_, end)| end <= self.max_bytes);
        let Some((bytes, _)) = end else {
            let limit = self.max_bytes;
            return Err(Fault::Malformed(format!(
                "array {name:?} ({:?} at byte {}) ends past the {limit} bytes an answer of this network may take",
                entry.shape, entry.offset
            )));
        };
        let mut values = vec![T::zeroed(); bytes as usize / N];
        let file = &mut self.files.answer_file;
        let mut read_into = |buffer: &mut [u8]| {
            file.seek(SeekFrom::Start(entry.offset))?;
            file.read_exact(buffer)
        };
        let read = if cfg!(target_endian = "little") {
            read_into(bytemuck::cast_slice_mut(&mut values))
        } else {
            let mut bytes = vec![0; bytes as usize];
            read_into(&mut bytes).map(|()| {
                for (value, b) in values.iter_mut().zip(bytes.chunks_exact(N)) {
                    let mut word = [0; N];
                    word.copy_from_slice(b);
                    *value = decode(word);
                }
            })
        };
        read.map_err(|e| {
            Fault::Malformed(format!(
                "array {name:?} ({:?} at byte {}) cannot be read from the answers file: {e}",
                entry.shape, entry.offset
            ))
        })?;
        Ok(values)
    }
}

/// Values checked at once before any is looked at alone: a branch-free pass the compiler
/// vectorises, where the search for the first bad value goes element by element.
const FINITE_BLOCK: usize = 256;

/// [`Fault::NotFinite`] at the first NaN or infinity of `values`, in row-major order.
fn first_not_finite<T: Copy + Into<f64>>(name: &str, values: &[T]) -> Option<Fault> {
    let finite = |x: &T| (*x).into().is_finite();
    for (block, chunk) in values.chunks(FINITE_BLOCK).enumerate() {
        if chunk.iter().fold(true, |all, x| all & finite(x)) {
            continue;
        }
        let (index, value) = chunk.iter().enumerate().find(|(_, x)| !finite(x))?;
        return Some(Fault::NotFinite {
            name: name.to_owned(),
            index: block * FINITE_BLOCK + index,
            value: (*value).into(),
        });
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(name: &str, shape: &[usize], offset: u64) -> Entry {
        Entry {
            name: name.to_owned(),
            dtype: "<f8".to_owned(),
            shape: shape.to_vec(),
            offset,
        }
    }

    /// Each file opens by the path the hello names, and the two are one file; neither has a
    /// name in its folder, so nothing is left whichever process is killed.
    #[test]
    fn the_files_open_by_their_paths_and_have_no_name() {
        use std::os::unix::fs::MetadataExt;
        let mut files = Files::create().expect("files");
        std::fs::write(&files.answers, b"seen").expect("writable by its path");
        let mut read = String::new();
        files
            .answer_file
            .read_to_string(&mut read)
            .expect("readable");
        assert_eq!(read, "seen");
        let ours: Vec<(u64, u64)> = [&files.request_file, &files.answer_file]
            .map(|f| f.metadata().map(|m| (m.dev(), m.ino())).expect("fstat"))
            .to_vec();
        for folder in [Path::new("/dev/shm").to_owned(), std::env::temp_dir()] {
            for entry in std::fs::read_dir(folder).into_iter().flatten().flatten() {
                if let Ok(m) = entry.metadata() {
                    let named = (m.dev(), m.ino());
                    assert!(!ours.contains(&named), "{}", entry.path().display());
                }
            }
        }
    }

    /// A request's arrays lie in its file where their entries say: aligned, little-endian.
    #[test]
    fn a_request_lies_where_its_entries_say() {
        let mut files = Files::create().expect("files");
        let mut request = files.request();
        request.add_f32("a".to_owned(), &[2], &[1.5, -2.0]);
        request.add_i64("y".to_owned(), [7_i64, 3].into_iter());
        let entries = request.finish().expect("written");
        let offsets: Vec<u64> = entries.iter().map(|e| e.offset).collect();
        assert_eq!(offsets, [0, 64]);
        assert_eq!(
            (entries[1].dtype.as_str(), &entries[1].shape[..]),
            ("<i8", &[2][..])
        );
        let bytes = std::fs::read(&files.requests).expect("readable");
        assert_eq!(
            bytes[..8],
            [1.5_f32.to_le_bytes(), (-2.0_f32).to_le_bytes()].concat()
        );
        assert_eq!(
            bytes[64..80],
            [7_i64.to_le_bytes(), 3_i64.to_le_bytes()].concat()
        );
    }

    /// The answers file holds one float64 array [1, 2] (16 bytes): read within it; past its
    /// end, past the limit (also for a shape whose size overflows) or listed twice, malformed.
    #[test]
    fn an_answer_out_of_bounds_or_listed_twice_is_malformed() {
        let mut files = Files::create().expect("files");
        let values: Vec<u8> = [1.0_f64, 2.0]
            .iter()
            .flat_map(|x| x.to_le_bytes())
            .collect();
        std::fs::write(&files.answers, values).expect("writable");
        let mut within = files
            .answer(vec![entry("a", &[2], 0)], 16)
            .expect("one entry");
        assert_eq!(within.take("a", &[2]), Ok(vec![1.0, 2.0]));
        let malformed = |result: Result<Vec<f32>, Fault>, why: &str| match result {
            Err(Fault::Malformed(message)) => assert!(message.contains(why), "{message}"),
            other => panic!("{other:?}"),
        };
        let mut past_end = files
            .answer(vec![entry("a", &[2], 8)], 1 << 20)
            .expect("one");
        malformed(
            past_end.take("a", &[2]),
            "cannot be read from the answers file",
        );
        for shape in [&[3][..], &[usize::MAX, 2]] {
            let mut past_limit = files.answer(vec![entry("a", shape, 0)], 16).expect("one");
            malformed(past_limit.take("a", shape), "ends past the 16 bytes");
        }
        let twice = files.answer(vec![entry("a", &[1], 0), entry("a", &[1], 8)], 16);
        assert!(
            matches!(&twice, Err(Fault::Malformed(m)) if m.contains("listed twice")),
            "{:?}",
            twice.err()
        );
    }

    /// Past the first block, the first of two bad values, with its index.
    #[test]
    fn the_first_value_not_finite_is_named_at_its_index() {
        let mut values = vec![1.0_f32; 600];
        values[513] = f32::INFINITY;
        values[300] = f32::NAN;
        match first_not_finite("W1", &values) {
            Some(Fault::NotFinite { index, value, .. }) => {
                assert_eq!(index, 300);
                assert!(value.is_nan());
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(first_not_finite("W1", &values[..300]), None);
    }
}
