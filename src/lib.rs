//! voxfab: a GPU voxel simulator and visualiser for wafer-level chip-scale packaging.
//!
//! Data flow: [`scene`] (TOML) → [`process`] (one GPU compute pass per step) →
//! [`grid`] (material id per voxel) → [`render`] (raymarched view + section) →
//! [`output`] (PNG frames, metrics.json, result.vti).

pub mod bench;
pub mod gpu;
pub mod grid;
pub mod materials;
pub mod output;
pub mod process;
pub mod render;
pub mod run;
pub mod scene;
pub mod shaders;
pub mod stress;
