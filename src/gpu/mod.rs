//! The one GPU context shared by headless runs, tests, benchmarks and the window.

pub(crate) mod bind;
mod readback;

pub use bind::{
    buffer_layout, texture_2d, whole_buffers, window_entries, window_layouts, windowed_buffers,
};

pub use readback::{read_buffer, read_texture_rgba8};

use std::any::Any;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

/// Why no usable device could be made.
#[derive(Debug, thiserror::Error)]
pub enum GpuError {
    #[error(
        "no GPU adapter found (Vulkan, Metal or DX12). On Linux without a GPU install Mesa's \
         CPU adapter: `apt-get install mesa-vulkan-drivers` (lavapipe)"
    )]
    NoAdapter,
    #[error("no adapter matches VOXFAB_ADAPTER={0:?}; available: {1}")]
    NoMatch(String, String),
    #[error("could not open a device on {adapter}: {source}")]
    Device {
        adapter: String,
        source: wgpu::RequestDeviceError,
    },
}

/// Adapter, device and queue, with the limits actually granted. Cloning is cheap and
/// shares the device, its error sink and its kernels.
#[derive(Clone)]
pub struct GpuContext {
    pub instance: wgpu::Instance,
    pub adapter: wgpu::Adapter,
    pub device: wgpu::Device,
    pub queue: wgpu::Queue,
    pub info: wgpu::AdapterInfo,
    pub limits: wgpu::Limits,
    errors: ErrorSink,
    kernels: Arc<Mutex<Vec<Arc<dyn Any + Send + Sync>>>>,
    /// Bytes of the memory budget a run's up-front check left over (u64::MAX: none
    /// set): what sized-at-set-up storage (the stress solver's coarse matrices) may
    /// still take.
    headroom: Arc<AtomicU64>,
}

/// The first GPU error nobody captured (out of memory, validation, device loss). wgpu's
/// default handler panics; voxfab records the error and the run reports it with the
/// step it happened in.
#[derive(Clone, Default)]
struct ErrorSink(Arc<Mutex<Option<String>>>);

impl ErrorSink {
    fn record(&self, message: String) {
        let mut slot = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        slot.get_or_insert(message);
    }
}

/// Where the backend reports a memory budget (Vulkan's VK_EXT_memory_budget, DX12),
/// resource creation fails with out-of-memory at 90% of it instead of the driver
/// paging or losing the device; the run turns that into an error naming the step.
pub const MEMORY_THRESHOLDS: wgpu::MemoryBudgetThresholds = wgpu::MemoryBudgetThresholds {
    for_resource_creation: Some(90),
    for_device_loss: None,
};

/// Lower is preferred: a real GPU first, a CPU rasteriser (lavapipe) as the fallback.
fn rank(ty: wgpu::DeviceType) -> u8 {
    match ty {
        wgpu::DeviceType::DiscreteGpu => 0,
        wgpu::DeviceType::IntegratedGpu => 1,
        wgpu::DeviceType::VirtualGpu => 2,
        wgpu::DeviceType::Other => 3,
        wgpu::DeviceType::Cpu => 4,
    }
}

impl GpuContext {
    /// Opens the best adapter. `VOXFAB_ADAPTER=<substring>` picks one by name
    /// (e.g. `llvmpipe` to force the CPU adapter).
    pub fn new() -> Result<Self, GpuError> {
        Self::with_instance(Self::headless_instance())
    }

    /// An instance of the primary backends with voxfab's memory thresholds, no display.
    fn headless_instance() -> wgpu::Instance {
        wgpu::Instance::new(wgpu::InstanceDescriptor {
            backends: wgpu::Backends::PRIMARY,
            memory_budget_thresholds: MEMORY_THRESHOLDS,
            ..wgpu::InstanceDescriptor::new_without_display_handle()
        })
    }

    pub fn with_instance(instance: wgpu::Instance) -> Result<Self, GpuError> {
        Self::open(instance, None, |l| l)
    }

    /// [`GpuContext::new`] with the device's limits lowered by `lower` (tests use it to
    /// stand for adapters with smaller buffers or bindings than theirs).
    pub fn with_lower_limits(
        lower: impl FnOnce(wgpu::Limits) -> wgpu::Limits,
    ) -> Result<Self, GpuError> {
        Self::open(Self::headless_instance(), None, lower)
    }

    /// Opens the best adapter that can present to `surface` (the window's), so the
    /// window and the headless paths share one context.
    pub fn with_surface(
        instance: wgpu::Instance,
        surface: &wgpu::Surface<'_>,
    ) -> Result<Self, GpuError> {
        Self::open(instance, Some(surface), |l| l)
    }

