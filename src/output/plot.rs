//! PNG charts for sweeps and comparisons: a line plot of named series and a heat map
//! over two axes, drawn with `plotters` into memory and written atomically.
//!
//! Text uses DejaVu Sans compiled into the binary (assets/fonts, its licence beside
//! it), so a plot needs no system font lookup.
//!
//! ```no_run
//! use voxfab::output::plot::{LinePlot, Series, line_plot};
//! let plot = LinePlot {
//!     title: "corner joint vs DNP".into(),
//!     x_label: "DNP (µm)".into(),
//!     y_label: "von Mises (MPa)".into(),
//!     series: vec![Series { name: "underfill".into(), points: vec![(100.0, 20.0), (300.0, 45.0)] }],
//! };
//! line_plot(std::path::Path::new("joint.png"), &plot, [900, 600]).unwrap();
//! ```

use super::write_atomic;
use plotters::prelude::*;
use std::path::Path;
use std::sync::OnceLock;

const FONT: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");

/// One named line: (x, y) points, drawn in the order given (sort them by x).
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub name: String,
    pub points: Vec<(f64, f64)>,
}

/// A line plot: one line with markers per series, a legend when there are several.
#[derive(Debug, Clone, PartialEq)]
pub struct LinePlot {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub series: Vec<Series>,
}

/// A heat map: `values[j * xs.len() + i]` at (`xs[i]`, `ys[j]`), `None` drawn grey
/// (a failed or missing variant). Cells are evenly spaced whatever the values' spacing;
/// the axes label them with the values.
#[derive(Debug, Clone, PartialEq)]
pub struct HeatMap {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    /// What the colour means, e.g. `p99 von Mises (MPa)`.
    pub value_label: String,
    pub xs: Vec<f64>,
    pub ys: Vec<f64>,
    pub values: Vec<Option<f64>>,
}

#[derive(Debug, thiserror::Error)]
pub enum PlotError {
    #[error("nothing to plot: {0}")]
    Empty(String),
    #[error("drawing the plot: {0}")]
    Draw(String),
    #[error(transparent)]
    Write(#[from] super::WriteError),
}

/// Largest plot edge in pixels.
pub const MAX_SIZE: u32 = 8192;

fn draw_err(e: impl std::fmt::Display) -> PlotError {
    PlotError::Draw(e.to_string())
}

fn font() -> Result<(), PlotError> {
    static DONE: OnceLock<Result<(), String>> = OnceLock::new();
    DONE.get_or_init(|| {
        plotters::style::register_font("sans-serif", FontStyle::Normal, FONT)
            .map_err(|_| "the bundled DejaVu Sans does not load".to_string())
    })
    .clone()
    .map_err(PlotError::Draw)
}

/// A range that shows every value, padded by 5 % (or ±1 around a single value).
fn span(values: impl Iterator<Item = f64>) -> Option<(f64, f64)> {
    let (lo, hi) = values
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
    if lo > hi {
        return None;
    }
    let pad = if hi > lo {
        (hi - lo) * 0.05
    } else {
        lo.abs().max(1.0) * 0.1
    };
    Some((lo - pad, hi + pad))
}

fn check_size(size: [u32; 2]) -> Result<(), PlotError> {
    if size.iter().any(|&s| !(64..=MAX_SIZE).contains(&s)) {
        return Err(PlotError::Draw(format!(
            "plot size {}x{} is outside 64..{MAX_SIZE} pixels",
            size[0], size[1]
        )));
    }
    Ok(())
}

/// Draws `plot` as a `size` [width, height] PNG at `path`.
pub fn line_plot(path: &Path, plot: &LinePlot, size: [u32; 2]) -> Result<(), PlotError> {
    check_size(size)?;
    font()?;
    let all = || plot.series.iter().flat_map(|s| s.points.iter());
    let (Some(xr), Some(yr)) = (span(all().map(|p| p.0)), span(all().map(|p| p.1))) else {
        return Err(PlotError::Empty(format!(
            "`{}` has no finite points",
            plot.title
        )));
    };
    let mut rgb = vec![0u8; size[0] as usize * size[1] as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, (size[0], size[1])).into_drawing_area();
        root.fill(&WHITE).map_err(draw_err)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(&plot.title, ("sans-serif", 22))
            .margin(16)
            .x_label_area_size(48)
            .y_label_area_size(80)
            .build_cartesian_2d(xr.0..xr.1, yr.0..yr.1)
            .map_err(draw_err)?;
        chart
            .configure_mesh()
            .x_desc(&plot.x_label)
            .y_desc(&plot.y_label)
            .label_style(("sans-serif", 14))
            .draw()
            .map_err(draw_err)?;
        for (i, s) in plot.series.iter().enumerate() {
            let colour = Palette99::pick(i).to_rgba();
            let pts: Vec<(f64, f64)> = s
                .points
                .iter()
                .copied()
                .filter(|p| p.0.is_finite() && p.1.is_finite())
                .collect();
            chart
                .draw_series(LineSeries::new(pts.clone(), colour.stroke_width(2)))
                .map_err(draw_err)?
                .label(&s.name)
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 20, y)], colour.stroke_width(2))
                });
            chart
                .draw_series(pts.into_iter().map(|p| Circle::new(p, 4, colour.filled())))
                .map_err(draw_err)?;
        }
        if plot.series.len() > 1 {
            chart
                .configure_series_labels()
                .label_font(("sans-serif", 14))
                .background_style(WHITE.mix(0.85))
                .border_style(BLACK)
                .draw()
                .map_err(draw_err)?;
        }
        root.present().map_err(draw_err)?;
    }
    write_rgb(path, rgb, size)
}

