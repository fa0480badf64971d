//! Per-op lowering: one `[[step]]` table, typed by its `op` (one `lower_<op>` each),
//! checked against the grid, the materials and the masks, and resolved to voxels.

use super::raw::*;
use super::*;

pub(super) const OPS: &[&str] = &[
    "substrate",
    "deposit",
    "pattern",
    "etch",
    "drill",
    "plate",
    "grind",
    "flip",
    "bond",
    "dispense",
    "dice",
    "ball",
    "wirebond",
    "stress",
];

pub(super) fn step(
    cx: &Ctx,
    index: usize,
    item: Spanned<DeValue<'_>>,
    grid: &GridSpec,
    table: &MaterialTable,
    masks: &mut Vec<Mask>,
    parts: &mut Vec<String>,
) -> Result<Step, SceneError> {
    let span = item.span();
    let line = line_col(cx.loc.src, span.start).0;
    let DeValue::Table(mut t) = item.into_inner() else {
        return Err(cx.err(span, "each step must be a table"));
    };
    let take_str =
        |t: &mut DeTable<'_>, key: &str| -> Result<Option<(String, Range<usize>)>, SceneError> {
            let Some(k) = t
                .iter()
                .find(|(k, _)| k.get_ref() == key)
                .map(|(k, _)| k.clone())
            else {
                return Ok(None);
            };
            let v = t.remove(&k).expect("key just found");
            let vs = v.span();
            match v.into_inner() {
                DeValue::String(s) => Ok(Some((s.into_owned(), vs))),
                other => Err(cx.err(
                    vs,
                    format!("`{key}` must be a string, got {}", other.type_str()),
                )),
            }
        };
    let (op, op_span) = take_str(&mut t, "op")?.ok_or_else(|| {
        cx.err(
            span.clone(),
            format!(
                "step {} has no `op`; expected one of {}",
                index + 1,
                OPS.join(", ")
            ),
        )
    })?;
    let name = take_str(&mut t, "name")?.map_or_else(|| format!("{}_{op}", index + 1), |(n, _)| n);
    if name.is_empty() || name.len() > 64 {
        return Err(cx.err(span, "step name must be 1..64 characters"));
    }
    let part = match take_str(&mut t, "part")? {
        Some((p, _)) => part_index(parts, &p),
        None => 0,
    };
    let body = Spanned::new(span.clone(), DeValue::Table(t));
    let kind = match op.as_str() {
        "substrate" => {
            StepKind::Process(lower_substrate(cx, body, span.clone(), grid, table, masks)?)
        }
        "deposit" => StepKind::Process(lower_deposit(cx, body, grid, table, masks)?),
        "pattern" => StepKind::Process(lower_pattern(cx, body, grid, table, masks)?),
        "drill" => StepKind::Process(lower_drill(cx, body, grid, table, masks)?),
        "plate" => StepKind::Process(lower_plate(cx, body, grid, table, masks)?),
        "grind" => StepKind::Process(lower_grind(cx, body, grid)?),
        "flip" => StepKind::Process(lower_flip(cx, body)?),
        "bond" => StepKind::Bond(lower_bond(cx, body, grid, table, parts, part)?),
        "dispense" => {
            StepKind::Process(lower_dispense(cx, body, span.clone(), grid, table, masks)?)
        }
        "dice" => StepKind::Process(lower_dice(
            cx,
            body,
            span.clone(),
            grid,
            table,
            masks,
            &name,
        )?),
        "ball" => StepKind::Process(lower_ball(cx, body, span.clone(), grid, table, masks)?),
        "wirebond" => StepKind::Process(lower_wirebond(cx, body, grid, table)?),
        "etch" => StepKind::Process(lower_etch(cx, body, grid, table, masks)?),
        "stress" => StepKind::Stress(lower_stress(cx, body, span.clone(), grid)?),
        other => {
            return Err(cx.err(
                op_span,
                format!(
                    "unknown op `{other}`{}; expected one of {}",
                    super::suggest(other, OPS)
                        .map(|s| format!(" (did you mean `{s}`?)"))
                        .unwrap_or_default(),
                    OPS.join(", ")
                ),
            ));
        }
    };
    Ok(Step {
        name,
        kind,
        part,
        line,
    })
}

