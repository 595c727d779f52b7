//! A progress bar on stderr when it is a terminal (indicatif hides it otherwise).

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// A byte-counting bar: bytes done, rate, ETA.
pub fn bytes_bar(total: u64, verb: &str) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
    let template =
        format!("{verb} {{bar:40.cyan/blue}} {{bytes}}/{{total_bytes}} {{binary_bytes_per_sec}} ETA {{eta}}");
    if let Ok(style) = ProgressStyle::with_template(&template) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}
