//! What a run shows while it works: indicatif bars (one per running stage and an overall bar)
//! on a terminal, plain lines otherwise, nothing but errors with `--quiet`.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

pub enum Progress {
    Quiet,
    Plain,
    Bars {
        multi: MultiProgress,
        overall: ProgressBar,
        running: Mutex<BTreeMap<String, ProgressBar>>,
    },
}

impl Progress {
    pub fn new(quiet: bool, total: usize) -> Progress {
        if quiet {
            return Progress::Quiet;
        }
        if !std::io::stdout().is_terminal() {
            return Progress::Plain;
        }
        let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stdout());
        let overall = multi.add(ProgressBar::new(total as u64));
        overall.set_style(
            ProgressStyle::with_template("{bar:30.cyan/blue} {pos}/{len} stages {elapsed}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        Progress::Bars {
            multi,
            overall,
            running: Mutex::new(BTreeMap::new()),
        }
    }

    /// A line that stays (above the bars on a terminal). Err when stdout cannot be written.
    pub fn line(&self, text: &str) -> crate::Result<()> {
        match self {
            Progress::Quiet => Ok(()),
            Progress::Plain => crate::console::outln(text),
            Progress::Bars { multi, .. } => multi
                .println(text)
                .map_err(|e| crate::Error::io("write to", crate::console::STDOUT, e)),
        }
    }

    pub fn started(&self, stage: &str, kind: &str) {
        if let Progress::Bars { multi, running, .. } = self {
            let bar = multi.insert_from_back(1, ProgressBar::new_spinner());
            bar.set_style(
                ProgressStyle::with_template("  {spinner} {msg} {elapsed}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            bar.set_message(format!("{stage} ({kind})"));
            bar.enable_steady_tick(Duration::from_millis(120));
            running
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .insert(stage.to_string(), bar);
        }
    }

    pub fn finished(&self, stage: &str, text: &str) -> crate::Result<()> {
        if let Progress::Bars {
            running, overall, ..
        } = self
        {
            if let Some(bar) = running
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .remove(stage)
            {
                bar.finish_and_clear();
            }
            overall.inc(1);
        }
        self.line(text)
    }

    /// A stage finished without a line of its own (a cell of a sweep).
    pub fn tick(&self) {
        if let Progress::Bars { overall, .. } = self {
            overall.inc(1);
        }
    }

    pub fn done(&self) {
        if let Progress::Bars { overall, multi, .. } = self {
            overall.finish_and_clear();
            let _ = multi.clear();
        }
    }
}
