//! Small wgpu helpers of the stress passes (on top of gpu::bind): modules whose
//! binding `i` is the `i`-th entry of a list (plus the windows of their windowed
//! vectors, [`Windows`]), bind groups from buffers in binding order, compute pipelines
//! and dispatch sizes.

use super::params::{WG, dispatch_2d};
use crate::gpu::bind::{buffer_layout, window_entries};
use crate::shaders::{WINDOW_STRIDE, Windows};

/// What a binding is.
#[derive(Clone, Copy)]
pub enum Bind {
    Uniform,
    ReadOnly,
    ReadWrite,
}

/// A bind-group layout from (binding, kind) pairs (a windowed vector's windows follow
/// the shader's own bindings).
fn layout(device: &wgpu::Device, label: &str, kinds: &[(u32, Bind)]) -> wgpu::BindGroupLayout {
    let entries: Vec<wgpu::BindGroupLayoutEntry> = kinds
        .iter()
        .map(|&(i, k)| {
            let ty = match k {
                Bind::Uniform => wgpu::BufferBindingType::Uniform,
                Bind::ReadOnly => wgpu::BufferBindingType::Storage { read_only: true },
                Bind::ReadWrite => wgpu::BufferBindingType::Storage { read_only: false },
            };
            buffer_layout(i, ty, wgpu::ShaderStages::COMPUTE)
        })
        .collect();
    device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
        label: Some(label),
        entries: &entries,
    })
}

/// Part of a buffer bound as one array: the solver keeps its result fields in ranges of
/// buffers a finished solve no longer needs.
#[derive(Clone)]
pub struct Range {
    pub buffer: wgpu::Buffer,
    pub offset: u64,
    pub size: u64,
}

/// Offsets of [`Range`]s are multiples of this (as those of windows).
pub const RANGE_ALIGN: u64 = crate::shaders::WINDOW_ALIGN;

impl Range {
    fn buffer_binding(&self) -> wgpu::BufferBinding<'_> {
        wgpu::BufferBinding {
            buffer: &self.buffer,
            offset: self.offset,
            size: wgpu::BufferSize::new(self.size),
        }
    }
}

/// A storage array the shaders bind in windows ([`Windows`]): one buffer, or, past the
/// adapter's buffer limit (4 GiB on every adapter under wgpu 30), pieces of whole
/// windows, each a buffer of its own (piece k holds bytes `[k piece, (k + 1) piece)`).
/// The shaders take every window as a binding of their own, so they cannot tell.
#[derive(Clone)]
pub struct Vector {
    pieces: Vec<wgpu::Buffer>,
    /// Bytes per piece (all but the last full; unused with one piece).
    piece: u64,
}

/// Bytes per piece of the vectors split as `windows` says on an adapter whose buffers
/// hold at most `max_buffer` bytes: as many whole windows as one buffer holds (one
/// buffer, `u64::MAX`, while the vectors are one window).
pub fn piece_bytes(windows: Windows, max_buffer: u64) -> u64 {
    if windows.count <= 1 {
        u64::MAX
    } else {
        windows.bytes * (max_buffer / windows.bytes).max(1)
    }
}

/// Bytes of each buffer a [`Vector`] of `len` bytes in pieces of `piece` allocates (as
/// [`buffer`] rounds them), so that estimates can place ranges without a device.
pub fn piece_sizes(len: u64, piece: u64) -> Vec<u64> {
    let len = buffer_size(len);
    if len <= piece {
        return vec![len];
    }
    (0..len.div_ceil(piece))
        .map(|k| buffer_size((len - k * piece).min(piece)))
        .collect()
}

/// Offsets `stride` apart of the ranges of `len` bytes that pieces of `sizes` hold
/// whole, as (piece, offset), piece by piece (the solver places its result ranges in them).
pub fn slots_in(sizes: &[u64], len: u64, stride: u64) -> impl Iterator<Item = (usize, u64)> + '_ {
    sizes.iter().enumerate().flat_map(move |(k, &size)| {
        (0..)
            .map(move |j| j * stride)
            .take_while(move |&off| off + len <= size)
            .map(move |off| (k, off))
    })
}