/// `op = "substrate"`.
fn lower_substrate(
    cx: &Ctx,
    body: Spanned<DeValue<'_>>,
    span: Range<usize>,
    grid: &GridSpec,
    table: &MaterialTable,
    masks: &mut Vec<Mask>,
) -> Result<Op, SceneError> {
    let r: RawSubstrate = cx.typed(body)?;
    let thick = voxels(cx, &r.thickness, "thickness", grid)?;
    let z0 = match &r.z {
        Some(z) if *z.get_ref() < 0.0 => return Err(cx.err(z.span(), "z must be >= 0 µm")),
        Some(z) => cx.round_voxels(z.span(), *z.get_ref(), grid.voxel_um),
        None => 0,
    };
    if z0 >= grid.dims[2] {
        return Err(cx.err(
            r.z.as_ref().map_or(span.clone(), |z| z.span()),
            "substrate starts above the domain",
        ));
    }
    let z1 = z0.saturating_add(thick).min(grid.dims[2]);
    // A substrate taller than the domain is cut at its top: that is what it realises.
    cx.realised(r.thickness.span(), z1 - z0);
    Ok(Op::Substrate {
        material: material(cx, &r.material, table)?,
        z0,
        z1,
        mask: mask_ref(cx, &r.mask, masks)?,
    })
}

/// `op = "deposit"`.
fn lower_deposit(
    cx: &Ctx,
    body: Spanned<DeValue<'_>>,
    grid: &GridSpec,
    table: &MaterialTable,
    masks: &mut Vec<Mask>,
) -> Result<Op, SceneError> {
    let r: RawDeposit = cx.typed(body)?;
    let mode = match *r.mode.get_ref() {
        DepositModeName::Planarize => match (&r.thickness, &r.height) {
            (Some(t), None) => DepositMode::Planarize { top: PlanarTop::AboveHighest(voxels(cx, t, "thickness", grid)?) },
            (None, Some(h)) => DepositMode::Planarize { top: PlanarTop::Height(voxels(cx, h, "height", grid)?) },
            _ => return Err(cx.err(r.mode.span(), "planarize needs exactly one of `thickness` (above the highest surface) or `height` (absolute)")),
        },
        m => {
            if let Some(h) = &r.height {
                return Err(cx.err(h.span(), "`height` is for mode = \"planarize\" only"));
            }
            let t = r.thickness.as_ref().ok_or_else(|| cx.err(r.mode.span(), "deposit needs `thickness` (µm)"))?;
            let thickness = voxels(cx, t, "thickness", grid)?;
            if m == DepositModeName::Conformal {
                DepositMode::Conformal { thickness }
            } else {
                DepositMode::Directional { thickness }
            }
        }
    };
    Ok(Op::Deposit {
        material: material(cx, &r.material, table)?,
        mode,
        mask: mask_ref(cx, &r.mask, masks)?,
    })
}

/// `op = "pattern"`.
fn lower_pattern(
    cx: &Ctx,
    body: Spanned<DeValue<'_>>,
    grid: &GridSpec,
    table: &MaterialTable,
    masks: &mut Vec<Mask>,
) -> Result<Op, SceneError> {
    let r: RawPattern = cx.typed(body)?;
    let tone = match r.tone.as_ref().map_or(ToneName::Positive, |t| *t.get_ref()) {
        ToneName::Positive => Tone::Positive,
        ToneName::Negative => Tone::Negative,
    };
    let ramp = match &r.ramp {
        Some(rp) => {
            if tone == Tone::Negative {
                return Err(cx.err(
                    rp.span(),
                    "a grey-tone `ramp` exposes a positive resist: drop tone = \"negative\"",
                ));
            }
            let q = rp.get_ref();
            if q.from == q.to {
                return Err(cx.err(rp.span(), "ramp `from` and `to` must differ"));
            }
            Some(Ramp {
                p0: q.from,
                p1: q.to,
                z0: q.z_from / grid.voxel_um,
                z1: q.z_to / grid.voxel_um,
            })
        }
        None => None,
    };
    Ok(Op::Pattern {
        material: material(cx, &r.material, table)?,
        mask: mask_ref(cx, &Some(r.mask), masks)?.expect("mask given"),
        tone,
        taper: angle_tan(cx, r.angle.as_ref(), "angle")?,
        ramp,
    })
}

/// `op = "drill"`.
fn lower_drill(
    cx: &Ctx,
    body: Spanned<DeValue<'_>>,
    grid: &GridSpec,
    table: &MaterialTable,
    masks: &mut Vec<Mask>,
) -> Result<Op, SceneError> {
    let r: RawDrill = cx.typed(body)?;
    Ok(Op::Drill {
        materials: materials_list(cx, r.materials.as_ref(), table)?,
        mask: mask_ref(cx, &Some(r.mask), masks)?.expect("mask given"),
        from: match r.from.unwrap_or(SideName::Top) {
            SideName::Top => Side::Top,
            SideName::Bottom => Side::Bottom,
        },
        depth: r
            .depth
            .as_ref()
            .map(|d| voxels(cx, d, "depth", grid))
            .transpose()?,
        taper: angle_tan(cx, r.taper.as_ref(), "taper")?,
    })
}

