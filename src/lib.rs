//! voxfab: a GPU voxel simulator and visualiser for wafer-level chip-scale packaging.
//!
//! Data flow: [`scene`] (TOML) → [`process`] (one GPU compute pass per step) →
//! [`grid`] (material id per voxel) → [`render`] (raymarched view + section) →
//! [`output`] (PNG frames, metrics.json, result.vti); [`stress`] solves the
//! thermal-mismatch stress of a grid. [`engine`] owns what is built once per device
//! (parts, kernels, renderer) and runs steps and stress solves for every front end.
//! [`timeline`] keeps a snapshot per
//! step for scrubbing and [`record`]ing; [`fields`] holds per-voxel scalars to colour by.
//! The window (`voxfab view`, cargo feature `view`, on by default) lives in the binary:
//! the library never touches winit or egui. [`budget`] checks every buffer of a run
//! before any GPU work.

pub mod bench;
pub mod board;
pub mod budget;
pub mod engine;
pub mod fields;
pub mod gpu;
pub mod grid;
pub mod materials;
pub mod output;
pub mod process;
pub mod record;
pub mod render;
pub mod run;
pub mod scene;
pub mod shaders;
pub mod stress;
pub mod sweep;
pub mod timeline;
