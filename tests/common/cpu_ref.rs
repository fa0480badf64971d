//! CPU reference implementations of the process shaders, written for clarity on small
//! grids. Where the shader uses a parallel algorithm (line-sweep flood, separable
//! distance transform, chamfer relaxation) the reference uses the plain serial one
//! (breadth-first search, brute-force distance, Dijkstra) so agreement means something.

use std::collections::{BinaryHeap, VecDeque};
use voxfab::scene::{
    BondMethod, DepositMode, EtchMode, GrindKeep, Mask, Op, PlanarTop, PlateMode, Shape, Side, Tone,
};

/// A Dijkstra queue entry (time, voxel) that `BinaryHeap` pops earliest first.
#[derive(PartialEq)]
pub struct E(pub f64, pub usize);
impl Eq for E {}
impl PartialOrd for E {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for E {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        o.0.total_cmp(&self.0)
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Grid {
    pub dims: [u32; 3],
    pub voxel_um: f64,
    pub m: Vec<u8>,
}

impl Grid {
    pub fn new(dims: [u32; 3], voxel_um: f64) -> Self {
        let n = dims.iter().map(|&d| d as usize).product();
        Self {
            dims,
            voxel_um,
            m: vec![0; n],
        }
    }
    pub fn idx(&self, x: i64, y: i64, z: i64) -> Option<usize> {
        let [nx, ny, nz] = self.dims.map(i64::from);
        (x >= 0 && y >= 0 && z >= 0 && x < nx && y < ny && z < nz)
            .then(|| (x + nx * (y + ny * z)) as usize)
    }
    pub fn at(&self, x: i64, y: i64, z: i64) -> u8 {
        self.idx(x, y, z).map_or(0, |i| self.m[i])
    }
    pub fn set(&mut self, x: i64, y: i64, z: i64, v: u8) {
        let i = self.idx(x, y, z).expect("in grid");
        self.m[i] = v;
    }
    pub fn coords(&self) -> impl Iterator<Item = (i64, i64, i64)> + use<> {
        let [nx, ny, nz] = self.dims.map(i64::from);
        (0..nz).flat_map(move |z| (0..ny).flat_map(move |y| (0..nx).map(move |x| (x, y, z))))
    }
    /// Plan-view mask at column centres.
    pub fn mask(&self, mask: Option<&Mask>, invert: bool) -> Vec<bool> {
        let [nx, ny, _] = self.dims;
        let h = self.voxel_um;
        let mut out = Vec::new();
        for j in 0..ny {
            for i in 0..nx {
                let p = [(f64::from(i) + 0.5) * h, (f64::from(j) + 0.5) * h];
                out.push(mask.is_none_or(|m| m.contains(p)) != invert);
            }
        }
        out
    }
    fn top(&self, x: i64, y: i64) -> i64 {
        (0..i64::from(self.dims[2]))
            .rev()
            .find(|&z| self.at(x, y, z) != 0)
            .unwrap_or(-1)
    }

    /// Voxels connected (6-neighbour) to the top layer through `passable` materials.
    pub fn reach(&self, passable: &dyn Fn(u8) -> bool) -> Vec<bool> {
        let mut seen = vec![false; self.m.len()];
        let mut q = VecDeque::new();
        let [nx, ny, nz] = self.dims.map(i64::from);
        for y in 0..ny {
            for x in 0..nx {
                let i = self.idx(x, y, nz - 1).unwrap();
                if passable(self.m[i]) {
                    seen[i] = true;
                    q.push_back((x, y, nz - 1));
                }
            }
        }
        while let Some((x, y, z)) = q.pop_front() {
            for (dx, dy, dz) in [
                (1, 0, 0),
                (-1, 0, 0),
                (0, 1, 0),
                (0, -1, 0),
                (0, 0, 1),
                (0, 0, -1),
            ] {
                if let Some(j) = self.idx(x + dx, y + dy, z + dz)
                    && !seen[j]
                    && passable(self.m[j])
                {
                    seen[j] = true;
                    q.push_back((x + dx, y + dy, z + dz));
                }
            }
        }
        seen
    }

