//! The download path against an HTTP server on 127.0.0.1 that each test starts: a good
//! mirror delivers, a corrupt one is refused without leaving a file, and the next is tried.

mod common;

use std::collections::HashMap;
use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use mnist::{ensure_files, idx, DataSource, Error, KnownFile, MNIST_FILES};
use tempfile::TempDir;

/// Serves `routes` (path → body; anything else is a 404) to at most `max_requests`
/// connections, one request each, then stops. Returns the base URL and the log of
/// requested paths.
fn serve(
    routes: HashMap<String, Vec<u8>>,
    max_requests: usize,
) -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a local port");
    let base = format!("http://{}", listener.local_addr().expect("local address"));
    let log = Arc::new(Mutex::new(Vec::new()));
    let served = Arc::clone(&log);
    thread::spawn(move || {
        for stream in listener.incoming().take(max_requests) {
            let Ok(mut stream) = stream else { continue };
            stream.set_read_timeout(Some(Duration::from_secs(5))).ok();
            let mut reader = BufReader::new(&stream);
            let mut request_line = String::new();
            if reader.read_line(&mut request_line).is_err() {
                continue;
            }
            // Skip the headers, up to the blank line.
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                line.clear();
            }
            let path = request_line
                .split_whitespace()
                .nth(1)
                .unwrap_or("")
                .to_owned();
            served.lock().expect("log lock").push(path.clone());
            let (status, body) = match routes.get(&path) {
                Some(body) => ("200 OK", body.as_slice()),
                None => ("404 Not Found", &b"not found"[..]),
            };
            let head = format!(
                "HTTP/1.1 {status}\r\nContent-Length: {}\r\nContent-Type: application/octet-stream\r\nConnection: close\r\n\r\n",
                body.len()
            );
            // A client that gave up is not this server's failure.
            let _ = stream
                .write_all(head.as_bytes())
                .and_then(|()| stream.write_all(body));
        }
    });
    (base, log)
}

fn real_gz(file: &KnownFile) -> Vec<u8> {
    fs::read(common::mnist_dir().join(file.gz_name())).expect("the real .gz reads")
}

/// The real `.gz` with one byte in the middle of the compressed stream changed.
fn corrupt_gz(file: &KnownFile) -> Vec<u8> {
    let mut bytes = real_gz(file);
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xff;
    bytes
}

fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .expect("list the folder")
        .map(|entry| {
            entry
                .expect("entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    names.sort();
    names
}

fn source(dir: &Path, mirrors: Vec<String>) -> DataSource {
    DataSource {
        dir: Some(dir.to_owned()),
        verify_mnist_checksums: true,
        download: true,
        mirrors,
    }
}

fn sorted_gz_names() -> Vec<String> {
    let mut names: Vec<String> = MNIST_FILES.iter().map(KnownFile::gz_name).collect();
    names.sort();
    names
}

#[test]
fn a_good_mirror_delivers_all_four_verified_files() {
    let routes = MNIST_FILES
        .iter()
        .map(|f| (format!("/good/{}", f.gz_name()), real_gz(f)))
        .collect();
    let (base, log) = serve(routes, 4);
    let root = TempDir::new().expect("temp dir");
    let dir = root.path().join("not-yet-there");

    let got = ensure_files(&source(&dir, vec![format!("{base}/good/")])).expect("downloads");

    assert_eq!(got, dir);
    assert_eq!(
        names_in(&dir),
        sorted_gz_names(),
        "exactly the four files, no leftovers"
    );
    for file in MNIST_FILES {
        assert!(fs::read(dir.join(file.gz_name())).expect("downloaded") == real_gz(&file));
    }
    let requested: Vec<String> = MNIST_FILES
        .iter()
        .map(|f| format!("/good/{}", f.gz_name()))
        .collect();
    assert_eq!(*log.lock().expect("log lock"), requested);
}

#[test]
fn a_corrupt_mirror_is_refused_and_the_next_is_tried() {
    let labels = [MNIST_FILES[1], MNIST_FILES[3]];
    let mut routes = HashMap::new();
    for file in labels {
        routes.insert(format!("/bad/{}", file.gz_name()), corrupt_gz(&file));
        routes.insert(format!("/good/{}", file.gz_name()), real_gz(&file));
    }
    let (base, log) = serve(routes, 4);
    // The image files are in place already: only the two labels files are fetched.
    let dir = TempDir::new().expect("temp dir");
    for file in [MNIST_FILES[0], MNIST_FILES[2]] {
        fs::copy(
            common::mnist_dir().join(file.gz_name()),
            dir.path().join(file.gz_name()),
        )
        .expect("copy a real file");
    }

    let mirrors = vec![format!("{base}/bad"), format!("{base}/good")];
    ensure_files(&source(dir.path(), mirrors)).expect("the second mirror delivers");

    assert_eq!(
        names_in(dir.path()),
        sorted_gz_names(),
        "no partial file is left behind"
    );
    for file in labels {
        assert!(fs::read(dir.path().join(file.gz_name())).expect("downloaded") == real_gz(&file));
    }
    assert_eq!(
        *log.lock().expect("log lock"),
        [
            "/bad/train-labels-idx1-ubyte.gz",
            "/good/train-labels-idx1-ubyte.gz",
            "/bad/t10k-labels-idx1-ubyte.gz",
            "/good/t10k-labels-idx1-ubyte.gz"
        ]
    );
}

#[test]
fn when_every_mirror_fails_the_error_lists_each_and_nothing_is_left() {
    let file = MNIST_FILES[0];
    let routes = HashMap::from([(format!("/bad/{}", file.gz_name()), corrupt_gz(&file))]);
    let (base, _log) = serve(routes, 2);
    // A port that was free a moment ago: nothing listens there now.
    let closed = {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a local port");
        format!("http://{}/", listener.local_addr().expect("local address"))
    };
    let dir = TempDir::new().expect("temp dir");
    let mirrors = vec![
        closed.clone(),
        format!("{base}/bad/"),
        format!("{base}/missing/"),
    ];

    let error = ensure_files(&source(dir.path(), mirrors)).expect_err("no mirror delivers");
    let message = error.to_string();
    let Error::Download {
        file: name,
        dir: d,
        failures,
        ..
    } = error
    else {
        panic!("expected Download, got {error:?}")
    };
    assert_eq!(
        (name.as_str(), d.as_path()),
        ("train-images-idx3-ubyte.gz", dir.path())
    );
    let urls: Vec<&str> = failures.iter().map(|f| f.url.as_str()).collect();
    assert_eq!(
        urls,
        [
            format!("{closed}train-images-idx3-ubyte.gz"),
            format!("{base}/bad/train-images-idx3-ubyte.gz"),
            format!("{base}/missing/train-images-idx3-ubyte.gz"),
        ]
    );
    assert!(
        failures[1].reason.contains(file.gz_md5),
        "{:?}",
        failures[1]
    );
    assert!(
        failures[0].reason.contains("Connection"),
        "{:?}",
        failures[0]
    );
    assert!(
        !failures[0].reason.contains(&closed),
        "the URL is not repeated"
    );
    assert_eq!(failures[2].reason, "HTTP status 404");
    for name in sorted_gz_names() {
        assert!(message.contains(&name), "{message}");
    }
    assert!(
        message.contains(&dir.path().display().to_string()),
        "{message}"
    );
    assert!(names_in(dir.path()).is_empty(), "nothing is left behind");
}

#[test]
fn unpacked_content_from_a_mirror_is_verified_and_kept_unpacked() {
    // A server may undo the gzip itself (Content-Encoding); the content checksum still holds.
    let file = MNIST_FILES[3];
    let content = idx::read_decompressed(&common::mnist_dir().join(file.gz_name())).expect("reads");
    let routes = HashMap::from([(format!("/plain/{}", file.gz_name()), content.clone())]);
    let (base, _log) = serve(routes, 1);
    let dir = TempDir::new().expect("temp dir");
    for other in &MNIST_FILES[..3] {
        fs::copy(
            common::mnist_dir().join(other.gz_name()),
            dir.path().join(other.gz_name()),
        )
        .expect("copy a real file");
    }

    ensure_files(&source(dir.path(), vec![format!("{base}/plain/")])).expect("verified by SHA-256");

    assert!(fs::read(dir.path().join(file.name)).expect("kept unpacked") == content);
    assert!(!dir.path().join(file.gz_name()).exists());
}
