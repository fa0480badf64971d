//! Screenshots of the composed window (panel included), read back from the surface.

use anyhow::Context as _;
use std::path::{Path, PathBuf};
use voxfab::gpu::{GpuContext, read_texture_rgba8};

/// Where screenshot number `taken` (from 0) goes: `--screenshot FILE` first, then
/// `FILE_1.png`, ...; without it `voxfab_screenshot_N.png` in the working directory.
pub fn path(requested: Option<&Path>, taken: u32) -> PathBuf {
    match requested {
        Some(p) if taken == 0 => p.to_path_buf(),
        Some(p) => p.with_file_name(format!(
            "{}_{taken}.png",
            p.file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or("screenshot"),
        )),
        None => PathBuf::from(format!("voxfab_screenshot_{}.png", taken + 1)),
    }
}

/// Reads `texture` (the surface's, configured by `config`) back and writes it as PNG.
pub fn save(
    gpu: &GpuContext,
    texture: &wgpu::Texture,
    config: &wgpu::SurfaceConfiguration,
    path: &Path,
) -> anyhow::Result<()> {
    anyhow::ensure!(
        config.usage.contains(wgpu::TextureUsages::COPY_SRC),
        "this surface cannot be read back"
    );
    let (w, h, mut px) = read_texture_rgba8(gpu, texture);
    // Surfaces are often BGRA; PNG wants RGBA.
    if matches!(
        config.format,
        wgpu::TextureFormat::Bgra8Unorm | wgpu::TextureFormat::Bgra8UnormSrgb
    ) {
        for p in px.chunks_exact_mut(4) {
            p.swap(0, 2);
        }
    }
    let img = image::RgbaImage::from_raw(w, h, px).context("readback size mismatch")?;
    voxfab::output::write_png(path, &img)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn screenshot_paths_number_after_the_first() {
        let p = Path::new("/tmp/shot.png");
        assert_eq!(path(Some(p), 0), PathBuf::from("/tmp/shot.png"));
        assert_eq!(path(Some(p), 2), PathBuf::from("/tmp/shot_2.png"));
        assert_eq!(path(None, 0), PathBuf::from("voxfab_screenshot_1.png"));
    }
}
