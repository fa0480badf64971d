//! The stress solver's shader modules, layouts and pipelines: built once per device and
//! precision ([`StressKernels::shared`]) and shared by every [`StressSolver`] of runs,
//! benches and the window, so a solver's construction only allocates buffers and bind
//! groups.
//!
//! [`StressSolver`]: super::StressSolver

use super::StressError;
use super::gpu_util::{Bind, Module};
use crate::gpu::GpuContext;
use crate::shaders::{self, Windows};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Entry points of stress_outer.wgsl and stress_results.wgsl.
pub(super) struct OuterPipes {
    pub fix_init: wgpu::ComputePipeline,
    pub prescribe: wgpu::ComputePipeline,
    pub reactions: wgpu::ComputePipeline,
    pub residual: wgpu::ComputePipeline,
    pub finish_residual: wgpu::ComputePipeline,
    pub precond_dots: wgpu::ComputePipeline,
    pub finish_beta: wgpu::ComputePipeline,
    pub update_p: wgpu::ComputePipeline,
    pub apply: wgpu::ComputePipeline,
    pub finish_alpha: wgpu::ComputePipeline,
    pub update_ur: wgpu::ComputePipeline,
    pub finish_rr: wgpu::ComputePipeline,
    pub export_u: wgpu::ComputePipeline,
    pub results: wgpu::ComputePipeline,
}

/// The smoothing entry points of one operator shader (stress_mg_smooth.wgsl, in
/// stress_mg0.wgsl for the voxels and stress_mg_elem.wgsl for the coarse levels).
pub(super) struct SmoothPipes {
    /// The residual passes, indexed by what they leave in d (`multigrid::Store`: the
    /// residual, Chebyshev step 1, step 2).
    pub resid: [wgpu::ComputePipeline; 3],
    pub cheb_zero: wgpu::ComputePipeline,
    pub add_d: wgpu::ComputePipeline,
    pub pow_init: wgpu::ComputePipeline,
    pub pow_step: wgpu::ComputePipeline,
}

impl SmoothPipes {
    fn new(device: &wgpu::Device, m: &Module) -> Self {
        Self {
            resid: ["resid", "cheb1", "cheb2"].map(|e| m.pipeline(device, e)),
            cheb_zero: m.pipeline(device, "cheb_zero"),
            add_d: m.pipeline(device, "add_d"),
            pow_init: m.pipeline(device, "pow_init"),
            pow_step: m.pipeline(device, "pow_step"),
        }
    }
}

/// Entry points of the multigrid shaders (stress_mg*.wgsl, stress_galerkin*.wgsl,
/// stress_transfer.wgsl, stress_coarsest.wgsl).
pub(super) struct MgPipes {
    /// Level 0's smoothing, then the coarse levels'.
    pub smooth: [SmoothPipes; 2],
    /// Level 0's block inverse of each material's interior nodes, at set-up.
    pub mat_inverses: wgpu::ComputePipeline,
    pub diag_e: wgpu::ComputePipeline,
    pub galerkin0: wgpu::ComputePipeline,
    pub galerkin: wgpu::ComputePipeline,
    pub slots0: wgpu::ComputePipeline,
    pub slots_e: wgpu::ComputePipeline,
    pub tag0: wgpu::ComputePipeline,
    pub tag_e: wgpu::ComputePipeline,
    pub pweights0: wgpu::ComputePipeline,
    pub pweights_e: wgpu::ComputePipeline,
    pub restrict: wgpu::ComputePipeline,
    pub prolong: wgpu::ComputePipeline,
    pub dense: wgpu::ComputePipeline,
}

/// The multigrid's modules (their layouts make the per-grid bind groups) and pipelines,
/// all f32; level 0 reads the outer CG's residual, so they are built per outer precision.
pub(super) struct MgKernels {
    /// How the node vectors and coarse matrices are split into bindings.
    pub windows: Windows,
    pub mg0: Module,
    pub elem: Module,
    pub gal0: Module,
    pub gal: Module,
    pub tag: Module,
    pub transfer: Module,
    pub coarsest: Module,
    pub pipes: MgPipes,
}