/// `op = "plate"`.
fn lower_plate(
    cx: &Ctx,
    body: Spanned<DeValue<'_>>,
    grid: &GridSpec,
    table: &MaterialTable,
    masks: &mut Vec<Mask>,
) -> Result<Op, SceneError> {
    let r: RawPlate = cx.typed(body)?;
    let mode = match *r.mode.get_ref() {
        PlateModeName::Fill => {
            if let Some(t) = &r.thickness {
                return Err(cx.err(t.span(), "`thickness` is for mode = \"conformal\"; a fill takes `height` or fills until full"));
            }
            PlateMode::Fill {
                top: r
                    .height
                    .as_ref()
                    .map(|h| voxels(cx, h, "height", grid))
                    .transpose()?,
            }
        }
        PlateModeName::Conformal => {
            if let Some(h) = &r.height {
                return Err(cx.err(h.span(), "`height` is for mode = \"fill\""));
            }
            let t = r
                .thickness
                .as_ref()
                .ok_or_else(|| cx.err(r.mode.span(), "conformal plating needs `thickness` (µm)"))?;
            PlateMode::Conformal {
                thickness: voxels(cx, t, "thickness", grid)?,
            }
        }
    };
    let mut seeds = materials_list(cx, r.seeds.as_ref(), table)?;
    if seeds.is_empty() {
        seeds = table
            .iter()
            .filter(|(id, m)| *id != 0 && m.conductor)
            .map(|(id, _)| id)
            .collect();
    }
    Ok(Op::Plate {
        material: material(cx, &r.material, table)?,
        mode,
        seeds,
        mask: mask_ref(cx, &r.mask, masks)?,
    })
}

/// `op = "grind"`.
fn lower_grind(cx: &Ctx, body: Spanned<DeValue<'_>>, grid: &GridSpec) -> Result<Op, SceneError> {
    let r: RawGrind = cx.typed(body)?;
    let h = *r.height.get_ref();
    let size = grid.size_um()[2];
    if !(h > 0.0 && h < size) {
        return Err(cx.err(
            r.height.span(),
            format!("grind height must be inside 0..{size} µm, got {h}"),
        ));
    }
    let z = cx.round_voxels(r.height.span(), h, grid.voxel_um);
    Ok(Op::Grind {
        keep: match r.from.unwrap_or(SideName::Top) {
            SideName::Top => GrindKeep::Below(z),
            SideName::Bottom => GrindKeep::Above(z),
        },
    })
}

/// `op = "flip"`.
fn lower_flip(cx: &Ctx, body: Spanned<DeValue<'_>>) -> Result<Op, SceneError> {
    let _: RawFlip = cx.typed(body)?;
    Ok(Op::Flip)
}

/// `op = "bond"`.
fn lower_bond(
    cx: &Ctx,
    body: Spanned<DeValue<'_>>,
    grid: &GridSpec,
    table: &MaterialTable,
    parts: &mut Vec<String>,
    part: usize,
) -> Result<BondSpec, SceneError> {
    let r: RawBond = cx.typed(body)?;
    let placed = part_index(parts, r.place.get_ref());
    if placed == part {
        return Err(cx.err(r.place.span(), "a part cannot be bonded onto itself"));
    }
    let method = match *r.method.get_ref() {
        BondMethodName::Eutectic => BondMethod::Eutectic,
        BondMethodName::Acf => BondMethod::Acf,
        BondMethodName::Adhesive => BondMethod::Adhesive,
    };
    let film = match (&r.material, method) {
        (Some(m), BondMethod::Eutectic) => {
            return Err(cx.err(m.span(), "a eutectic bond has no film material"));
        }
        (Some(m), _) => material(cx, m, table)?,
        (None, BondMethod::Acf) => table.id("acf").expect("built-in"),
        (None, _) => table.id("adhesive").expect("built-in"),
    };
    let gap = match (&r.thickness, method) {
        (Some(t), BondMethod::Eutectic) => {
            return Err(cx.err(t.span(), "a eutectic bond takes no thickness"));
        }
        (Some(t), _) => voxels(cx, t, "thickness", grid)?,
        (None, BondMethod::Adhesive) => {
            return Err(cx.err(r.method.span(), "an adhesive bond needs `thickness` (µm)"));
        }
        (None, _) => 0,
    };
    let off = r.offset.unwrap_or([0.0, 0.0]);
    Ok(BondSpec {
        part: placed,
        offset: [
            (off[0] / grid.voxel_um).round() as i32,
            (off[1] / grid.voxel_um).round() as i32,
        ],
        method,
        film,
        gap,
    })
}