    fn open(
        instance: wgpu::Instance,
        surface: Option<&wgpu::Surface<'_>>,
        lower: impl FnOnce(wgpu::Limits) -> wgpu::Limits,
    ) -> Result<Self, GpuError> {
        let mut adapters = pollster::block_on(instance.enumerate_adapters(wgpu::Backends::PRIMARY));
        if let Some(surface) = surface {
            adapters.retain(|a| a.is_surface_supported(surface));
        }
        if adapters.is_empty() {
            return Err(GpuError::NoAdapter);
        }
        if let Ok(want) = std::env::var("VOXFAB_ADAPTER") {
            let names: Vec<String> = adapters.iter().map(|a| a.get_info().name).collect();
            let want_lc = want.to_lowercase();
            adapters.retain(|a| a.get_info().name.to_lowercase().contains(&want_lc));
            if adapters.is_empty() {
                return Err(GpuError::NoMatch(want, names.join(", ")));
            }
        }
        adapters.sort_by_key(|a| rank(a.get_info().device_type));
        let adapter = adapters.swap_remove(0);
        let info = adapter.get_info();
        // Ask for everything the adapter has: the WebGPU defaults cap buffers at 256 MiB.
        let limits = lower(adapter.limits());
        // f64 for the stress solver's outer iteration where the adapter has it (Vulkan,
        // DX12; not Metal, where the solver falls back to f32).
        let features = adapter.features() & wgpu::Features::SHADER_F64;
        let (device, queue) = pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor {
            label: Some("GpuContext::device"),
            required_features: features,
            required_limits: limits.clone(),
            ..Default::default()
        }))
        .map_err(|source| GpuError::Device {
            adapter: info.name.clone(),
            source,
        })?;
        let errors = ErrorSink::default();
        let sink = errors.clone();
        device.on_uncaptured_error(Arc::new(move |e: wgpu::Error| sink.record(e.to_string())));
        let sink = errors.clone();
        device.set_device_lost_callback(move |reason, message| {
            sink.record(format!("device lost ({reason:?}): {message}"));
        });
        Ok(Self {
            instance,
            adapter,
            device,
            queue,
            info,
            limits,
            errors,
            kernels: Arc::default(),
            headroom: Arc::new(AtomicU64::new(u64::MAX)),
        })
    }

    /// The GPU error recorded since the last call (the first one), if any.
    pub fn take_error(&self) -> Option<String> {
        self.errors
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
    }

    /// Records an error found outside wgpu's callbacks (a failed readback).
    pub(crate) fn record_error(&self, message: String) {
        self.errors.record(message);
    }

    /// Device-scoped kernels of type `T` (pipelines and layouts), built by `build` on
    /// first use and shared by every user of this device afterwards.
    pub fn kernels<T: Any + Send + Sync>(&self, build: impl FnOnce(&Self) -> T) -> Arc<T> {
        let find = |list: &Vec<Arc<dyn Any + Send + Sync>>| {
            list.iter().find_map(|k| Arc::clone(k).downcast::<T>().ok())
        };
        if let Some(k) = find(&self.kernels.lock().unwrap_or_else(PoisonError::into_inner)) {
            return k;
        }
        // Built outside the lock: kernels may ask for other kernels.
        let built = Arc::new(build(self));
        let mut list = self.kernels.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(k) = find(&list) {
            return k;
        }
        list.push(built.clone());
        built
    }

    /// Sets what the memory budget leaves after every buffer the run's up-front check
    /// counted ([`crate::engine::check_budget`] does).
    pub fn set_headroom(&self, bytes: u64) {
        self.headroom.store(bytes, Ordering::Relaxed);
    }

    /// What the memory budget leaves for storage sized at set-up (u64::MAX: no budget).
    pub fn headroom(&self) -> u64 {
        self.headroom.load(Ordering::Relaxed)
    }

    /// Largest storage buffer one binding may see, in bytes.
    pub fn max_binding_bytes(&self) -> u64 {
        self.limits
            .max_storage_buffer_binding_size
            .min(self.limits.max_buffer_size)
    }

    /// Whether shaders may use f64 (`Features::SHADER_F64` was granted).
    pub fn has_f64(&self) -> bool {
        self.device.features().contains(wgpu::Features::SHADER_F64)
    }

    /// Blocks until all submitted work is done.
    pub fn wait(&self) {
        // A device loss shows up again at the next submit; nothing to do here.
        let _ = self.device.poll(wgpu::PollType::wait_indefinitely());
    }

    pub fn is_cpu(&self) -> bool {
        self.info.device_type == wgpu::DeviceType::Cpu
    }
}

impl fmt::Display for GpuContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} ({:?}, {:?}, driver {} {})",
            self.info.name,
            self.info.backend,
            self.info.device_type,
            self.info.driver,
            self.info.driver_info
        )
    }
}
