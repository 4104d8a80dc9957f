//! Reads a run's `report.html` as a parser sees it: the figures it shows beside those of
//! `summary.csv`, and every place a page could make a request.

use std::path::Path;

use scraper::{Html, Selector};
use testkit::assert_close;

fn selector(css: &str) -> Selector {
    Selector::parse(css).unwrap_or_else(|e| panic!("selector {css}: {e:?}"))
}

/// The page of the run in `folder`, parsed.
pub fn parse(folder: &Path) -> Html {
    let text = std::fs::read_to_string(folder.join("report.html")).expect("report.html exists");
    Html::parse_document(&text)
}

/// Fails unless nothing on the page can make the browser fetch anything: no script, frame,
/// object or linked resource; images only from `data:` URIs; links only to files beside the
/// page; no `url(...)` or `@import` in styles; and the policy that forbids the rest.
pub fn assert_self_contained(page: &Html) {
    for tag in [
        "script", "link", "iframe", "frame", "object", "embed", "base", "video", "audio",
    ] {
        assert!(
            page.select(&selector(tag)).next().is_none(),
            "the page has a <{tag}>"
        );
    }
    let policy = page
        .select(&selector(r#"meta[http-equiv="Content-Security-Policy"]"#))
        .next()
        .and_then(|meta| meta.value().attr("content"))
        .expect("a Content-Security-Policy");
    assert!(policy.contains("default-src 'none'"), "{policy}");
    for element in page.select(&selector("*")) {
        for (name, value) in element.value().attrs() {
            let value = value.trim().to_ascii_lowercase();
            match name {
                "src" | "srcset" | "poster" | "data" | "action" | "formaction" | "background" => {
                    assert!(
                        value.starts_with("data:"),
                        "{name}=\"{value}\" leaves the file"
                    )
                }
                "href" | "xlink:href" => assert!(
                    !value.contains(':') && !value.starts_with("//"),
                    "{name}=\"{value}\" is not a file beside the page"
                ),
                "style" => assert!(!value.contains("url("), "style=\"{value}\""),
                _ => {}
            }
        }
    }
    for style in page.select(&selector("style")) {
        let css: String = style.text().collect();
        assert!(!css.contains("url(") && !css.contains("@import"), "{css}");
    }
}

/// Fails unless every figure the summary table shows equals `summary.csv`'s, model by
/// model, and the speed ratio is the ratio of the seconds per epoch. Returns how many
/// figures were compared.
pub fn assert_summary_matches(page: &Html, header: &[String], rows: &[Vec<String>]) -> usize {
    let mut compared = 0;
    for cell in page.select(&selector("#summary td[data-column]")) {
        let model = cell.value().attr("data-model").expect("a model");
        let column = cell.value().attr("data-column").expect("a column");
        let index = header
            .iter()
            .position(|h| h == column)
            .unwrap_or_else(|| panic!("summary.csv has no column {column}"));
        let row = rows
            .iter()
            .find(|r| r[0] == model)
            .unwrap_or_else(|| panic!("summary.csv has no model {model}"));
        let shown: String = cell.text().collect();
        let number = |text: &str| {
            text.trim()
                .parse::<f64>()
                .unwrap_or_else(|e| panic!("{model} {column}: {text:?}: {e}"))
        };
        // The page prints the very value the CSV holds: parsed, they are the same double.
        assert_close(
            &format!("{model} {column} on the page"),
            &[number(&shown)],
            &[number(&row[index])],
            0.0,
            0.0,
        );
        compared += 1;
    }
    if let Some(ratio) = page
        .select(&selector(r#"[data-column="speed_ratio"]"#))
        .next()
    {
        let seconds = |model: &str| {
            let at = header
                .iter()
                .position(|h| h == "seconds_per_epoch")
                .expect("seconds_per_epoch");
            let row = rows.iter().find(|r| r[0] == model).expect("the model");
            row[at].parse::<f64>().expect("seconds")
        };
        let shown: String = ratio.text().collect();
        let shown: f64 = shown
            .trim_end_matches('×')
            .parse()
            .unwrap_or_else(|e| panic!("speed ratio {shown:?}: {e}"));
        // Printed to two decimals: off by at most half of the last one.
        assert_close(
            "speed ratio",
            &[shown],
            &[seconds("scratch") / seconds("torchref")],
            0.0,
            0.005,
        );
        compared += 1;
    }
    compared
}

/// The texts of the cells matching `css`.
pub fn texts(page: &Html, css: &str) -> Vec<String> {
    page.select(&selector(css))
        .map(|e| e.text().collect::<String>().trim().to_owned())
        .collect()
}