/// A colour from dark blue through green to yellow for `t` in 0..=1 (viridis-like).
pub fn colour_map(t: f64) -> RGBColor {
    const STOPS: [(f64, [f64; 3]); 5] = [
        (0.0, [68.0, 1.0, 84.0]),
        (0.25, [59.0, 82.0, 139.0]),
        (0.5, [33.0, 145.0, 140.0]),
        (0.75, [94.0, 201.0, 98.0]),
        (1.0, [253.0, 231.0, 37.0]),
    ];
    let t = if t.is_finite() {
        t.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let k = STOPS.windows(2).position(|w| t <= w[1].0).unwrap_or(3);
    let (t0, a) = STOPS[k];
    let (t1, b) = STOPS[k + 1];
    let f = (t - t0) / (t1 - t0);
    let c: [u8; 3] = std::array::from_fn(|i| (a[i] + (b[i] - a[i]) * f).round() as u8);
    RGBColor(c[0], c[1], c[2])
}

fn tick(values: &[f64], v: &f64) -> String {
    let i = v.round();
    if (v - i).abs() < 1e-6 && i >= 0.0 && (i as usize) < values.len() {
        format!("{}", values[i as usize])
    } else {
        String::new()
    }
}

/// Draws `map` as a `size` [width, height] PNG at `path`, with a colour bar.
pub fn heat_map(path: &Path, map: &HeatMap, size: [u32; 2]) -> Result<(), PlotError> {
    check_size(size)?;
    font()?;
    let (nx, ny) = (map.xs.len(), map.ys.len());
    if nx == 0 || ny == 0 || map.values.len() != nx * ny {
        return Err(PlotError::Empty(format!(
            "`{}`: {} values for {nx} x {ny} cells",
            map.title,
            map.values.len()
        )));
    }
    let Some((lo, hi)) = span(map.values.iter().flatten().copied()) else {
        return Err(PlotError::Empty(format!(
            "`{}` has no finite values",
            map.title
        )));
    };
    let mut rgb = vec![0u8; size[0] as usize * size[1] as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, (size[0], size[1])).into_drawing_area();
        root.fill(&WHITE).map_err(draw_err)?;
        let bar_w = 130.min(size[0] / 3);
        let (left, right) = root.split_horizontally(size[0] - bar_w);
        let mut chart = ChartBuilder::on(&left)
            .caption(&map.title, ("sans-serif", 22))
            .margin(16)
            .x_label_area_size(48)
            .y_label_area_size(80)
            .build_cartesian_2d(-0.5..nx as f64 - 0.5, -0.5..ny as f64 - 0.5)
            .map_err(draw_err)?;
        let (xs, ys) = (map.xs.clone(), map.ys.clone());
        let xf = move |v: &f64| tick(&xs, v);
        let yf = move |v: &f64| tick(&ys, v);
        chart
            .configure_mesh()
            .disable_mesh()
            .x_desc(&map.x_label)
            .y_desc(&map.y_label)
            .x_labels(nx * 2 + 1)
            .y_labels(ny * 2 + 1)
            .x_label_formatter(&xf)
            .y_label_formatter(&yf)
            .label_style(("sans-serif", 14))
            .draw()
            .map_err(draw_err)?;
        let grey = RGBColor(200, 200, 200);
        chart
            .draw_series((0..ny).flat_map(|j| {
                (0..nx).map(move |i| {
                    let colour = match map.values[j * nx + i] {
                        Some(v) if v.is_finite() => colour_map((v - lo) / (hi - lo)),
                        _ => grey,
                    };
                    let (x, y) = (i as f64, j as f64);
                    Rectangle::new([(x - 0.5, y - 0.5), (x + 0.5, y + 0.5)], colour.filled())
                })
            }))
            .map_err(draw_err)?;
        // The colour bar: the value range, bottom to top.
        let mut bar = ChartBuilder::on(&right)
            .margin_top(48)
            .margin_bottom(64)
            .margin_right(8)
            .y_label_area_size(70)
            .caption(&map.value_label, ("sans-serif", 13))
            .build_cartesian_2d(0.0..1.0, lo..hi)
            .map_err(draw_err)?;
        bar.configure_mesh()
            .disable_mesh()
            .disable_x_axis()
            .label_style(("sans-serif", 13))
            .draw()
            .map_err(draw_err)?;
        let steps = 64;
        bar.draw_series((0..steps).map(|k| {
            let a = lo + (hi - lo) * k as f64 / steps as f64;
            let b = lo + (hi - lo) * (k + 1) as f64 / steps as f64;
            let colour = colour_map((k as f64 + 0.5) / steps as f64);
            Rectangle::new([(0.0, a), (1.0, b)], colour.filled())
        }))
        .map_err(draw_err)?;
        root.present().map_err(draw_err)?;
    }
    write_rgb(path, rgb, size)
}