/// `op = "dispense"`.
fn lower_dispense(
    cx: &Ctx,
    body: Spanned<DeValue<'_>>,
    span: Range<usize>,
    grid: &GridSpec,
    table: &MaterialTable,
    masks: &mut Vec<Mask>,
) -> Result<Op, SceneError> {
    let r: RawDispense = cx.typed(body)?;
    let top = match (&r.thickness, &r.height) {
        (Some(t), None) => PlanarTop::AboveHighest(voxels(cx, t, "thickness", grid)?),
        (None, Some(h)) => PlanarTop::Height(voxels(cx, h, "height", grid)?),
        _ => return Err(cx.err(span.clone(), "dispense needs exactly one of `height` (absolute, µm) or `thickness` (above the highest surface)")),
    };
    Ok(Op::Dispense {
        material: material(cx, &r.material, table)?,
        mask: mask_ref(cx, &Some(r.mask), masks)?.expect("mask given"),
        top,
    })
}

/// `op = "dice"`.
fn lower_dice(
    cx: &Ctx,
    body: Spanned<DeValue<'_>>,
    span: Range<usize>,
    grid: &GridSpec,
    table: &MaterialTable,
    masks: &mut Vec<Mask>,
    name: &str,
) -> Result<Op, SceneError> {
    let r: RawDice = cx.typed(body)?;
    let w = *r.width.get_ref();
    voxels(cx, &r.width, "width", grid)?;
    if r.lines_x.is_empty() && r.lines_y.is_empty() {
        return Err(cx.err(
            span.clone(),
            "dice needs scribe lines: `lines_x` and/or `lines_y` (µm)",
        ));
    }
    let size = grid.size_um();
    let mut shapes = Vec::new();
    for &x in &r.lines_x {
        shapes.push(Shape::Rect {
            min: [x - w / 2.0, -1.0],
            max: [x + w / 2.0, size[1] + 1.0],
        });
    }
    for &y in &r.lines_y {
        shapes.push(Shape::Rect {
            min: [-1.0, y - w / 2.0],
            max: [size[0] + 1.0, y + w / 2.0],
        });
    }
    masks.push(Mask {
        name: format!("dice:{name}"),
        shapes,
        invert: false,
    });
    Ok(Op::Dice {
        materials: materials_list(cx, r.materials.as_ref(), table)?,
        mask: masks.len() - 1,
        depth: r
            .depth
            .as_ref()
            .map(|d| voxels(cx, d, "depth", grid))
            .transpose()?,
    })
}

/// `op = "ball"`.
fn lower_ball(
    cx: &Ctx,
    body: Spanned<DeValue<'_>>,
    span: Range<usize>,
    grid: &GridSpec,
    table: &MaterialTable,
    masks: &mut Vec<Mask>,
) -> Result<Op, SceneError> {
    let r: RawBall = cx.typed(body)?;
    let mask = mask_ref(cx, &Some(r.mask.clone()), masks)?.expect("mask given");
    let pad = match masks[mask].shapes.first() {
        Some(Shape::Circle { radius, .. })
            if !masks[mask].invert
                && masks[mask]
                    .shapes
                    .iter()
                    .all(|s| matches!(s, Shape::Circle { radius: q, .. } if q == radius)) =>
        {
            *radius
        }
        _ => {
            return Err(cx.err(
                r.mask.span(),
                "ball pads must be a mask of equal circles (centre, pad radius)",
            ));
        }
    };
    let volume =
        match (&r.volume, &r.diameter) {
            (Some(v), None) => *v.get_ref(),
            (None, Some(d)) => std::f64::consts::PI * d.get_ref().powi(3) / 6.0,
            _ => return Err(cx.err(
                span.clone(),
                "ball needs exactly one of `volume` (µm³) or `diameter` (µm, of the free sphere)",
            )),
        };
    if !(volume > 0.0 && volume.is_finite()) {
        return Err(cx.err(span.clone(), "ball volume must be > 0"));
    }
    let (radius, height) = ball_cap(volume, pad);
    voxels(
        cx,
        &Spanned::new(r.mask.span(), height),
        "ball height",
        grid,
    )?;
    Ok(Op::Ball {
        material: match &r.material {
            Some(m) => material(cx, m, table)?,
            None => table.id("sac305").expect("built-in"),
        },
        mask,
        radius: radius / grid.voxel_um,
        height: height / grid.voxel_um,
    })
}