impl Vector {
    /// `len` bytes in pieces of `piece` ([`piece_bytes`]).
    pub fn new(
        device: &wgpu::Device,
        label: &str,
        len: u64,
        usage: wgpu::BufferUsages,
        piece: u64,
    ) -> Self {
        let sizes = piece_sizes(len, piece);
        let pieces = if let [size] = sizes[..] {
            vec![buffer(device, label, size, usage)]
        } else {
            (0..)
                .zip(&sizes)
                .map(|(k, &size)| buffer(device, &format!("{label}#{k}"), size, usage))
                .collect()
        };
        Self { pieces, piece }
    }

    /// Bytes of all pieces.
    pub fn size(&self) -> u64 {
        self.pieces.iter().map(wgpu::Buffer::size).sum()
    }

    /// (piece, offset in it, bytes up to the piece's end) of byte `at`.
    fn locate(&self, at: u64) -> (usize, u64, u64) {
        let (k, off) = if self.pieces.len() == 1 {
            (0, at)
        } else {
            ((at / self.piece) as usize, at % self.piece)
        };
        let left = self
            .pieces
            .get(k)
            .map_or(0, |b| b.size().saturating_sub(off));
        (k, off, left)
    }

    /// The `(piece, offset, bytes)` spans of bytes `[at, at + len)`.
    fn spans(&self, mut at: u64, len: u64) -> Vec<(usize, u64, u64)> {
        let end = at + len;
        let mut out = Vec::new();
        while at < end {
            let (k, off, left) = self.locate(at);
            assert!(left > 0, "bytes {at}.. lie past the vector's end");
            let n = left.min(end - at);
            out.push((k, off, n));
            at += n;
        }
        out
    }

    /// Writes `data` at byte `at` (across pieces).
    pub fn write(&self, queue: &wgpu::Queue, at: u64, data: &[u8]) {
        let mut done = 0usize;
        for (k, off, n) in self.spans(at, data.len() as u64) {
            queue.write_buffer(&self.pieces[k], off, &data[done..done + n as usize]);
            done += n as usize;
        }
    }

    /// Bytes `[at, at + len)` read back (piece by piece).
    pub fn read(&self, gpu: &crate::gpu::GpuContext, at: u64, len: u64) -> Vec<u8> {
        let mut out = Vec::with_capacity(len as usize);
        for (k, off, n) in self.spans(at, len) {
            out.extend(crate::gpu::read_buffer(gpu, &self.pieces[k], off, n));
        }
        out
    }

    /// Zeroes every piece.
    pub fn clear(&self, encoder: &mut wgpu::CommandEncoder) {
        for b in &self.pieces {
            encoder.clear_buffer(b, 0, None);
        }
    }

    /// Bytes of each piece.
    pub fn sizes(&self) -> Vec<u64> {
        self.pieces.iter().map(wgpu::Buffer::size).collect()
    }

    /// The range of `len` bytes at `offset` of piece `k`.
    pub fn range_in(&self, k: usize, offset: u64, len: u64) -> Range {
        Range {
            buffer: self.pieces[k].clone(),
            offset,
            size: len,
        }
    }

    /// Window `k` of `bytes` each: its piece's binding, or `None` past the end. Pieces
    /// are whole windows ([`piece_bytes`]); a window across two would be a bug.
    fn window(&self, k: u32, bytes: u64) -> Option<wgpu::BufferBinding<'_>> {
        let (p, off, left) = self.locate(u64::from(k) * bytes);
        if left == 0 {
            return None;
        }
        assert!(
            left >= bytes || p + 1 == self.pieces.len(),
            "window {k} of {bytes} B straddles piece {p}"
        );
        Some(wgpu::BufferBinding {
            buffer: &self.pieces[p],
            offset: off,
            size: wgpu::BufferSize::new(left.min(bytes)),
        })
    }
}

