//! `compare data`'s output: the files found and how each was verified.

/// `compare data`: where the files are, how each was verified, and the classes.
pub fn print_data(data: &mnist::Mnist, no_checksums: bool) {
    let title = data.dataset.title();
    if no_checksums {
        println!(
            "{title}-format files found (checksums off) in {}",
            data.dir.display()
        );
    } else {
        println!("{title} files verified in {}", data.dir.display());
    }
    for file in &data.files {
        let how = match file.verification {
            mnist::Verification::ContentSha256 => "content SHA-256 as published",
            mnist::Verification::GzMd5 => "published .gz MD5",
            mnist::Verification::Unverified => "not verified",
        };
        println!("  {}  sha256 {}  ({how})", file.name, file.sha256);
    }
    if data.dataset != mnist::DatasetName::Mnist {
        let classes: Vec<String> = (data.classes().iter().enumerate())
            .map(|(label, name)| format!("{label} {name}"))
            .collect();
        println!("classes: {}", classes.join(", "));
    }
}