/// `op = "wirebond"`.
fn lower_wirebond(
    cx: &Ctx,
    body: Spanned<DeValue<'_>>,
    grid: &GridSpec,
    table: &MaterialTable,
) -> Result<Op, SceneError> {
    let r: RawWirebond = cx.typed(body)?;
    let d = voxels(cx, &r.diameter, "diameter", grid)?;
    let _ = d;
    if r.wires.get_ref().is_empty() {
        return Err(cx.err(r.wires.span(), "wirebond needs at least one wire"));
    }
    let size = grid.size_um();
    let mut wires = Vec::new();
    for w in r.wires.get_ref() {
        for p in [w.from, w.to] {
            if !(0.0..size[0]).contains(&p[0]) || !(0.0..size[1]).contains(&p[1]) {
                return Err(cx.err(
                    r.wires.span(),
                    format!("wire end {p:?} µm is outside the domain"),
                ));
            }
        }
        if w.loop_height < 0.0 {
            return Err(cx.err(r.wires.span(), "wire `loop` must be >= 0 µm"));
        }
        wires.push(Wire {
            from: w.from,
            to: w.to,
            loop_height: w.loop_height / grid.voxel_um,
        });
    }
    Ok(Op::Wirebond {
        material: match &r.material {
            Some(m) => material(cx, m, table)?,
            None => table.id("gold").expect("built-in"),
        },
        wires,
        radius: r.diameter.get_ref() / grid.voxel_um / 2.0,
    })
}

