//! VTK XML ImageData (.vti) with raw appended binary data, readable by ParaView.

use std::io::Write;

/// One data array; cell arrays have one tuple per voxel, point arrays one per corner.
pub enum Array<'a> {
    UInt8 {
        name: &'a str,
        data: &'a [u8],
    },
    Float32 {
        name: &'a str,
        components: u32,
        data: &'a [f32],
    },
}

impl Array<'_> {
    fn name(&self) -> &str {
        match self {
            Array::UInt8 { name, .. } | Array::Float32 { name, .. } => name,
        }
    }
    fn bytes(&self) -> &[u8] {
        match self {
            Array::UInt8 { data, .. } => data,
            Array::Float32 { data, .. } => bytemuck::cast_slice(data),
        }
    }
    fn header(&self, offset: u64) -> String {
        match self {
            Array::UInt8 { name, .. } => {
                format!(
                    r#"<DataArray type="UInt8" Name="{name}" format="appended" offset="{offset}"/>"#
                )
            }
            Array::Float32 {
                name, components, ..
            } => format!(
                r#"<DataArray type="Float32" Name="{name}" NumberOfComponents="{components}" format="appended" offset="{offset}"/>"#
            ),
        }
    }
}

/// Writes an image of `dims` cells with spacing `voxel_um` (origin 0).
pub fn write(
    w: &mut dyn Write,
    dims: [u32; 3],
    voxel_um: f64,
    cells: &[Array],
    points: &[Array],
) -> std::io::Result<()> {
    let [nx, ny, nz] = dims;
    let extent = format!("0 {nx} 0 {ny} 0 {nz}");
    writeln!(w, r#"<?xml version="1.0"?>"#)?;
    writeln!(
        w,
        r#"<VTKFile type="ImageData" version="1.0" byte_order="LittleEndian" header_type="UInt64">"#
    )?;
    writeln!(
        w,
        r#"  <ImageData WholeExtent="{extent}" Origin="0 0 0" Spacing="{voxel_um} {voxel_um} {voxel_um}">"#
    )?;
    writeln!(w, r#"    <Piece Extent="{extent}">"#)?;
    let mut offset = 0u64;
    for (tag, arrays) in [("PointData", points), ("CellData", cells)] {
        let scalars = arrays
            .first()
            .map(|a| format!(r#" Scalars="{}""#, a.name()))
            .unwrap_or_default();
        writeln!(w, "      <{tag}{scalars}>")?;
        for a in arrays {
            writeln!(w, "        {}", a.header(offset))?;
            offset += 8 + a.bytes().len() as u64;
        }
        writeln!(w, "      </{tag}>")?;
    }
    writeln!(w, "    </Piece>")?;
    writeln!(w, "  </ImageData>")?;
    write!(w, "  <AppendedData encoding=\"raw\">\n   _")?;
    for a in points.iter().chain(cells) {
        w.write_all(&(a.bytes().len() as u64).to_le_bytes())?;
        w.write_all(a.bytes())?;
    }
    writeln!(w, "\n  </AppendedData>")?;
    writeln!(w, "</VTKFile>")
}