    /// Applies one op as the GPU is meant to.
    pub fn run(&mut self, op: &Op, masks: &[Mask]) {
        let [nx, ny, nz] = self.dims.map(i64::from);
        let col = |x: i64, y: i64| (x + nx * y) as usize;
        match op {
            Op::Substrate {
                material,
                z0,
                z1,
                mask,
            } => {
                let mk = self.mask(mask.map(|i| &masks[i]), false);
                for (x, y, z) in self.coords() {
                    if z >= i64::from(*z0) && z < i64::from(*z1) && mk[col(x, y)] {
                        self.set(x, y, z, *material);
                    }
                }
            }
            Op::Deposit {
                material,
                mode,
                mask,
            } => {
                let mk = self.mask(mask.map(|i| &masks[i]), false);
                match mode {
                    DepositMode::Directional { thickness } => {
                        for y in 0..ny {
                            for x in 0..nx {
                                if !mk[col(x, y)] {
                                    continue;
                                }
                                let top = self.top(x, y);
                                for z in top + 1..=(top + i64::from(*thickness)).min(nz - 1) {
                                    self.set(x, y, z, *material);
                                }
                            }
                        }
                    }
                    DepositMode::Conformal { thickness } => {
                        let k = i64::from(*thickness);
                        let reach = self.reach(&|m| m == 0);
                        let before = self.clone();
                        for (x, y, z) in self.coords() {
                            let i = self.idx(x, y, z).unwrap();
                            if !reach[i] || before.m[i] != 0 || !mk[col(x, y)] {
                                continue;
                            }
                            // Brute force: nearest solid cube (4x squared distance from the
                            // centre), the floor counting as solid.
                            let mut best = if z < k { cube4(z + 1, 0, 0) } else { i64::MAX };
                            for dz in -k..=k {
                                for dy in -k..=k {
                                    for dx in -k..=k {
                                        if before.idx(x + dx, y + dy, z + dz).is_some()
                                            && before.at(x + dx, y + dy, z + dz) != 0
                                        {
                                            best = best.min(cube4(dx, dy, dz));
                                        }
                                    }
                                }
                            }
                            if best <= 4 * k * k {
                                self.m[i] = *material;
                            }
                        }
                    }
                    DepositMode::Planarize { top } => {
                        let z1 = match top {
                            PlanarTop::Height(h) => i64::from(*h),
                            PlanarTop::AboveHighest(t) => {
                                let mut hi = 0;
                                for y in 0..ny {
                                    for x in 0..nx {
                                        if mk[col(x, y)] {
                                            hi = hi.max(self.top(x, y) + 1);
                                        }
                                    }
                                }
                                hi + i64::from(*t)
                            }
                        };
                        let reach = self.reach(&|m| m == 0);
                        for (x, y, z) in self.coords() {
                            let i = self.idx(x, y, z).unwrap();
                            if z < z1 && reach[i] && self.m[i] == 0 && mk[col(x, y)] {
                                self.m[i] = *material;
                            }
                        }
                    }
                }
            }
            Op::Pattern {
                material,
                mask,
                tone,
                taper,
                ramp,
            } => {
                assert_eq!(
                    *taper, 0.0,
                    "tapers are checked geometrically, not voxel-exactly"
                );
                let mk = self.mask(Some(&masks[*mask]), *tone == Tone::Negative);
                let h = self.voxel_um;
                for (x, y, z) in self.coords() {
                    if self.at(x, y, z) != *material || !mk[col(x, y)] {
                        continue;
                    }
                    let remove = match ramp {
                        None => true,
                        Some(r) => {
                            let pt = [(x as f64 + 0.5) * h, (y as f64 + 0.5) * h];
                            let d = [r.p1[0] - r.p0[0], r.p1[1] - r.p0[1]];
                            let t = (((pt[0] - r.p0[0]) * d[0] + (pt[1] - r.p0[1]) * d[1])
                                / (d[0] * d[0] + d[1] * d[1]))
                                .clamp(0.0, 1.0);
                            z as f64 + 0.5 > r.z0 + (r.z1 - r.z0) * t
                        }
                    };
                    if remove {
                        self.set(x, y, z, 0);
                    }
                }
            }
            Op::Drill {
                materials,
                mask,
                from,
                depth,
                taper,
            } => {
                assert_eq!(*taper, 0.0, "tapers are checked geometrically");
                let mk = self.mask(Some(&masks[*mask]), false);
                let listed = |m: u8| materials.is_empty() || materials.contains(&m);
                for y in 0..ny {
                    for x in 0..nx {
                        if !mk[col(x, y)] {
                            continue;
                        }
                        let (mut z, step) = if *from == Side::Top {
                            (nz - 1, -1)
                        } else {
                            (0, 1)
                        };
                        while (0..nz).contains(&z) && self.at(x, y, z) == 0 {
                            z += step;
                        }
                        let mut s = 0;
                        while (0..nz).contains(&z) && depth.is_none_or(|d| s < i64::from(d)) {
                            let m = self.at(x, y, z);
                            if m != 0 {
                                if !listed(m) {
                                    break;
                                }
                                self.set(x, y, z, 0);
                            }
                            z += step;
                            s += 1;
                        }
                    }
                }
            }
            Op::Plate {
                material,
                mode,
                seeds,
                mask,
            } => {
                let mk = self.mask(mask.map(|i| &masks[i]), false);
                match mode {
                    PlateMode::Fill { top } => {
                        let z1 = match top {
                            Some(t) => i64::from(*t),
                            None => (0..ny)
                                .flat_map(|y| (0..nx).map(move |x| (x, y)))
                                .map(|(x, y)| self.top(x, y) + 1)
                                .max()
                                .unwrap_or(0),
                        };
                        // The hole: empty, below z1, inside the mask; regions touching a
                        // seed's top fill (BFS from the voxels resting on seeds).
                        let open = |g: &Grid, x: i64, y: i64, z: i64| {
                            g.idx(x, y, z).is_some()
                                && g.at(x, y, z) == 0
                                && z < z1
                                && mk[col(x, y)]
                        };
                        let mut seen = vec![false; self.m.len()];
                        let mut q = VecDeque::new();
                        for (x, y, z) in self.coords() {
                            let below = self.at(x, y, z - 1);
                            if open(self, x, y, z) && z > 0 && below != 0 && seeds.contains(&below)
                            {
                                seen[self.idx(x, y, z).unwrap()] = true;
                                q.push_back((x, y, z));
                            }
                        }
                        while let Some((x, y, z)) = q.pop_front() {
                            for (dx, dy, dz) in [
                                (1, 0, 0),
                                (-1, 0, 0),
                                (0, 1, 0),
                                (0, -1, 0),
                                (0, 0, 1),
                                (0, 0, -1),
                            ] {
                                let (a, b, c) = (x + dx, y + dy, z + dz);
                                if open(self, a, b, c) && !seen[self.idx(a, b, c).unwrap()] {
                                    seen[self.idx(a, b, c).unwrap()] = true;
                                    q.push_back((a, b, c));
                                }
                            }
                        }
                        for (m, s) in self.m.iter_mut().zip(&seen) {
                            if *s {
                                *m = *material;
                            }
                        }
                    }
                    PlateMode::Conformal { thickness } => {
                        let k = i64::from(*thickness);
                        let reach = self.reach(&|m| m == 0);
                        let before = self.clone();
                        for (x, y, z) in self.coords() {
                            let i = self.idx(x, y, z).unwrap();
                            if !reach[i] || before.m[i] != 0 || !mk[col(x, y)] {
                                continue;
                            }
                            let mut best = i64::MAX;
                            for dz in -k..=k {
                                for dy in -k..=k {
                                    for dx in -k..=k {
                                        let m = before.at(x + dx, y + dy, z + dz);
                                        if m != 0 && seeds.contains(&m) {
                                            best = best.min(cube4(dx, dy, dz));
                                        }
                                    }
                                }
                            }
                            if best <= 4 * k * k {
                                self.m[i] = *material;
                            }
                        }
                    }
                }
            }
            Op::Grind { keep } => {
                for (x, y, z) in self.coords() {
                    let gone = match keep {
                        GrindKeep::Below(h) => z >= i64::from(*h),
                        GrindKeep::Above(h) => z < i64::from(*h),
                    };
                    if gone {
                        self.set(x, y, z, 0);
                    }
                }
            }
            Op::Flip => {
                let before = self.clone();
                for (x, y, z) in self.coords() {
                    self.set(x, y, z, before.at(x, ny - 1 - y, nz - 1 - z));
                }
            }
            Op::Dispense {
                material,
                mask,
                top,
            } => {
                let op = Op::Deposit {
                    material: *material,
                    mode: DepositMode::Planarize { top: *top },
                    mask: Some(*mask),
                };
                self.run(&op, masks);
            }
            Op::Dice {
                materials,
                mask,
                depth,
            } => {
                let list = if materials.is_empty() {
                    (1..=255).collect()
                } else {
                    materials.clone()
                };
                let op = Op::Etch {
                    materials: list,
                    mode: EtchMode::Anisotropic { depth: *depth },
                    mask: Some(*mask),
                };
                self.run(&op, masks);
            }
            Op::Ball {
                material,
                mask,
                radius,
                height,
            } => {
                let h = self.voxel_um;
                let balls: Vec<(f64, f64, i64)> = masks[*mask]
                    .shapes
                    .iter()
                    .map(|s| {
                        let Shape::Circle { center, .. } = s else {
                            panic!("ball pads are circles")
                        };
                        let (cx, cy) = (center[0] / h, center[1] / h);
                        let (ix, iy) = ((cx as i64).clamp(0, nx - 1), (cy as i64).clamp(0, ny - 1));
                        (cx, cy, self.top(ix, iy) + 1)
                    })
                    .collect();
                for (x, y, z) in self.coords() {
                    if self.at(x, y, z) != 0 {
                        continue;
                    }
                    let q = [x as f64 + 0.5, y as f64 + 0.5, z as f64 + 0.5];
                    for &(cx, cy, base) in &balls {
                        let fz = base as f64;
                        let c = [cx, cy, fz + height - radius];
                        let d2 =
                            (q[0] - c[0]).powi(2) + (q[1] - c[1]).powi(2) + (q[2] - c[2]).powi(2);
                        if q[2] >= fz && q[2] <= fz + height && d2 <= radius * radius {
                            self.set(x, y, z, *material);
                            break;
                        }
                    }
                }
            }
            Op::Wirebond { .. } => panic!("wires are checked geometrically"),
            Op::Etch {
                materials,
                mode,
                mask,
            } => {
                let mk = self.mask(mask.map(|i| &masks[i]), false);
                let listed = |m: u8| materials.contains(&m);
                match mode {
                    EtchMode::Anisotropic { depth } => {
                        for y in 0..ny {
                            for x in 0..nx {
                                if !mk[col(x, y)] {
                                    continue;
                                }
                                let top = self.top(x, y);
                                let bottom = depth.map_or(0, |d| (top - i64::from(d) + 1).max(0));
                                let mut z = top;
                                while z >= bottom {
                                    let m = self.at(x, y, z);
                                    if m != 0 {
                                        if !listed(m) {
                                            break;
                                        }
                                        self.set(x, y, z, 0);
                                    }
                                    z -= 1;
                                }
                            }
                        }
                    }
                    EtchMode::Isotropic { distance } => {
                        let t = self.wet_times(&|m| listed(m).then_some(1.0));
                        self.remove_reached(&t, &|m| listed(m), &mk, *distance);
                    }
                    EtchMode::Rates { rates, time } => {
                        let slow = |m: u8| {
                            rates
                                .iter()
                                .find(|r| r.material == m && r.voxels_per_min > 0.0)
                                .map(|r| 1.0 / r.voxels_per_min as f32 as f64)
                        };
                        let t = self.wet_times(&slow);
                        let cut = time.unwrap_or_else(|| {
                            (0..t.len())
                                .filter(|&i| listed(self.m[i]) && t[i].is_finite())
                                .map(|i| t[i])
                                .fold(0.0, f64::max)
                        });
                        self.remove_reached(&t, &|m| slow(m).is_some(), &mk, cut);
                    }
                    EtchMode::Strip => {
                        let reach = self.reach(&|m| m == 0 || listed(m));
                        for (m, r) in self.m.iter_mut().zip(&reach) {
                            if *m != 0 && listed(*m) && *r {
                                *m = 0;
                            }
                        }
                    }
                }
            }
        }
    }