/// `op = "etch"`.
fn lower_etch(
    cx: &Ctx,
    body: Spanned<DeValue<'_>>,
    grid: &GridSpec,
    table: &MaterialTable,
    masks: &mut Vec<Mask>,
) -> Result<Op, SceneError> {
    let r: RawEtch = cx.typed(body)?;
    let mode_span = r.mode.span();
    let rates = r
        .rates
        .as_ref()
        .map(|t| etch_rates(cx, t, grid, table))
        .transpose()?;
    let materials = match &r.materials {
        Some(list) if list.get_ref().is_empty() => {
            return Err(cx.err(list.span(), "etch needs at least one material"));
        }
        Some(list) => list
            .get_ref()
            .iter()
            .map(|m| material(cx, m, table))
            .collect::<Result<Vec<_>, _>>()?,
        None => match &rates {
            Some(rates) if *r.mode.get_ref() == EtchModeName::Isotropic => rates
                .iter()
                .filter(|e| e.voxels_per_min > 0.0)
                .map(|e| e.material)
                .collect(),
            _ => {
                return Err(cx.err(
                    mode_span,
                    "etch needs `materials` (the list of materials it removes)",
                ));
            }
        },
    };
    let only =
        |ok: bool, v: &Option<Spanned<f64>>, key: &str, mode: &str| -> Result<(), SceneError> {
            match v {
                Some(v) if !ok => Err(cx.err(
                    v.span(),
                    format!("`{key}` does not apply to mode = \"{mode}\""),
                )),
                _ => Ok(()),
            }
        };
    let no_rates = |mode: &str| -> Result<(), SceneError> {
        match &r.rates {
            Some(t) => Err(cx.err(
                t.span(),
                format!("`rates` does not apply to mode = \"{mode}\""),
            )),
            None => Ok(()),
        }
    };
    let mode = match *r.mode.get_ref() {
        EtchModeName::Anisotropic => {
            only(false, &r.distance, "distance", "anisotropic")?;
            only(false, &r.rate, "rate", "anisotropic")?;
            only(false, &r.time, "time", "anisotropic")?;
            no_rates("anisotropic")?;
            EtchMode::Anisotropic {
                depth: r
                    .depth
                    .as_ref()
                    .map(|d| voxels(cx, d, "depth", grid))
                    .transpose()?,
            }
        }
        EtchModeName::Isotropic if rates.is_some() => {
            only(false, &r.depth, "depth", "isotropic")?;
            let table = r.rates.as_ref().expect("checked");
            if let Some(m) = &r.materials {
                return Err(cx.err(
                    m.span(),
                    "with a `rates` table the table names what the etch attacks: drop `materials`",
                ));
            }
            for (v, key) in [(&r.distance, "distance"), (&r.rate, "rate")] {
                if let Some(v) = v {
                    return Err(cx.err(
                        v.span(),
                        format!(
                            "`{key}` and `rates` exclude each other: give the table and `time`"
                        ),
                    ));
                }
            }
            let Some(time) = &r.time else {
                return Err(cx.err(
                    table.span(),
                    "an isotropic etch with `rates` needs `time` (min)",
                ));
            };
            let t = *time.get_ref();
            if !(t > 0.0 && t.is_finite()) {
                return Err(cx.err(time.span(), format!("time must be > 0 min, got {t}")));
            }
            if materials.is_empty() {
                return Err(cx.err(
                    table.span(),
                    "every rate in the table is 0: the etch would attack nothing",
                ));
            }
            EtchMode::Rates {
                rates: rates.expect("checked"),
                time: Some(t),
            }
        }
        EtchModeName::Isotropic => {
            only(false, &r.depth, "depth", "isotropic")?;
            let um = match (&r.distance, &r.rate, &r.time) {
                (Some(d), None, None) => {
                    voxels(cx, d, "distance", grid)?;
                    *d.get_ref()
                }
                (None, Some(rate), Some(time)) => {
                    let d = rate.get_ref() * time.get_ref();
                    voxels(cx, &Spanned::new(rate.span(), d), "rate x time", grid)?;
                    d
                }
                _ => return Err(cx.err(
                    mode_span,
                    "isotropic etch needs `distance` (µm), both `rate` (µm/min) and `time` (min), \
                     or a `rates` table (µm/min per material) and `time`",
                )),
            };
            EtchMode::Isotropic {
                distance: um / grid.voxel_um,
            }
        }
        EtchModeName::Strip => {
            only(false, &r.depth, "depth", "strip")?;
            only(false, &r.distance, "distance", "strip")?;
            only(false, &r.time, "time", "strip")?;
            if let Some(m) = &r.mask {
                return Err(cx.err(
                    m.span(),
                    "a strip reaches wherever the etchant flows; it takes no mask",
                ));
            }
            match (&r.rate, rates) {
                (None, None) => EtchMode::Strip,
                (Some(rate), None) => {
                    let v = *rate.get_ref();
                    if !(v > 0.0 && v.is_finite()) {
                        return Err(
                            cx.err(rate.span(), format!("rate must be > 0 µm/min, got {v}"))
                        );
                    }
                    let names = r.materials.as_ref().expect("checked above");
                    EtchMode::Rates {
                        rates: materials
                            .iter()
                            .zip(names.get_ref())
                            .map(|(&material, n)| EtchRate {
                                material,
                                name: n.get_ref().clone(),
                                voxels_per_min: v / grid.voxel_um,
                            })
                            .collect(),
                        time: None,
                    }
                }
                (Some(rate), Some(_)) => {
                    return Err(cx.err(
                        rate.span(),
                        "`rate` and `rates` exclude each other: put the listed materials' rate in the table",
                    ));
                }
                (None, Some(rates)) => {
                    let names = r.materials.as_ref().expect("checked above");
                    for (&m, n) in materials.iter().zip(names.get_ref()) {
                        if !rates
                            .iter()
                            .any(|e| e.material == m && e.voxels_per_min > 0.0)
                        {
                            return Err(cx.err(
                                n.span(),
                                format!(
                                    "strip with `rates` needs a rate > 0 for `{}` to time its release",
                                    n.get_ref()
                                ),
                            ));
                        }
                    }
                    EtchMode::Rates { rates, time: None }
                }
            }
        }
    };
    Ok(Op::Etch {
        materials,
        mode,
        mask: mask_ref(cx, &r.mask, masks)?,
    })
}

/// A wet-etch `rates` table: µm/min per material name, each >= 0.
fn etch_rates(
    cx: &Ctx,
    t: &Spanned<BTreeMap<String, Spanned<f64>>>,
    grid: &GridSpec,
    table: &MaterialTable,
) -> Result<Vec<EtchRate>, SceneError> {
    if t.get_ref().is_empty() {
        return Err(cx.err(t.span(), "`rates` needs at least one material"));
    }
    t.get_ref()
        .iter()
        .map(|(name, v)| {
            let material = material(cx, &Spanned::new(v.span(), name.clone()), table)?;
            let rate = *v.get_ref();
            if !(rate >= 0.0 && rate.is_finite()) {
                return Err(cx.err(
                    v.span(),
                    format!("rate of `{name}` must be >= 0 µm/min, got {rate}"),
                ));
            }
            Ok(EtchRate {
                material,
                name: name.clone(),
                voxels_per_min: rate / grid.voxel_um,
            })
        })
        .collect()
}

