//! The test images the models classify differently, or all get wrong: counted by kind, and
//! up to [`GALLERY_SIZE`] of them shown with every model's answer.

use base64::Engine;
use maud::{html, Markup};
use mnist::metrics::predictions;

use crate::train::Contender;

/// The most test images the gallery shows; the page counts all of them.
pub const GALLERY_SIZE: usize = 36;

/// Which models are right, and whether all answers are the same.
type Kind = (Vec<bool>, bool);

/// A test image the models do not all get right in the same way: their answers differ, or
/// they are all wrong.
struct Disagreement {
    index: usize,
    truth: u8,
    /// One per model with test predictions, in run order.
    answers: Vec<u8>,
}

impl Disagreement {
    /// Which models are right, and whether the wrong ones all agree: images of one kind
    /// tell the same story.
    fn kind(&self) -> Kind {
        let right: Vec<bool> = self.answers.iter().map(|&a| a == self.truth).collect();
        let same = self.answers.windows(2).all(|w| w[0] == w[1]);
        (right, same)
    }

    fn describe(&self, models: &[&str]) -> String {
        let (right, same) = self.kind();
        let wrong: Vec<&str> = models
            .iter()
            .zip(&right)
            .filter(|(_, r)| !**r)
            .map(|(m, _)| *m)
            .collect();
        match (wrong.len(), same) {
            (n, true) if n == models.len() => "all wrong, with the same answer".to_owned(),
            (n, false) if n == models.len() => "all wrong, with different answers".to_owned(),
            _ if models.len() == 2 => format!("only {} wrong", wrong.join(", ")),
            _ => "some right, some wrong".to_owned(),
        }
    }
}

/// Every test image the models classify differently, or that all of them get wrong.
fn disagreements(answers: &[Vec<u8>], truth: &[u8]) -> Vec<Disagreement> {
    (0..truth.len())
        .map(|index| Disagreement {
            index,
            truth: truth[index],
            answers: answers.iter().map(|a| a[index]).collect(),
        })
        .filter(|d| {
            let differ = d.answers.windows(2).any(|w| w[0] != w[1]);
            differ || d.answers.iter().all(|&a| a != d.truth)
        })
        .collect()
}

/// Up to `n` of `all`, taken in turn from each kind (in test-set order within a kind), so
/// that a rare kind is shown too.
fn pick(all: &[Disagreement], n: usize) -> Vec<&Disagreement> {
    let mut kinds: Vec<(Kind, Vec<&Disagreement>)> = Vec::new();
    for d in all {
        let kind = d.kind();
        match kinds.iter_mut().find(|(k, _)| *k == kind) {
            Some((_, members)) => members.push(d),
            None => kinds.push((kind, vec![d])),
        }
    }
    let mut picked: Vec<&Disagreement> = Vec::with_capacity(n.min(all.len()));
    for round in 0.. {
        let before = picked.len();
        for (_, members) in &kinds {
            if picked.len() < n {
                picked.extend(members.get(round));
            }
        }
        if picked.len() == before || picked.len() == n {
            break;
        }
    }
    picked.sort_by_key(|d| d.index);
    picked
}

pub fn gallery_section(contenders: &[Contender], data: &mnist::Mnist) -> Markup {
    let with_answers: Vec<(&str, Vec<u8>)> = contenders
        .iter()
        .filter_map(|c| {
            let logits = c.last_test_logits.as_ref()?;
            Some((c.label.as_str(), predictions(logits.view()).to_vec()))
        })
        .collect();
    if with_answers.is_empty() {
        return html! {};
    }
    let models: Vec<&str> = with_answers.iter().map(|(m, _)| *m).collect();
    let answers: Vec<Vec<u8>> = with_answers.into_iter().map(|(_, a)| a).collect();
    let test = &data.test;
    let all = disagreements(&answers, test.labels.as_slice().unwrap_or(&[]));
    let mut counts: Vec<(String, usize)> = Vec::new();
    for d in &all {
        let kind = d.describe(&models);
        match counts.iter_mut().find(|(k, _)| *k == kind) {
            Some((_, n)) => *n += 1,
            None => counts.push((kind, 1)),
        }
    }
    counts.sort();
    let shown = pick(&all, GALLERY_SIZE);
    let classes = data.classes();
    let heading = match models[..] {
        [_] => "Test images the model gets wrong".to_owned(),
        [a, b] => format!("Test images {a} and {b} classify differently, or both get wrong"),
        _ => format!(
            "Test images the {} models classify differently, or all get wrong",
            models.len()
        ),
    };
    html! {
        section #gallery {
            h2 { (heading) }
            p #disagreement-count {
                strong data-count=(all.len()) { (all.len()) }
                " of " (test.len()) " test images"
                @if !all.is_empty() { ", showing " (shown.len()) }
                "."
            }
            @if !counts.is_empty() {
                table #disagreement-kinds {
                    @for (kind, n) in &counts { tr { td { (kind) } td { (n) } } }
                }
            }
            div.gallery {
                @for d in &shown {
                    div.card {
                        img src=(png_data_uri(test.images.row(d.index))) alt=(format!("test image {}", d.index));
                        p.truth { "true: " (classes[usize::from(d.truth)]) }
                        @for (model, &answer) in models.iter().zip(&d.answers) {
                            @let right = answer == d.truth;
                            p class=(if right { "right" } else { "wrong" }) {
                                (model) ": " (classes[usize::from(answer)]) (if right { " ✓" } else { " ✗" })
                            }
                        }
                        p.note { "test image #" (d.index) }
                    }
                }
            }
        }
    }
}

