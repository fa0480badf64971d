//! `voxfab view`: the interactive inspection window. Part of the binary, not the
//! library: only this module touches winit and egui; it presents what
//! [`voxfab::render::Renderer::draw`] drew.

mod app;
mod input;
mod panel;
mod screenshot;
mod solve;
mod state;
mod target;

pub use app::{ViewOptions, run};