/// `op = "stress"`.
fn lower_stress(
    cx: &Ctx,
    body: Spanned<DeValue<'_>>,
    span: Range<usize>,
    grid: &GridSpec,
) -> Result<StressSpec, SceneError> {
    let r: RawStress = cx.typed(body)?;
    let delta_t = match (&r.stress_free, &r.final_c, &r.delta_t) {
        (Some(a), Some(b), None) => b.get_ref() - a.get_ref(),
        (None, None, Some(d)) => *d.get_ref(),
        _ => {
            return Err(cx.err(
                span.clone(),
                "stress needs `stress_free` and `final` (°C), or `delta_t` (K)",
            ));
        }
    };
    if !delta_t.is_finite() {
        return Err(cx.err(span.clone(), "the temperature change must be finite"));
    }
    let support = match r.support.unwrap_or(SupportName::BottomRoller) {
        SupportName::Free => crate::scene::analysis::Support::Free,
        SupportName::BottomFixed => crate::scene::analysis::Support::BottomFixed,
        SupportName::BottomRoller => crate::scene::analysis::Support::BottomRoller,
        SupportName::Clamped => crate::scene::analysis::Support::Clamped,
    };
    let mut bc = crate::scene::analysis::BoundaryConditions::new(support);
    for a in &r.symmetry {
        match a.get_ref() {
            AxisName::X => bc.symmetry_x = true,
            AxisName::Y => bc.symmetry_y = true,
            AxisName::Z => {
                return Err(cx.err(a.span(), "symmetry planes are x = 0 and y = 0 only"));
            }
        }
    }
    let mut options = crate::scene::analysis::SolveOptions::default();
    if let Some(t) = &r.tol {
        let t_val = *t.get_ref();
        if t_val.is_nan() || t_val <= 0.0 || t_val >= 1.0 {
            return Err(cx.err(t.span(), "tol must be in (0, 1)"));
        }
        options.tol = t_val;
    }
    if let Some(m) = &r.max_iterations {
        if *m.get_ref() == 0 {
            return Err(cx.err(m.span(), "max_iterations must be > 0"));
        }
        options.max_iterations = *m.get_ref();
    }
    let coarsen = match &r.coarsen {
        Some(c) if !(1..=8).contains(c.get_ref()) => {
            return Err(cx.err(c.span(), "coarsen must be 1..8"));
        }
        Some(c) => *c.get_ref(),
        None => 1,
    };
    let mut displace = Vec::with_capacity(r.displace.len());
    let mut selected = 0u64;
    for d in &r.displace {
        let d = lower_displace(cx, d, grid)?;
        selected += d.node_count(grid.dims, grid.voxel_um);
        displace.push(d);
    }
    if selected > MAX_DISPLACED_NODES {
        return Err(cx.err(
            span,
            format!(
                "`displace` selects {selected} nodes in all; at most {MAX_DISPLACED_NODES} \
                 (a few faces of the grid)"
            ),
        ));
    }
    Ok(StressSpec {
        delta_t,
        bc,
        options,
        coarsen,
        displace,
    })
}

/// Bound on the nodes a stress step's `displace` entries select together (each holds
/// a value on the host before upload).
const MAX_DISPLACED_NODES: u64 = 4_000_000;