/// A 28×28 image, ink dark on white as in `samples.svg`, as a PNG `data:` URI.
fn png_data_uri(pixels: ndarray::ArrayView1<'_, f32>) -> String {
    let side = mnist::format::COLS;
    let grey: Vec<u8> = pixels
        .iter()
        .map(|&v| 255 - (v.clamp(0.0, 1.0) * 255.0).round() as u8)
        .collect();
    let mut bytes = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut bytes, side, mnist::format::ROWS);
        encoder.set_color(png::ColorType::Grayscale);
        encoder.set_depth(png::BitDepth::Eight);
        // Writing into memory fails only on a bug (a wrong length), never on input.
        let mut writer = encoder.write_header().expect("a PNG header in memory");
        writer
            .write_image_data(&grey)
            .expect("784 grey bytes make a 28×28 PNG");
    }
    format!(
        "data:image/png;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn disagreements_are_the_images_answered_differently_or_all_wrong() {
        let truth = [0, 1, 2, 3, 4];
        let answers = vec![vec![0, 1, 9, 3, 7], vec![0, 5, 9, 8, 6]];
        let found = disagreements(&answers, &truth);
        let indices: Vec<usize> = found.iter().map(|d| d.index).collect();
        // 0: both right; 1: only the second wrong; 2: both wrong alike; 3: only the second
        // wrong; 4: both wrong, differently.
        assert_eq!(indices, [1, 2, 3, 4]);
        let models = ["scratch", "torchref"];
        let kinds: Vec<String> = found.iter().map(|d| d.describe(&models)).collect();
        assert_eq!(
            kinds,
            [
                "only torchref wrong",
                "all wrong, with the same answer",
                "only torchref wrong",
                "all wrong, with different answers"
            ]
        );
    }

    #[test]
    fn the_gallery_takes_every_kind_in_turn() {
        let truth = vec![0_u8; 10];
        // Images 0-7: only the second model wrong; 8 and 9: both wrong alike.
        let second = vec![1_u8; 10];
        let mut first = vec![0_u8; 10];
        first[8] = 1;
        first[9] = 1;
        let found = disagreements(&[first, second], &truth);
        let picked: Vec<usize> = pick(&found, 3).iter().map(|d| d.index).collect();
        assert_eq!(picked, [0, 1, 8]);
        assert_eq!(pick(&found, 100).len(), 10);
    }

    #[test]
    fn an_image_becomes_a_png_data_uri_that_decodes_back() {
        let pixels: Vec<f32> = (0..784).map(|i| (i % 256) as f32 / 255.0).collect();
        let uri = png_data_uri(ndarray::ArrayView1::from(&pixels));
        let encoded = uri
            .strip_prefix("data:image/png;base64,")
            .expect("a PNG data URI");
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .expect("base64");
        let mut reader = png::Decoder::new(bytes.as_slice())
            .read_info()
            .expect("a PNG");
        let mut grey = vec![0; reader.output_buffer_size()];
        let info = reader.next_frame(&mut grey).expect("one frame");
        assert_eq!((info.width, info.height), (28, 28));
        let want: Vec<u8> = (0..784).map(|i| 255 - (i % 256) as u8).collect();
        assert_eq!(grey, want, "ink is dark on white");
    }
}