    /// Drops `part` (offset in voxels) onto this grid with a gap, filling the gap in its
    /// footprint with `film` unless eutectic; the mirror of shaders/bond.wgsl.
    pub fn bond(&mut self, part: &Grid, offset: [i64; 2], method: BondMethod, film: u8, gap: i64) {
        let [nx, ny, nz] = self.dims.map(i64::from);
        let mut cols = Vec::new();
        let mut shift = i64::MIN;
        for y in 0..ny {
            for x in 0..nx {
                let za = self.top(x, y);
                let (bx, by) = (x - offset[0], y - offset[1]);
                let zs: Vec<i64> = (0..nz)
                    .filter(|&z| part.idx(bx, by, z).is_some() && part.at(bx, by, z) != 0)
                    .collect();
                let zb = zs.first().copied();
                if let Some(zb) = zb {
                    shift = shift.max(za + 1 + gap - zb);
                }
                cols.push((za, zb));
            }
        }
        let before = self.clone();
        for (x, y, z) in before.coords() {
            if before.at(x, y, z) != 0 {
                continue;
            }
            let (bx, by, bz) = (x - offset[0], y - offset[1], z - shift);
            if part.idx(bx, by, bz).is_some() && part.at(bx, by, bz) != 0 {
                self.set(x, y, z, part.at(bx, by, bz));
                continue;
            }
            let (za, zb) = cols[(x + nx * y) as usize];
            if method != BondMethod::Eutectic && zb.is_some_and(|zb| z > za && z < zb + shift) {
                self.set(x, y, z, film);
            }
        }
    }

