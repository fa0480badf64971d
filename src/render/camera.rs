//! Orbit camera around the grid centre, z up, in voxel units.

use glam::{Mat4, Vec3, Vec4};

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OrbitCamera {
    pub azimuth_deg: f32,
    pub elevation_deg: f32,
    /// Multiplies the distance that just fits the grid.
    pub zoom: f32,
    /// Look-at point offset from the grid centre (voxels), for panning.
    pub pan: Vec3,
    pub fov_deg: f32,
}

impl Default for OrbitCamera {
    fn default() -> Self {
        Self {
            azimuth_deg: -35.0,
            elevation_deg: 30.0,
            zoom: 0.85,
            pan: Vec3::ZERO,
            fov_deg: 30.0,
        }
    }
}

impl OrbitCamera {
    /// (view-projection, eye) for a grid of `dims` voxels drawn at `aspect` (w/h).
    pub fn matrices(&self, dims: [u32; 3], aspect: f32) -> (Mat4, Vec3) {
        let size = Vec3::new(dims[0] as f32, dims[1] as f32, dims[2] as f32);
        let target = size * 0.5 + self.pan;
        let radius = size.length() * 0.5;
        let fov = self.fov_deg.to_radians();
        // Fit the bounding sphere in the narrower of the two field angles.
        let half = if aspect < 1.0 {
            (fov * 0.5).tan() * aspect
        } else {
            (fov * 0.5).tan()
        };
        let dist = radius / half.atan().sin() * 1.02 * self.zoom;
        let (az, el) = (
            self.azimuth_deg.to_radians(),
            self.elevation_deg.to_radians(),
        );
        let dir = Vec3::new(el.cos() * az.cos(), el.cos() * az.sin(), el.sin());
        let eye = target + dir * dist;
        let view = look_at_rh(eye, target, Vec3::Z);
        let near = (dist - radius * 1.5).max(dist * 1e-3);
        let proj = perspective_rh(fov, aspect, near, dist + radius * 2.0);
        (proj * view, eye)
    }
}

impl OrbitCamera {
    /// Turns the camera by a mouse drag of `dx, dy` pixels (right = orbit right, down = look from higher up).
    pub fn orbit(&mut self, dx: f32, dy: f32) {
        self.azimuth_deg = (self.azimuth_deg - dx * 0.4).rem_euclid(360.0);
        self.elevation_deg = (self.elevation_deg + dy * 0.4).clamp(-89.0, 89.0);
    }

    /// Zooms by `steps` (positive = closer), each a factor of about 1.1.
    pub fn zoom_by(&mut self, steps: f32) {
        self.zoom = (self.zoom * 1.1f32.powf(-steps)).clamp(0.05, 5.0);
    }

    /// Moves the look-at point so the scene follows a drag of `dx, dy` pixels in a view
    /// `view_h` pixels tall.
    pub fn pan_by(&mut self, dims: [u32; 3], view_h: f32, dx: f32, dy: f32) {
        let size = Vec3::new(dims[0] as f32, dims[1] as f32, dims[2] as f32);
        // Grid units per pixel at the look-at point, about right for the fitted distance.
        let k = size.length() * self.zoom / view_h.max(1.0);
        let (az, el) = (
            self.azimuth_deg.to_radians(),
            self.elevation_deg.to_radians(),
        );
        let right = Vec3::new(-az.sin(), az.cos(), 0.0);
        let forward = -Vec3::new(el.cos() * az.cos(), el.cos() * az.sin(), el.sin());
        let up = right.cross(forward);
        self.pan += (-right * dx + up * dy) * k;
        // Keep the look-at point near the grid so a stray drag cannot lose the scene.
        self.pan = self.pan.clamp(-size, size);
    }
}

/// Right-handed view matrix (this glam version ships no projection helpers).
fn look_at_rh(eye: Vec3, target: Vec3, up: Vec3) -> Mat4 {
    let f = (target - eye).normalize();
    let s = f.cross(up).normalize();
    let u = s.cross(f);
    Mat4::from_cols(
        Vec4::new(s.x, u.x, -f.x, 0.0),
        Vec4::new(s.y, u.y, -f.y, 0.0),
        Vec4::new(s.z, u.z, -f.z, 0.0),
        Vec4::new(-s.dot(eye), -u.dot(eye), f.dot(eye), 1.0),
    )
}

/// Right-handed perspective projection with depth in 0..1 (WebGPU clip space).
fn perspective_rh(fov_y: f32, aspect: f32, near: f32, far: f32) -> Mat4 {
    let h = 1.0 / (fov_y * 0.5).tan();
    let r = far / (near - far);
    Mat4::from_cols(
        Vec4::new(h / aspect, 0.0, 0.0, 0.0),
        Vec4::new(0.0, h, 0.0, 0.0),
        Vec4::new(0.0, 0.0, r, -1.0),
        Vec4::new(0.0, 0.0, r * near, 0.0),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grid_centre_projects_to_screen_centre_and_corners_inside() {
        let cam = OrbitCamera {
            zoom: 1.0,
            ..Default::default()
        };
        let dims = [100, 60, 40];
        let (vp, _) = cam.matrices(dims, 1.5);
        let c = vp.project_point3(Vec3::new(50.0, 30.0, 20.0));
        assert!(c.x.abs() < 1e-4 && c.y.abs() < 1e-4, "{c}");
        for corner in [
            Vec3::ZERO,
            Vec3::new(100.0, 60.0, 40.0),
            Vec3::new(100.0, 0.0, 0.0),
        ] {
            let p = vp.project_point3(corner);
            assert!(
                p.x.abs() < 1.0 && p.y.abs() < 1.0 && (0.0..1.0).contains(&p.z),
                "{corner} -> {p}"
            );
        }
    }

    #[test]
    fn mouse_gestures_stay_in_range() {
        let mut cam = OrbitCamera::default();
        cam.orbit(10_000.0, 10_000.0);
        assert!((0.0..360.0).contains(&cam.azimuth_deg));
        assert_eq!(cam.elevation_deg, 89.0);
        cam.zoom_by(1e6);
        assert_eq!(cam.zoom, 0.05);
        cam.zoom_by(-1e6);
        assert_eq!(cam.zoom, 5.0);
        let dims = [100, 60, 40];
        cam.pan_by(dims, 500.0, 1e9, -1e9);
        let size = Vec3::new(100.0, 60.0, 40.0);
        assert!(cam.pan.abs().cmple(size).all(), "{}", cam.pan);
    }

    #[test]
    fn pan_moves_the_look_at_point_across_the_screen() {
        // Seen from +x (azimuth 0), screen right is +y: dragging right moves the
        // look-at point to -y so the scene follows the cursor.
        let mut cam = OrbitCamera {
            azimuth_deg: 0.0,
            elevation_deg: 0.0,
            ..Default::default()
        };
        cam.pan_by([100, 100, 100], 400.0, 40.0, 0.0);
        assert!(
            cam.pan.y < 0.0 && cam.pan.x.abs() < 1e-4 && cam.pan.z.abs() < 1e-4,
            "{}",
            cam.pan
        );
        let mut cam = OrbitCamera {
            azimuth_deg: 0.0,
            elevation_deg: 0.0,
            ..Default::default()
        };
        // Dragging down moves it up.
        cam.pan_by([100, 100, 100], 400.0, 0.0, 40.0);
        assert!(cam.pan.z > 0.0, "{}", cam.pan);
    }
}
