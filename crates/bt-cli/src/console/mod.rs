//! The terminal: progress (bars, plain lines or nothing), status messages, and a log writer
//! that does not break the bars.
//!
//! Progress and messages go to stdout; warnings, logs and errors to stderr. With bars, every log line
//! is written while the bars are hidden ([`MultiProgress::suspend`]) and the bars are redrawn
//! below it, so a log line never lands in the middle of a bar. Plain mode prints one line per
//! torrent (and a total for several) each interval, for logs and pipes; it is chosen
//! automatically when stdout is not a terminal.
//!
//! # Layout
//! - this module: [`Console`], [`ProgressMode`], [`Progress`].
//! - `view`: [`TorrentView`], what a line or a bar shows of a torrent.

mod view;

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

pub use view::TorrentView;

/// How progress is shown (`--progress`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ProgressMode {
    /// Bars on a terminal, plain lines otherwise.
    #[default]
    Auto,
    /// A bar per torrent and a total, redrawn in place.
    Bars,
    /// One line per torrent every interval: for logs, pipes and CI.
    Plain,
}

/// How the console shows progress once `Auto` is resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Style {
    Bars,
    Plain,
    Quiet,
}

/// The process's terminal; cheap to clone (the bars are shared).
#[derive(Debug, Clone)]
pub struct Console {
    style: Style,
    multi: MultiProgress,
    plain_interval: Duration,
}

impl Console {
    /// A console in `mode`, or printing nothing but errors when `quiet`.
    pub fn new(mode: ProgressMode, quiet: bool, plain_interval: Duration) -> Self {
        let style = match (quiet, mode) {
            (true, _) => Style::Quiet,
            (false, ProgressMode::Bars) => Style::Bars,
            (false, ProgressMode::Plain) => Style::Plain,
            (false, ProgressMode::Auto) if std::io::stdout().is_terminal() => Style::Bars,
            (false, ProgressMode::Auto) => Style::Plain,
        };
        let target = match style {
            Style::Bars => ProgressDrawTarget::stdout(),
            Style::Plain | Style::Quiet => ProgressDrawTarget::hidden(),
        };
        Self {
            style,
            multi: MultiProgress::with_draw_target(target),
            plain_interval,
        }
    }

    /// Prints a status line to stdout (above the bars), unless quiet.
    pub fn message(&self, text: impl AsRef<str>) {
        match self.style {
            Style::Bars => {
                let _ = self.multi.println(text);
            }
            Style::Plain => {
                let mut out = std::io::stdout().lock();
                let _ = writeln!(out, "{}", text.as_ref());
                let _ = out.flush();
            }
            Style::Quiet => {}
        }
    }

    /// Prints a warning, `bt: ` and `text`, to stderr (above the bars), unless quiet: news a
    /// person may act on that does not stop the run, such as a tracker that fails.
    pub fn warn(&self, text: impl AsRef<str>) {
        if self.style == Style::Quiet {
            return;
        }
        self.multi.suspend(|| {
            let mut err = std::io::stderr().lock();
            let _ = writeln!(err, "bt: {}", text.as_ref());
            let _ = err.flush();
        });
    }

    /// Writes raw bytes to stderr with the bars out of the way (the log writer).
    pub fn write_stderr(&self, bytes: &[u8]) {
        self.multi.suspend(|| {
            let _ = std::io::stderr().lock().write_all(bytes);
        });
    }

    /// Starts showing the progress of these torrents (by name), with a total when several.
    pub fn progress(&self, names: &[String]) -> Progress {
        let bars = match self.style {
            Style::Bars => {
                let mut bars: Vec<ProgressBar> =
                    names.iter().map(|name| self.add_bar(name)).collect();
                if names.len() > 1 {
                    bars.push(self.add_bar("total"));
                }
                bars
            }
            Style::Plain | Style::Quiet => Vec::new(),
        };
        Progress {
            console: self.clone(),
            bars,
            views: vec![None; names.len()],
            started: Instant::now(),
            last_plain: None,
        }
    }

    fn add_bar(&self, name: &str) -> ProgressBar {
        let style = ProgressStyle::with_template(
            "{prefix:.bold} [{bar:25.cyan/blue}] {percent:>3}% {wide_msg}",
        )
        .expect("invariant: the bar template is valid")
        .progress_chars("=> ");
        let bar = self.multi.add(ProgressBar::new(0).with_style(style));
        bar.set_prefix(name.to_owned());
        bar
    }
}

/// The progress of a set of torrents; update each with [`Progress::update`], then
/// [`Progress::show`] (often: bars are redrawn at most a few times a second, plain lines
/// once an interval).
#[derive(Debug)]
pub struct Progress {
    console: Console,
    /// One per torrent, then the total (when more than one torrent); empty unless bars.
    bars: Vec<ProgressBar>,
    views: Vec<Option<TorrentView>>,
    started: Instant,
    last_plain: Option<Instant>,
}

impl Progress {
    /// Records the latest view of torrent `index`.
    pub fn update(&mut self, index: usize, view: TorrentView) {
        if let Some(slot) = self.views.get_mut(index) {
            *slot = Some(view);
        }
    }

    /// Shows what [`Progress::update`] recorded: redraws the bars, or prints the plain lines
    /// when an interval has passed since the last ones (or at once with `force`).
    pub fn show(&mut self, force: bool) {
        match self.console.style {
            Style::Bars => self.draw_bars(),
            Style::Plain => {
                let due = self
                    .last_plain
                    .is_none_or(|last| last.elapsed() >= self.console.plain_interval);
                if due || force {
                    self.last_plain = Some(Instant::now());
                    self.print_lines();
                }
            }
            Style::Quiet => {}
        }
    }

    /// Draws the bars a last time and leaves them on the screen.
    pub fn finish(&mut self) {
        self.show(true);
        for bar in &self.bars {
            bar.abandon();
        }
    }

    fn draw_bars(&self) {
        let views: Vec<&TorrentView> = self.views.iter().flatten().collect();
        let total = TorrentView::total(views.iter().copied());
        let per_torrent = self.views.iter().map(Option::as_ref);
        let with_total = per_torrent.chain(std::iter::once(Some(&total)));
        for (bar, view) in self.bars.iter().zip(with_total) {
            if let Some(view) = view {
                bar.set_length(view.size);
                bar.set_position(view.done);
                bar.set_message(view.bar_message());
            }
        }
    }

    fn print_lines(&self) {
        let elapsed = self.started.elapsed();
        let views: Vec<&TorrentView> = self.views.iter().flatten().collect();
        for view in &views {
            self.console.message(view.plain_line(elapsed));
        }
        if self.views.len() > 1 {
            let total = TorrentView::total(views.iter().copied());
            self.console.message(total.plain_line(elapsed));
        }
    }
}