impl MgKernels {
    fn new(gpu: &GpuContext, f64: bool, windows: Windows) -> Self {
        let device = &gpu.device;
        use Bind::{ReadOnly as Ro, ReadWrite as Rw, Uniform as U};
        let module = |name: &str, kinds: &[Bind]| {
            let source = shaders::stress_mg(name, f64, windows);
            Module::windowed(device, name, source, kinds, windows)
        };
        let mg0 = module(
            "stress_mg0",
            &[U, Ro, Ro, U, Ro, Rw, U, Rw, Ro, Rw, Rw, Ro, Rw],
        );
        let elem = module(
            "stress_mg_elem",
            &[U, Ro, Ro, Rw, Rw, Rw, Rw, Ro, U, Ro, Rw, Rw],
        );
        let gal0 = module("stress_galerkin0", &[U, Ro, Ro, U, Rw, U, Rw, Rw, Rw, Ro]);
        let gal = module("stress_galerkin", &[U, Ro, Ro, Rw, Rw, Rw, Ro, Ro]);
        let tag = module("stress_mg_tag", &[U, Ro, Ro, Rw, U, Rw, Rw, Rw]);
        let transfer = module("stress_transfer", &[U, Rw, Rw, Rw, Rw, Rw]);
        let coarsest = module("stress_coarsest", &[U, Ro, Rw, Rw]);
        let pipes = MgPipes {
            smooth: [
                SmoothPipes::new(device, &mg0),
                SmoothPipes::new(device, &elem),
            ],
            mat_inverses: mg0.pipeline(device, "mat_inverses"),
            diag_e: elem.pipeline(device, "diag_e"),
            galerkin0: gal0.pipeline(device, "galerkin0"),
            galerkin: gal.pipeline(device, "galerkin"),
            slots0: gal0.pipeline(device, "slots0"),
            slots_e: gal.pipeline(device, "slots_e"),
            tag0: tag.pipeline(device, "tag0"),
            tag_e: tag.pipeline(device, "tag_e"),
            pweights0: gal0.pipeline(device, "pweights0"),
            pweights_e: gal.pipeline(device, "pweights_e"),
            restrict: transfer.pipeline(device, "restrict_residual"),
            prolong: transfer.pipeline(device, "prolong"),
            dense: coarsest.pipeline(device, "dense_solve"),
        };
        Self {
            windows,
            mg0,
            elem,
            gal0,
            gal,
            tag,
            transfer,
            coarsest,
            pipes,
        }
    }
}

/// Everything a [`StressSolver`](super::StressSolver) dispatches, for one outer
/// precision and one split of the node vectors into bindings.
pub struct StressKernels {
    pub(super) f64: bool,
    pub(super) windows: Windows,
    pub(super) outer: Module,
    pub(super) results: Module,
    pub(super) pipes: OuterPipes,
    pub(super) mg: Arc<MgKernels>,
}

/// The bindings of stress_outer.wgsl, in order.
fn outer_kinds() -> Vec<Bind> {
    use Bind::{ReadOnly as Ro, ReadWrite as Rw, Uniform as Un};
    let mut kinds = vec![Un, Ro, Ro, Un, Ro];
    kinds.extend([Rw; 8]);
    kinds.extend([Ro, Ro]);
    kinds.extend([Rw; 3]);
    kinds
}

/// The bindings of stress_results.wgsl, in order.
fn results_kinds() -> Vec<Bind> {
    use Bind::{ReadOnly as Ro, ReadWrite as Rw, Uniform as Un};
    let mut kinds = vec![Un, Ro, Ro, Ro, Ro, Ro];
    kinds.extend([Rw; 8]);
    kinds
}

/// Storage buffers per stage a module of `kinds` binds with its windowed declarations
/// (in `source`) split as `windows` says.
fn storage_bindings(kinds: &[Bind], source: &str, windows: Windows) -> u32 {
    let own = kinds.iter().filter(|k| !matches!(k, Bind::Uniform)).count() as u32;
    let extra: u32 = Windows::decls(source)
        .iter()
        .map(|d| windows.of(d).1 - 1)
        .sum();
    own + extra
}

/// Per-device cache: one slot per outer precision (f32, f64) and vector split.
#[derive(Default)]
struct Cache(Mutex<HashMap<(bool, Windows), Arc<StressKernels>>>);

impl StressKernels {
    /// The kernels of `gpu`'s device for the outer precision `f64`, compiled on first
    /// use and shared afterwards; every vector in one binding (a solver whose grid
    /// needs more asks for [`StressKernels::shared_windowed`] itself).
    pub fn shared(gpu: &GpuContext, f64: bool) -> Result<Arc<Self>, StressError> {
        Self::shared_windowed(gpu, f64, Windows::ONE)
    }

    /// [`StressKernels::shared`] with the node vectors split as `windows` says.
    pub fn shared_windowed(
        gpu: &GpuContext,
        f64: bool,
        windows: Windows,
    ) -> Result<Arc<Self>, StressError> {
        Self::check(gpu, f64)?;
        let cache = gpu.kernels(|_| Cache::default());
        let mut map = cache.0.lock().unwrap_or_else(|e| e.into_inner());
        Ok(map
            .entry((f64, windows))
            .or_insert_with(|| Arc::new(Self::build(gpu, f64, windows)))
            .clone())
    }

    /// Fresh kernels, not shared (for measuring what sharing saves).
    pub fn new(gpu: &GpuContext, f64: bool) -> Result<Self, StressError> {
        Self::windowed(gpu, f64, Windows::ONE)
    }

