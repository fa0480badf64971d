//! Why a run, a timeline or a recording stopped: every error names the scene file and
//! the step's line.

use crate::grid::GridError;
use crate::output::WriteError;
use crate::process::BondError;
use crate::scene::{Scene, SceneError, Step};
use crate::stress::StressError;
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The scene does not fit the adapter or the memory budget (checked before any GPU work).
    #[error(transparent)]
    Budget(#[from] SceneError),
    #[error(transparent)]
    Grid(#[from] GridError),
    /// Out of memory, device loss or another GPU error during a step.
    #[error("{file}:{line}: step `{step}`: GPU error: {message}")]
    Gpu {
        file: String,
        line: usize,
        step: String,
        message: String,
    },
    #[error(transparent)]
    Write(#[from] WriteError),
    #[error("{file}:{line}: step `{step}`: {source}")]
    Bond {
        file: String,
        line: usize,
        step: String,
        source: BondError,
    },
    #[error("{file}:{line}: step `{step}`: {source}")]
    Stress {
        file: String,
        line: usize,
        step: String,
        source: Box<StressError>,
    },
    #[error("cannot create {}: {source}", path.display())]
    Dir {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl RunError {
    /// `source` as the error of stress step `step`.
    pub fn stress(scene: &Scene, step: &Step, source: StressError) -> Self {
        Self::Stress {
            file: scene.file.clone(),
            line: step.line,
            step: step.name.clone(),
            source: Box::new(source),
        }
    }
}
