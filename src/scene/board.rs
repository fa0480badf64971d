//! The board-level study of a design (`[board]` in a pitch-cell scene): the die, the
//! joint array and the board a global model is built from, and which joints the local
//! submodel resolves. Plain data; `crate::board` runs the study.

/// A WLCSP die on a board, as the quarter global model sees it. Lengths in µm.
#[derive(Debug, Clone, PartialEq)]
pub struct BoardSpec {
    /// Full die size in x and y (the global model is the quarter x, y ≥ 0).
    pub die: [f64; 2],
    pub die_thickness: f64,
    /// Joint pitch; the cell scene's grid is one pitch square, its joint at the centre.
    pub pitch: f64,
    /// Joints in the full array along x and y.
    pub joints: [u32; 2],
    pub board_thickness: f64,
    /// Board beyond the die edge.
    pub overhang: f64,
    /// Voxel edge of the global model (an integer multiple of the cell's voxel).
    pub global_voxel: f64,
    /// Side of the equivalent joint column in the global model.
    pub column: f64,
    /// Which of the cell's shear stiffnesses the column matches.
    pub column_fit: ColumnFit,
    /// Which critical joints get a local model besides the corner: the x-edge and the
    /// y-edge middle joints.
    pub edges: [bool; 2],
    /// Material ids: die, board, solder (whose layers the figures average).
    pub die_material: u8,
    pub board_material: u8,
    pub solder: u8,
    /// Thickness of the critical solder layers at the die- and board-side interfaces.
    pub layer: f64,
    /// 1-based line of the `[board]` table, for errors of the study.
    pub line: usize,
}

/// The shear stiffness an isotropic equivalent column is given where the design's
/// differs in x and y: their mean (default), or either one (to bracket the answer).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ColumnFit {
    #[default]
    Mean,
    X,
    Y,
}

impl ColumnFit {
    pub fn name(self) -> &'static str {
        match self {
            ColumnFit::Mean => "mean",
            ColumnFit::X => "x",
            ColumnFit::Y => "y",
        }
    }
}

/// Where a joint sits in the array, in the quarter model.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct JointSite {
    /// Column and row index in the quarter, from the die centre outwards.
    pub index: [u32; 2],
    /// Centre in the quarter model's x, y (µm; the die centre is the origin).
    pub centre: [f64; 2],
}

impl JointSite {
    /// Distance from the neutral point (the die centre).
    pub fn dnp(&self) -> f64 {
        self.centre[0].hypot(self.centre[1])
    }
}

impl BoardSpec {
    /// Joint centre coordinates ≥ 0 along one axis: (i + ½)·pitch for an even count,
    /// i·pitch for an odd one (the middle joint then sits on the symmetry plane).
    pub fn axis_centres(&self, axis: usize) -> Vec<f64> {
        let n = self.joints[axis];
        if n.is_multiple_of(2) {
            (0..n / 2)
                .map(|i| (f64::from(i) + 0.5) * self.pitch)
                .collect()
        } else {
            (0..=n / 2).map(|i| f64::from(i) * self.pitch).collect()
        }
    }

    /// Every joint of the quarter model, x fastest.
    pub fn sites(&self) -> Vec<JointSite> {
        let (xs, ys) = (self.axis_centres(0), self.axis_centres(1));
        let mut out = Vec::with_capacity(xs.len() * ys.len());
        for (j, &y) in ys.iter().enumerate() {
            for (i, &x) in xs.iter().enumerate() {
                out.push(JointSite {
                    index: [i as u32, j as u32],
                    centre: [x, y],
                });
            }
        }
        out
    }

    /// The joints the local model resolves: the corner, and the middle of the x edge
    /// and of the y edge (an oriented design breaks the quarter symmetry, so the worst
    /// joint need not be the corner), without repeats.
    pub fn critical(&self) -> Vec<(&'static str, JointSite)> {
        let (xs, ys) = (self.axis_centres(0), self.axis_centres(1));
        let (i, j) = (xs.len() - 1, ys.len() - 1);
        let site = |i: usize, j: usize| JointSite {
            index: [i as u32, j as u32],
            centre: [xs[i], ys[j]],
        };
        let mut out = vec![("corner", site(i, j))];
        for (k, (name, s)) in [("x_edge", site(i, 0)), ("y_edge", site(0, j))]
            .into_iter()
            .enumerate()
        {
            if self.edges[k] && out.iter().all(|(_, o)| o.index != s.index) {
                out.push((name, s));
            }
        }
        out
    }

    /// Quarter-model extent in x and y: half the die plus the overhang.
    pub fn quarter_size(&self) -> [f64; 2] {
        [
            self.die[0] / 2.0 + self.overhang,
            self.die[1] / 2.0 + self.overhang,
        ]
    }
}