/// What one binding of a [`Module`] gets: a buffer or [`Vector`] whole (a windowed
/// binding in its windows), or a [`Range`].
#[derive(Clone, Copy)]
pub enum Arg<'a> {
    Vector(&'a Vector),
    Buffer(&'a wgpu::Buffer),
    Range(&'a Range),
}

/// Anything a [`Module`] binding takes ([`Module::bind`] lists them as `&dyn AsArg`).
pub trait AsArg {
    fn arg(&self) -> Arg<'_>;
}

impl AsArg for Vector {
    fn arg(&self) -> Arg<'_> {
        Arg::Vector(self)
    }
}

impl AsArg for wgpu::Buffer {
    fn arg(&self) -> Arg<'_> {
        Arg::Buffer(self)
    }
}

impl AsArg for Range {
    fn arg(&self) -> Arg<'_> {
        Arg::Range(self)
    }
}

/// One module, one layout, several entry points.
pub struct Module {
    pub layout: wgpu::BindGroupLayout,
    pipeline_layout: wgpu::PipelineLayout,
    module: wgpu::ShaderModule,
    /// The bindings the shader splits into windows (number, read-write, the split's
    /// bytes and count), and how.
    windowed: Vec<(u32, bool, Windows)>,
    /// Bound to the windows past a buffer's end (read-only, read-write: one buffer may
    /// not be both in one dispatch).
    spare: [wgpu::Buffer; 2],
}

impl Module {
    /// A module whose `// window` vectors (see [`Windows`]) are split as `windows` says;
    /// `source` is already expanded with them. Binding i is `kinds[i]`; its windows take
    /// its kind.
    pub fn windowed(
        device: &wgpu::Device,
        label: &str,
        source: String,
        kinds: &[Bind],
        windows: Windows,
    ) -> Self {
        let windowed: Vec<(u32, bool, Windows)> = Windows::decls(&source)
            .iter()
            .map(|d| {
                let (bytes, count) = windows.of(d);
                (d.binding, d.read_write, Windows::uniform(bytes, count))
            })
            .collect();
        let mut numbered: Vec<(u32, Bind)> = (0..).zip(kinds.iter().copied()).collect();
        for &(b, _, split) in &windowed {
            for k in 1..split.count {
                numbered.push((b + WINDOW_STRIDE * k, kinds[b as usize]));
            }
        }
        let layout = layout(device, label, &numbered);
        let pipeline_layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
            label: Some(label),
            bind_group_layouts: &[Some(&layout)],
            immediate_size: 0,
        });
        let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
            label: Some(label),
            source: wgpu::ShaderSource::Wgsl(source.into()),
        });
        let spare =
            ["Module::spare_ro", "Module::spare_rw"].map(|l| buffer(device, l, RANGE_ALIGN, RW));
        Self {
            layout,
            pipeline_layout,
            module,
            windowed,
            spare,
        }
    }

    pub fn pipeline(&self, device: &wgpu::Device, entry: &str) -> wgpu::ComputePipeline {
        self.pipeline_with(device, entry, &[])
    }

    /// [`Module::pipeline`] with the shader's `override` constants set.
    pub fn pipeline_with(
        &self,
        device: &wgpu::Device,
        entry: &str,
        constants: &[(&str, f64)],
    ) -> wgpu::ComputePipeline {
        device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
            label: Some(entry),
            layout: Some(&self.pipeline_layout),
            module: &self.module,
            entry_point: Some(entry),
            compilation_options: wgpu::PipelineCompilationOptions {
                constants,
                ..Default::default()
            },
            cache: None,
        })
    }

    /// Bind group from what each binding gets, in binding order. A windowed binding's
    /// array is split into the module's windows (a [`Vector`]'s from its pieces; windows
    /// past its end get a spare buffer); any other binding must be one buffer.
    pub fn bind(&self, device: &wgpu::Device, label: &str, args: &[&dyn AsArg]) -> wgpu::BindGroup {
        let args: Vec<Arg> = args.iter().map(|a| a.arg()).collect();
        self.bind_args(device, label, &args)
    }

    /// [`Module::bind`] from a list already made.
    pub fn bind_args(
        &self,
        device: &wgpu::Device,
        label: &str,
        args: &[Arg<'_>],
    ) -> wgpu::BindGroup {
        let mut entries: Vec<wgpu::BindGroupEntry> = Vec::new();
        for (binding, &arg) in (0..).zip(args) {
            let window = self.windowed.iter().find(|w| w.0 == binding);
            // One buffer (or part of one), or a vector in several.
            let one = match arg {
                Arg::Buffer(b) => Some(b.as_entire_buffer_binding()),
                Arg::Range(r) => Some(r.buffer_binding()),
                Arg::Vector(v) => match &v.pieces[..] {
                    [b] => Some(b.as_entire_buffer_binding()),
                    _ => None,
                },
            };
            match (one, window, arg) {
                (Some(b), Some(&(_, rw, split)), _) => entries.extend(window_entries(
                    binding,
                    b,
                    split,
                    &self.spare[usize::from(rw)],
                )),
                (Some(b), None, _) => entries.push(wgpu::BindGroupEntry {
                    binding,
                    resource: wgpu::BindingResource::Buffer(b),
                }),
                (None, Some(&(_, rw, split)), Arg::Vector(v)) => {
                    entries.extend((0..split.count).map(|k| wgpu::BindGroupEntry {
                        binding: binding + WINDOW_STRIDE * k,
                        resource: v.window(k, split.bytes).map_or_else(
                            || self.spare[usize::from(rw)].as_entire_binding(),
                            wgpu::BindingResource::Buffer,
                        ),
                    }))
                }
                (None, ..) => panic!("binding {binding} of {label} is not windowed"),
            }
        }
        device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some(label),
            layout: &self.layout,
            entries: &entries,
        })
    }
}

