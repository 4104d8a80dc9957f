//! The download path against an HTTP server on 127.0.0.1 that each test starts: a good
//! mirror delivers, a corrupt one is refused without leaving a file, and the next is tried.

use std::collections::HashMap;
use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use mnist::{
    ensure_files, idx, DataSource, DatasetName, Error, KnownFile, FASHION_MNIST_FILES,
    KMNIST_FILES, MNIST_FILES,
};
use tempfile::TempDir;
use testkit::real_mnist_dir;

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
    fs::read(real_mnist_dir().join(file.gz_name())).expect("the real .gz reads")
}

/// The real `.gz` with one byte in the middle of the compressed stream changed.
fn corrupt_gz(file: &KnownFile) -> Vec<u8> {
    let mut bytes = real_gz(file);
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xff;
    bytes
}

/// A new folder holding the real `.gz` of each of `files`.
fn folder_with_real(files: &[KnownFile]) -> TempDir {
    let dir = TempDir::new().expect("temp dir");
    for file in files {
        fs::copy(
            real_mnist_dir().join(file.gz_name()),
            dir.path().join(file.gz_name()),
        )
        .expect("copy a real file");
    }
    dir
}

/// A mirror serving the real MNIST `.gz` files under `/{prefix}/`.
fn real_mnist_mirror(prefix: &str, max_requests: usize) -> (String, Arc<Mutex<Vec<String>>>) {
    let routes = MNIST_FILES
        .iter()
        .map(|f| (format!("/{prefix}/{}", f.gz_name()), real_gz(f)))
        .collect();
    serve(routes, max_requests)
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
        mirrors: Some(mirrors),
        ..DataSource::new(DatasetName::Mnist, dir.to_owned())
    }
}

fn sorted_gz_names() -> Vec<String> {
    let mut names: Vec<String> = MNIST_FILES.iter().map(KnownFile::gz_name).collect();
    names.sort();
    names
}

#[test]
fn a_good_mirror_delivers_all_four_verified_files() {
    let (base, log) = real_mnist_mirror("good", 4);
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
    let dir = folder_with_real(&[MNIST_FILES[0], MNIST_FILES[2]]);

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
    let content = idx::read_decompressed(&real_mnist_dir().join(file.gz_name())).expect("reads");
    let routes = HashMap::from([(format!("/plain/{}", file.gz_name()), content.clone())]);
    let (base, _log) = serve(routes, 1);
    let dir = folder_with_real(&MNIST_FILES[..3]);

    ensure_files(&source(dir.path(), vec![format!("{base}/plain/")])).expect("verified by SHA-256");

    assert!(fs::read(dir.path().join(file.name)).expect("kept unpacked") == content);
    assert!(!dir.path().join(file.gz_name()).exists());
}

#[test]
fn another_dataset_is_fetched_by_its_own_names_and_held_to_its_own_checksums() {
    // MNIST's files offered as Fashion-MNIST's (the same names, another content): each is
    // requested under Fashion-MNIST's file name, refused by Fashion-MNIST's MD5 and SHA-256,
    // and nothing is left in the folder.
    let (base, log) = real_mnist_mirror("fashion", 1);
    let dir = TempDir::new().expect("temp dir");
    let fashion = DataSource {
        dataset: DatasetName::FashionMnist,
        ..source(dir.path(), vec![format!("{base}/fashion/")])
    };

    let error = ensure_files(&fashion).expect_err("MNIST is not Fashion-MNIST");
    let Error::Download { failures, .. } = &error else {
        panic!("expected Download, got {error:?}")
    };
    let first = FASHION_MNIST_FILES[0];
    assert!(failures[0].reason.contains(first.gz_md5), "{failures:?}");
    assert!(
        failures[0]
            .reason
            .contains(first.sha256.expect("Fashion-MNIST's is known")),
        "{failures:?}"
    );
    assert!(error.to_string().contains("Fashion-MNIST"), "{error}");
    assert_eq!(
        *log.lock().expect("log lock"),
        ["/fashion/train-images-idx3-ubyte.gz"]
    );
    assert!(names_in(dir.path()).is_empty(), "nothing is left behind");
}

#[test]
fn kmnist_from_a_mirror_is_held_to_the_md5_of_its_published_gz() {
    // KMNIST publishes no content checksum: a .gz of other content is refused by the MD5.
    let file = MNIST_FILES[3];
    let routes = HashMap::from([(format!("/k/{}", file.gz_name()), real_gz(&file))]);
    let (base, _log) = serve(routes, 1);
    let dir = folder_with_real(&MNIST_FILES[..3]);
    let kmnist = DataSource {
        dataset: DatasetName::Kmnist,
        verify_checksums: false,
        ..source(dir.path(), vec![format!("{base}/k/")])
    };
    // With checksums off a partial folder is never completed from the mirrors.
    let error = ensure_files(&kmnist).expect_err("not completed");
    assert!(matches!(error, Error::NotFound { .. }), "{error:?}");

    fs::remove_file(dir.path().join(MNIST_FILES[0].gz_name())).expect("remove");
    let (base, _log) = serve(
        HashMap::from([(
            format!("/k/{}", MNIST_FILES[0].gz_name()),
            real_gz(&MNIST_FILES[0]),
        )]),
        1,
    );
    let kmnist = DataSource {
        dataset: DatasetName::Kmnist,
        ..source(dir.path(), vec![format!("{base}/k/")])
    };
    let error = ensure_files(&kmnist).expect_err("MNIST is not KMNIST");
    let Error::Download { failures, .. } = &error else {
        panic!("expected Download, got {error:?}")
    };
    assert!(
        failures[0].reason.contains(KMNIST_FILES[0].gz_md5)
            && failures[0]
                .reason
                .contains("no SHA-256 of the content is known"),
        "{failures:?}"
    );
}