    /// Fresh kernels whose node vectors are split as `windows` says (tests force small
    /// windows to check the split against one binding).
    pub fn windowed(gpu: &GpuContext, f64: bool, windows: Windows) -> Result<Self, StressError> {
        Self::check(gpu, f64)?;
        let bad = |bytes: u64, count: u32| {
            !Windows::uniform(bytes, count).fits(0, shaders::MAX_WINDOWS, gpu.max_binding_bytes())
        };
        if bad(windows.bytes, windows.count)
            || bad(windows.narrow_bytes, windows.narrow)
            || !Self::fits_stage(&gpu.limits, windows)
        {
            return Err(StressError::BadOptions(format!(
                "{} windows of {} bytes ({} of {} for the 4-byte arrays): {} binds {} storage \
                 buffers per stage and at most {} bytes per binding; windows are at most {} \
                 and multiples of {} bytes",
                windows.count,
                windows.bytes,
                windows.narrow,
                windows.narrow_bytes,
                gpu.info.name,
                gpu.limits.max_storage_buffers_per_shader_stage,
                gpu.max_binding_bytes(),
                shaders::MAX_WINDOWS,
                shaders::WINDOW_ALIGN
            )));
        }
        Ok(Self::build(gpu, f64, windows))
    }

    /// Whether the modules that bind the most windows (the outer iteration and the
    /// result fields) stay within the stage's storage buffers with `windows`.
    pub fn fits_stage(limits: &wgpu::Limits, windows: Windows) -> bool {
        let most = limits.max_storage_buffers_per_shader_stage;
        let with_common = |body: &str| format!("{}\n{body}", shaders::STRESS_COMMON);
        storage_bindings(&outer_kinds(), &with_common(shaders::STRESS_OUTER), windows) <= most
            && storage_bindings(
                &results_kinds(),
                &with_common(shaders::STRESS_RESULTS),
                windows,
            ) <= most
    }

    /// Most windows per node vector the device's storage-buffer count per shader stage
    /// allows (at most [`shaders::MAX_WINDOWS`]): the outer shader, which windows the most
    /// vectors, sets it (lavapipe's 32 storage buffers: 4).
    pub fn most_windows(limits: &wgpu::Limits) -> u32 {
        let storage = outer_kinds()
            .iter()
            .filter(|k| !matches!(k, Bind::Uniform))
            .count() as u32;
        // The 4-byte arrays in one window each.
        let windowed = Windows::decls(shaders::STRESS_OUTER)
            .iter()
            .filter(|d| !d.narrow)
            .count() as u32;
        Windows::most(
            limits.max_storage_buffers_per_shader_stage,
            storage,
            windowed,
        )
    }

    /// Whether the outer iteration of these kernels runs in f64.
    pub fn f64(&self) -> bool {
        self.f64
    }

    fn check(gpu: &GpuContext, f64: bool) -> Result<(), StressError> {
        if f64 && !gpu.has_f64() {
            return Err(StressError::BadOptions(format!(
                "{} has no f64 shaders (SHADER_F64)",
                gpu.info.name
            )));
        }
        Ok(())
    }

    fn build(gpu: &GpuContext, f64: bool, windows: Windows) -> Self {
        let mg = Arc::new(MgKernels::new(gpu, f64, windows));
        // The passes whose gather multiplies u instead of the f32 search direction.
        const GATHER_U: &[(&str, f64)] = &[("GATHER_U", 1.0)];
        let device = &gpu.device;
        let outer = Module::windowed(
            device,
            "stress_outer",
            shaders::stress_outer(f64, windows),
            &outer_kinds(),
            windows,
        );
        let results = Module::windowed(
            device,
            "stress_results",
            shaders::stress("stress_results", windows),
            &results_kinds(),
            windows,
        );
        let pipes = OuterPipes {
            fix_init: outer.pipeline(device, "fix_init"),
            prescribe: outer.pipeline(device, "prescribe"),
            reactions: outer.pipeline_with(device, "reactions", GATHER_U),
            residual: outer.pipeline_with(device, "residual", GATHER_U),
            finish_residual: outer.pipeline(device, "finish_residual"),
            precond_dots: outer.pipeline(device, "precond_dots"),
            finish_beta: outer.pipeline(device, "finish_beta"),
            update_p: outer.pipeline(device, "update_p"),
            apply: outer.pipeline(device, "apply"),
            finish_alpha: outer.pipeline(device, "finish_alpha"),
            update_ur: outer.pipeline(device, "update_ur"),
            finish_rr: outer.pipeline(device, "finish_rr"),
            export_u: outer.pipeline(device, "export_u"),
            results: results.pipeline(device, "results"),
        };
        Self {
            f64,
            windows,
            outer,
            results,
            pipes,
            mg,
        }
    }
}