fn write_rgb(path: &Path, rgb: Vec<u8>, size: [u32; 2]) -> Result<(), PlotError> {
    let img = image::RgbImage::from_raw(size[0], size[1], rgb)
        .ok_or_else(|| PlotError::Draw("frame buffer size".into()))?;
    write_atomic(path, |w| {
        let mut buf = Vec::new();
        img.write_to(&mut std::io::Cursor::new(&mut buf), image::ImageFormat::Png)
            .map_err(std::io::Error::other)?;
        w.write_all(&buf)
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colour_map_runs_dark_to_bright() {
        let lum = |c: RGBColor| u32::from(c.0) + u32::from(c.1) + u32::from(c.2);
        assert!(lum(colour_map(0.0)) < lum(colour_map(0.5)));
        assert!(lum(colour_map(0.5)) < lum(colour_map(1.0)));
        assert_eq!(colour_map(f64::NAN), colour_map(0.0));
    }

    #[test]
    fn plots_draw_text_and_refuse_empty_data() {
        let dir = std::env::temp_dir().join(format!("voxfab-plot-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let line = LinePlot {
            title: "t".into(),
            x_label: "x".into(),
            y_label: "y".into(),
            series: vec![
                Series {
                    name: "a".into(),
                    points: vec![(1.0, 2.0), (2.0, 3.0)],
                },
                Series {
                    name: "b".into(),
                    points: vec![(1.0, 1.0), (2.0, 5.0)],
                },
            ],
        };
        let p = dir.join("line.png");
        line_plot(&p, &line, [400, 300]).unwrap();
        let img = image::open(&p).unwrap().to_rgb8();
        assert_eq!(img.dimensions(), (400, 300));
        // Labels and lines: plenty of non-white pixels.
        let ink = img.pixels().filter(|p| p.0 != [255, 255, 255]).count();
        assert!(ink > 2000, "{ink}");
        let empty = LinePlot {
            series: vec![],
            ..line
        };
        assert!(matches!(
            line_plot(&p, &empty, [400, 300]),
            Err(PlotError::Empty(_))
        ));
        let map = HeatMap {
            title: "h".into(),
            x_label: "x".into(),
            y_label: "y".into(),
            value_label: "v".into(),
            xs: vec![1.0, 2.0],
            ys: vec![10.0, 20.0],
            values: vec![Some(0.0), Some(1.0), None, Some(3.0)],
        };
        let p = dir.join("heat.png");
        heat_map(&p, &map, [500, 400]).unwrap();
        assert!(image::open(&p).is_ok());
        let bad = HeatMap {
            values: vec![Some(1.0)],
            ..map
        };
        assert!(heat_map(&p, &bad, [500, 400]).is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