/// One `displace` entry: a face or a box, an affine field, the components it holds.
fn lower_displace(
    cx: &Ctx,
    d: &Spanned<RawDisplace>,
    grid: &GridSpec,
) -> Result<Displacement, SceneError> {
    let raw = d.get_ref();
    let finite = |v: &[f64], span: Range<usize>, what: &str| -> Result<(), SceneError> {
        if v.iter().all(|x| x.is_finite()) {
            Ok(())
        } else {
            Err(cx.err(span, format!("{what} must be finite")))
        }
    };
    let region = match (&raw.face, &raw.bounds) {
        (Some(f), None) => {
            let name = f.get_ref().as_str();
            let Some(&(_, face)) = Face::ALL.iter().find(|(n, _)| *n == name) else {
                let names: Vec<&str> = Face::ALL.iter().map(|(n, _)| *n).collect();
                return Err(cx.err(
                    f.span(),
                    format!(
                        "unknown face `{name}`{}; expected one of {}",
                        super::suggest(name, &names)
                            .map(|s| format!(" (did you mean `{s}`?)"))
                            .unwrap_or_default(),
                        names.join(", ")
                    ),
                ));
            };
            DisplaceRegion::Face(face)
        }
        (None, Some(b)) => {
            let v = *b.get_ref();
            finite(&v, b.span(), "box")?;
            if (0..3).any(|k| v[k] > v[k + 3]) {
                return Err(cx.err(
                    b.span(),
                    "box must be [x0, y0, z0, x1, y1, z1] with x0 <= x1, y0 <= y1, z0 <= z1",
                ));
            }
            DisplaceRegion::Box {
                min: [v[0], v[1], v[2]],
                max: [v[3], v[4], v[5]],
            }
        }
        _ => {
            return Err(cx.err(
                d.span(),
                "a displace entry needs exactly one of `face` (x_min, x_max, y_min, y_max, z_min, z_max) or `box`",
            ));
        }
    };
    finite(raw.u.get_ref(), raw.u.span(), "u")?;
    let mut grad = [[0.0; 3]; 3];
    if let Some(g) = &raw.grad {
        grad = *g.get_ref();
        finite(grad.as_flattened(), g.span(), "grad")?;
        // Linear, small-strain elasticity: a displacement gradient beyond 0.1 is a
        // different problem (and almost always a unit mistake).
        if grad.as_flattened().iter().any(|x| x.abs() > 0.1) {
            return Err(cx.err(
                g.span(),
                "grad entries are displacement gradients (µm per µm); above 0.1 is far outside small strain",
            ));
        }
    }
    let mut origin = [0.0; 3];
    if let Some(o) = &raw.origin {
        origin = *o.get_ref();
        finite(&origin, o.span(), "origin")?;
    }
    let mut dofs = 7;
    if let Some(list) = &raw.dofs {
        dofs = 0;
        if list.get_ref().is_empty() {
            return Err(cx.err(
                list.span(),
                "dofs is empty: leave it out to hold x, y and z",
            ));
        }
        for a in list.get_ref() {
            let bit = match a.get_ref() {
                AxisName::X => 1,
                AxisName::Y => 2,
                AxisName::Z => 4,
            };
            if dofs & bit != 0 {
                return Err(cx.err(a.span(), "this component is listed twice"));
            }
            dofs |= bit;
        }
    }
    let out = Displacement {
        region,
        u: *raw.u.get_ref(),
        grad,
        origin,
        dofs,
    };
    if out.node_count(grid.dims, grid.voxel_um) == 0 {
        return Err(cx.err(
            d.span(),
            format!(
                "the box holds no node of the grid (nodes every {} µm over {:?} µm)",
                grid.voxel_um,
                grid.size_um()
            ),
        ));
    }
    Ok(out)
}

fn part_index(parts: &mut Vec<String>, name: &str) -> usize {
    parts.iter().position(|p| p == name).unwrap_or_else(|| {
        parts.push(name.to_string());
        parts.len() - 1
    })
}

/// tan of an angle in degrees from vertical, refusing what cannot be a sidewall.
fn angle_tan(cx: &Ctx, a: Option<&Spanned<f64>>, what: &str) -> Result<f64, SceneError> {
    let Some(a) = a else { return Ok(0.0) };
    let deg = *a.get_ref();
    if !(0.0..=75.0).contains(&deg) {
        return Err(cx.err(
            a.span(),
            format!("{what} must be 0..75 degrees from vertical, got {deg}"),
        ));
    }
    Ok(deg.to_radians().tan())
}

fn materials_list(
    cx: &Ctx,
    list: Option<&Spanned<Vec<Spanned<String>>>>,
    table: &MaterialTable,
) -> Result<Vec<u8>, SceneError> {
    let Some(list) = list else {
        return Ok(Vec::new());
    };
    if list.get_ref().is_empty() {
        return Err(cx.err(
            list.span(),
            "the list is empty: leave the key out to mean every material",
        ));
    }
    list.get_ref()
        .iter()
        .map(|m| material(cx, m, table))
        .collect()
}

/// A reflowed ball wets its pad and is otherwise spherical: the solder above the pad
/// plane is a spherical cap of base radius `pad`. Returns (sphere radius, cap height).
pub fn ball_cap(volume: f64, pad: f64) -> (f64, f64) {
    // Cap volume pi h (3 a^2 + h^2) / 6 grows monotonically with h.
    let vol = |h: f64| std::f64::consts::PI * h * (3.0 * pad * pad + h * h) / 6.0;
    let (mut lo, mut hi) = (0.0, pad.max(1e-9));
    while vol(hi) < volume {
        hi *= 2.0;
    }
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if vol(mid) < volume {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    let h = 0.5 * (lo + hi);
    ((pad * pad + h * h) / (2.0 * h), h)
}