/// (2D dispatch width, workgroup grid) covering `threads` threads of WG each.
pub fn cover(threads: u64) -> (u32, [u32; 3]) {
    let groups = threads.div_ceil(u64::from(WG)).min(u64::from(u32::MAX)) as u32;
    dispatch_2d(groups)
}

pub fn dispatch(
    pass: &mut wgpu::ComputePass<'_>,
    pipe: &wgpu::ComputePipeline,
    group: &wgpu::BindGroup,
    grid: [u32; 3],
) {
    pass.set_pipeline(pipe);
    pass.set_bind_group(0, group, &[]);
    pass.dispatch_workgroups(grid[0], grid[1], grid[2]);
}

/// Bytes [`buffer`] allocates for `size`: at least 16, a multiple of 4.
pub fn buffer_size(size: u64) -> u64 {
    size.max(16).next_multiple_of(4)
}

pub fn buffer(
    device: &wgpu::Device,
    label: &str,
    size: u64,
    usage: wgpu::BufferUsages,
) -> wgpu::Buffer {
    device.create_buffer(&wgpu::BufferDescriptor {
        label: Some(label),
        size: buffer_size(size),
        usage,
        mapped_at_creation: false,
    })
}

/// Storage that kernels write and the host may copy or read back.
pub const RW: wgpu::BufferUsages = wgpu::BufferUsages::STORAGE
    .union(wgpu::BufferUsages::COPY_SRC)
    .union(wgpu::BufferUsages::COPY_DST);
/// A uniform the host rewrites.
pub const UNIFORM: wgpu::BufferUsages =
    wgpu::BufferUsages::UNIFORM.union(wgpu::BufferUsages::COPY_DST);
