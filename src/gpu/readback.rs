//! The one readback path: buffers and textures come back to the CPU only through here.

use super::GpuContext;

/// Copies `size` bytes at `offset` of `buffer` (which needs COPY_SRC) back to the CPU.
pub fn read_buffer(gpu: &GpuContext, buffer: &wgpu::Buffer, offset: u64, size: u64) -> Vec<u8> {
    let staging = gpu.device.create_buffer(&wgpu::BufferDescriptor {
        label: Some("readback::staging"),
        size,
        usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
        mapped_at_creation: false,
    });
    let mut encoder = gpu
        .device
        .create_command_encoder(&wgpu::CommandEncoderDescriptor {
            label: Some("readback::encoder"),
        });
    encoder.copy_buffer_to_buffer(buffer, offset, &staging, 0, size);
    gpu.queue.submit([encoder.finish()]);
    map_and_copy(gpu, &staging)
}

fn map_and_copy(gpu: &GpuContext, staging: &wgpu::Buffer) -> Vec<u8> {
    let (tx, rx) = std::sync::mpsc::channel();
    staging.map_async(wgpu::MapMode::Read, .., move |r| {
        let _ = tx.send(r);
    });
    gpu.wait();
    // A lost device fails the mapping: record it (the run reports it with the step) and
    // hand back zeros rather than panicking.
    match rx.recv() {
        Ok(Ok(())) => {}
        Ok(Err(e)) => {
            gpu.record_error(format!("reading a buffer back failed: {e}"));
            return vec![0; staging.size() as usize];
        }
        Err(_) => {
            gpu.record_error("reading a buffer back failed: the device dropped the request".into());
            return vec![0; staging.size() as usize];
        }
    }
    let out = staging
        .get_mapped_range(..)
        .expect("readback range is mapped")
        .to_vec();
    staging.unmap();
    out
}

/// Reads an RGBA8 texture (COPY_SRC) into tightly packed rows.
pub fn read_texture_rgba8(gpu: &GpuContext, texture: &wgpu::Texture) -> (u32, u32, Vec<u8>) {
    let (w, h) = (texture.width(), texture.height());
    // Texture copies need rows padded to 256 bytes.
    let unpadded = w * 4;
    let padded =
        unpadded.div_ceil(wgpu::COPY_BYTES_PER_ROW_ALIGNMENT) * wgpu::COPY_BYTES_PER_ROW_ALIGNMENT;
    let staging = gpu.device.create_buffer(&wgpu::BufferDescriptor {
        label: Some("readback::texture_staging"),
        size: u64::from(padded) * u64::from(h),
        usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
        mapped_at_creation: false,
    });
    let mut encoder = gpu
        .device
        .create_command_encoder(&wgpu::CommandEncoderDescriptor {
            label: Some("readback::texture_encoder"),
        });
    encoder.copy_texture_to_buffer(
        texture.as_image_copy(),
        wgpu::TexelCopyBufferInfo {
            buffer: &staging,
            layout: wgpu::TexelCopyBufferLayout {
                offset: 0,
                bytes_per_row: Some(padded),
                rows_per_image: Some(h),
            },
        },
        wgpu::Extent3d {
            width: w,
            height: h,
            depth_or_array_layers: 1,
        },
    );
    gpu.queue.submit([encoder.finish()]);
    let raw = map_and_copy(gpu, &staging);
    let mut out = Vec::with_capacity((unpadded * h) as usize);
    for row in raw.chunks(padded as usize) {
        out.extend_from_slice(&row[..unpadded as usize]);
    }
    (w, h, out)
}
