//! The material library: built-in data from shared/materials.md, extendable by a scene.
//!
//! Material id 0 is always `void` (empty space); ids fit in a byte so the grid,
//! the VTK output and the shaders' 256-bit material sets agree.

/// Isotropic linear-elastic material. Units: E in GPa, CTE in ppm/K.
#[derive(Debug, Clone, PartialEq)]
pub struct Material {
    pub name: String,
    pub description: String,
    pub e_gpa: f64,
    pub nu: f64,
    pub cte_ppm: f64,
    /// sRGB colour used by every view.
    pub color: [u8; 3],
    /// Conducts electricity (used by connectivity checks). ACF counts as an insulator:
    /// it conducts only across its thickness, where a bump presses it onto a pad, and
    /// the voxel model joins bump and pad directly there.
    pub conductor: bool,
}

/// Source or note per built-in material (shared/materials.md's last column).
const SOURCES: &[(&str, &str)] = &[
    (
        "si",
        "Hopcroft et al., J. MEMS 19(2) 2010 (E along [100]); CTE ≈2.5–2.6",
    ),
    (
        "sio2",
        "film E 55–72 reported (Dai & Chang, Mater. Lett. 61, 2007); fused silica CTE 0.4–0.55",
    ),
    ("si3n4", "LPCVD film values"),
    ("al", "thin-film Al 70–76 GPa, CTE 22–23.5"),
    ("cu", "115–130 for plated Cu; CTE 16.5–17.7"),
    ("ti", "typical"),
    (
        "polyimide",
        "typical WLCSP PI; low-CTE grades (PI-2611: E 8.5, CTE 3) exist",
    ),
    (
        "bcb",
        "typical; consistent with 15–45 MPa measured film stress on Si",
    ),
    (
        "sac305",
        "NIST/Clech review; strongly temperature dependent",
    ),
    ("snpb", "typical"),
    ("underfill", "typical below Tg (E 6–10, CTE 25–35)"),
    ("emc", "typical below Tg"),
    ("fr4", "in-plane; see note above"),
    ("glass", "Pyrex 7740 data sheet"),
    ("soda_lime", "soda-lime float glass data"),
    ("ito", "E, ν from sputtered film data; CTE typical"),
    ("su8", "glassy SU-8; CTE 30–52 reported"),
    ("pr_pos", "typical; usually removed before stress matters"),
    ("acf", "CTE 50–80 (Pinardi et al., IEEE TCPT 23(3) 2000)"),
    ("adhesive", "typical"),
    ("elastomer", "typical soft stress-buffer; ν kept below 0.5"),
    ("gold", "typical"),
];

/// The source or note of built-in material `name` ("" for others).
pub fn builtin_source(name: &str) -> &'static str {
    SOURCES
        .iter()
        .find(|(n, _)| *n == name)
        .map_or("", |(_, s)| s)
}

/// The built-in library as a markdown table (`voxfab materials`, docs/MATERIALS.md).
pub fn builtin_markdown() -> String {
    let t = MaterialTable::builtin();
    let mut s = String::from(
        "| name | material | E (GPa) | ν | CTE (ppm/K) | conductor | source / note |\n|---|---|---:|---:|---:|---|---|\n",
    );
    for (_, m) in t.iter().skip(1) {
        s.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} |\n",
            m.name,
            m.description,
            m.e_gpa,
            m.nu,
            m.cte_ppm,
            if m.conductor { "yes" } else { "no" },
            builtin_source(&m.name)
        ));
    }
    s
}

/// Most materials a scene may hold, void included.
pub const MAX_MATERIALS: usize = 256;

pub const VOID: u8 = 0;