    /// Removes `etched` material whose arrival time is at most `cut`, inside the mask.
    fn remove_reached(&mut self, t: &[f64], etched: &dyn Fn(u8) -> bool, mk: &[bool], cut: f64) {
        let nxy = (self.dims[0] * self.dims[1]) as usize;
        for i in 0..self.m.len() {
            if self.m[i] != 0 && etched(self.m[i]) && mk[i % nxy] && t[i] >= 0.0 && t[i] <= cut {
                self.m[i] = 0;
            }
        }
    }

    /// Wet-etch arrival times (minutes) by the shader's scheme
    /// (shaders/etch_isotropic.wgsl) run serially in Dijkstra order: each voxel takes
    /// the earliest of its neighbour's wave source, when the straight segment to it stays
    /// in material of its own slowness, and the neighbour itself as a secondary source.
    /// Sources are the top-reachable voids, measured to their cubes. `slow` gives
    /// minutes per voxel, `None` where the front stops; enclosed voids take the fastest.
    pub fn wet_times(&self, slow: &dyn Fn(u8) -> Option<f64>) -> Vec<f64> {
        let fastest = (1..=255u8).filter_map(slow).fold(f64::INFINITY, f64::min);
        let w_of = |m: u8| if m == 0 { Some(fastest) } else { slow(m) };
        let reach = self.reach(&|m| m == 0);
        let n = self.m.len();
        let [nx, ny, nz] = self.dims.map(i64::from);
        let pos = |i: usize| {
            let i = i as i64;
            [i % nx, (i / nx) % ny, i / (nx * ny)].map(|v| v as f64)
        };
        let mut t = vec![f64::INFINITY; n];
        let mut src = vec![usize::MAX; n];
        let mut wet = vec![false; n];
        let mut heap = BinaryHeap::new();
        for i in 0..n {
            if self.m[i] == 0 && reach[i] {
                wet[i] = true;
                t[i] = 0.0;
                src[i] = i;
                heap.push(E(0.0, i));
            }
        }
        let target = |x: [f64; 3], s: usize, wet: &[bool]| {
            let c = pos(s);
            if wet[s] {
                [0, 1, 2].map(|k| x[k].clamp(c[k] - 0.5, c[k] + 0.5))
            } else {
                c
            }
        };
        let dist = |a: [f64; 3], b: [f64; 3]| {
            ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2) + (a[2] - b[2]).powi(2)).sqrt()
        };
        let visible = |x: [f64; 3], s: usize, w: f64, wet: &[bool]| {
            let q = target(x, s, wet);
            let d = [q[0] - x[0], q[1] - x[1], q[2] - x[2]];
            let k = (dist(q, x) * 2.0).ceil() as usize;
            (0..k).all(|j| {
                let f = (j as f64 + 0.5) / k as f64;
                let v: Vec<i64> = (0..3)
                    .map(|a| ((x[a] + d[a] * f + 0.5).floor() as i64).clamp(0, [nx, ny, nz][a] - 1))
                    .collect();
                let vi = self.idx(v[0], v[1], v[2]).unwrap();
                let m = self.m[vi];
                vi == s || m == 0 || w_of(m) == Some(w)
            })
        };
        while let Some(E(ti, i)) = heap.pop() {
            if ti > t[i] {
                continue;
            }
            let [x, y, z] = pos(i).map(|v| v as i64);
            let wi = w_of(self.m[i]).unwrap_or(0.0);
            for dz in -1..=1i64 {
                for dy in -1..=1i64 {
                    for dx in -1..=1i64 {
                        let Some(j) = self.idx(x + dx, y + dy, z + dz) else {
                            continue;
                        };
                        let Some(w) = w_of(self.m[j]) else { continue };
                        if wet[j] {
                            continue;
                        }
                        let xj = pos(j);
                        let (mut best, mut bs) = (t[j], src[j]);
                        // As in the shader, a source in sight wins over an upwind step
                        // unless the step is clearly earlier.
                        let step = if wet[i] {
                            f64::INFINITY
                        } else {
                            let l = ((dx * dx + dy * dy + dz * dz) as f64).sqrt();
                            t[i] + l * 0.5 * (w + wi)
                        };
                        let s = src[i];
                        let l = dist(target(xj, s, &wet), xj);
                        let a = if wet[s] {
                            l * w
                        } else {
                            // The stretch inside a secondary source's own voxel goes at
                            // its material's slowness (as in the shader).
                            let ws = w_of(self.m[s]).unwrap_or(w);
                            let c = pos(s);
                            let u = (0..3).map(|k| (c[k] - xj[k]).abs()).fold(0.0, f64::max);
                            let inside = if ws != w && l > 0.0 {
                                (0.5 * l / u).min(l)
                            } else {
                                0.0
                            };
                            t[s] + (l - inside) * w + inside * ws
                        };
                        if a < best && a <= step + 1e-4 * w && visible(xj, s, w, &wet) {
                            (best, bs) = (a, s);
                        } else if step < best {
                            (best, bs) = (step, i);
                        }
                        if best < t[j] - 1e-9 {
                            t[j] = best;
                            src[j] = bs;
                            heap.push(E(best, j));
                        }
                    }
                }
            }
        }
        for i in 0..n {
            if wet[i] {
                t[i] = -1.0;
            }
        }
        t
    }
}

/// 4x the squared distance from a voxel centre to the cube of the voxel (dx, dy, dz)
/// away (conformal films are offset surfaces of the solid's cubes).
fn cube4(dx: i64, dy: i64, dz: i64) -> i64 {
    [dx, dy, dz]
        .iter()
        .map(|d| (2 * d.abs() - 1).max(0).pow(2))
        .sum()
}