/// (name, description, E, nu, CTE, colour, conductor), from shared/materials.md.
const BUILTIN: &[(&str, &str, f64, f64, f64, u32, bool)] = &[
    (
        "si",
        "silicon die / wafer",
        130.0,
        0.28,
        2.6,
        0x6b7a8f,
        false,
    ),
    (
        "sio2",
        "silicon dioxide film",
        70.0,
        0.17,
        0.5,
        0xb8e0f0,
        false,
    ),
    (
        "si3n4",
        "silicon nitride film",
        222.0,
        0.28,
        2.3,
        0x7fbf9f,
        false,
    ),
    ("al", "aluminium pad", 70.0, 0.33, 23.0, 0xd9d9e6, true),
    (
        "cu",
        "copper (RDL, via plug, plated bar)",
        117.0,
        0.34,
        17.0,
        0xd9822b,
        true,
    ),
    (
        "ti",
        "titanium (seed / adhesion)",
        110.0,
        0.32,
        8.6,
        0x9a8fa6,
        true,
    ),
    (
        "polyimide",
        "repassivation / insulating layer",
        3.3,
        0.34,
        35.0,
        0xc9a227,
        false,
    ),
    ("bcb", "benzocyclobutene", 2.9, 0.34, 42.0, 0x5fa8a0, false),
    (
        "sac305",
        "Sn-3.0Ag-0.5Cu solder",
        50.0,
        0.36,
        22.0,
        0xa7acb3,
        true,
    ),
    (
        "snpb",
        "Sn63Pb37 eutectic solder",
        30.0,
        0.40,
        24.0,
        0x8d9299,
        true,
    ),
    (
        "underfill",
        "capillary flip-chip underfill",
        8.0,
        0.33,
        30.0,
        0x3d6e99,
        false,
    ),
    (
        "emc",
        "epoxy molding compound / encapsulant",
        20.0,
        0.30,
        12.0,
        0x2e2e33,
        false,
    ),
    (
        "fr4",
        "FR-4 circuit board (in-plane)",
        22.0,
        0.28,
        16.0,
        0x3f7f3a,
        false,
    ),
    (
        "glass",
        "borosilicate glass",
        64.0,
        0.20,
        3.25,
        0x9fd3d6,
        false,
    ),
    (
        "soda_lime",
        "soda-lime glass (ITO glass plate)",
        70.0,
        0.23,
        9.0,
        0x8cc7b9,
        false,
    ),
    (
        "ito",
        "indium tin oxide film",
        116.0,
        0.35,
        7.0,
        0x6ad1e3,
        true,
    ),
    (
        "su8",
        "negative photoresist (SU-8)",
        3.2,
        0.22,
        52.0,
        0x9c5fb5,
        false,
    ),
    (
        "pr_pos",
        "positive photoresist / dry film (novolac)",
        4.0,
        0.30,
        50.0,
        0xd65f8a,
        false,
    ),
    (
        "acf",
        "anisotropic conductive film",
        3.0,
        0.35,
        60.0,
        0xb5a06b,
        false,
    ),
    (
        "adhesive",
        "thermally cured epoxy adhesive",
        3.0,
        0.35,
        55.0,
        0xc7b48f,
        false,
    ),
    (
        "elastomer",
        "compliant/elastic layer (silicone-like)",
        0.1,
        0.45,
        150.0,
        0xe05a4f,
        false,
    ),
    (
        "gold",
        "gold (wire bond, bump)",
        78.0,
        0.44,
        14.2,
        0xf2c230,
        true,
    ),
];

/// The materials of one scene, indexed by id (0 = void).
#[derive(Debug, Clone)]
pub struct MaterialTable {
    materials: Vec<Material>,
}

impl Default for MaterialTable {
    fn default() -> Self {
        Self::builtin()
    }
}

impl MaterialTable {
    pub fn builtin() -> Self {
        let mut materials = vec![Material {
            name: "void".into(),
            description: "empty space".into(),
            e_gpa: 0.0,
            nu: 0.0,
            cte_ppm: 0.0,
            color: [18, 20, 26],
            conductor: false,
        }];
        materials.extend(
            BUILTIN
                .iter()
                .map(|&(name, desc, e, nu, cte, rgb, conductor)| Material {
                    name: name.into(),
                    description: desc.into(),
                    e_gpa: e,
                    nu,
                    cte_ppm: cte,
                    color: [(rgb >> 16) as u8, (rgb >> 8) as u8, rgb as u8],
                    conductor,
                }),
        );
        Self { materials }
    }

    pub fn id(&self, name: &str) -> Option<u8> {
        self.materials
            .iter()
            .position(|m| m.name == name)
            .map(|i| i as u8)
    }

    pub fn get(&self, id: u8) -> &Material {
        &self.materials[id as usize]
    }

    pub fn len(&self) -> usize {
        self.materials.len()
    }

    pub fn is_empty(&self) -> bool {
        self.materials.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = (u8, &Material)> {
        self.materials.iter().enumerate().map(|(i, m)| (i as u8, m))
    }

    pub fn names(&self) -> Vec<&str> {
        self.materials
            .iter()
            .skip(1)
            .map(|m| m.name.as_str())
            .collect()
    }

    /// Adds a material or replaces the one of the same name; returns its id.
    /// Fails when the table is full.
    pub fn upsert(&mut self, m: Material) -> Option<u8> {
        if let Some(id) = self.id(&m.name) {
            self.materials[id as usize] = m;
            return Some(id);
        }
        if self.materials.len() >= MAX_MATERIALS {
            return None;
        }
        self.materials.push(m);
        Some((self.materials.len() - 1) as u8)
    }
}

/// Parses `#rrggbb` or `rrggbb`.
pub fn parse_color(s: &str) -> Option<[u8; 3]> {
    let hex = s.strip_prefix('#').unwrap_or(s);
    if hex.len() != 6 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    let v = u32::from_str_radix(hex, 16).ok()?;
    Some([(v >> 16) as u8, (v >> 8) as u8, v as u8])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_has_void_first_and_reference_values() {
        let t = MaterialTable::builtin();
        assert_eq!(t.get(0).name, "void");
        let si = t.get(t.id("si").unwrap());
        assert_eq!((si.e_gpa, si.nu, si.cte_ppm), (130.0, 0.28, 2.6));
        let cu = t.get(t.id("cu").unwrap());
        assert_eq!((cu.e_gpa, cu.nu, cu.cte_ppm), (117.0, 0.34, 17.0));
        assert_eq!(t.len(), 23);
    }

    #[test]
    fn colors_parse() {
        assert_eq!(parse_color("#ff8000"), Some([255, 128, 0]));
        assert_eq!(parse_color("zz8000"), None);
    }
}
