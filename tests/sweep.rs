//! `voxfab sweep`: a local sweep's rows equal single runs, a killed sweep resumes
//! without recomputing, failed and refused variants are recorded while the rest run,
//! the Latin hypercube follows its seed, and a real one-node Slurm cluster runs the
//! same sweep as a job array with the same results.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};
use voxfab::sweep::collect::{Table, flatten, is_timing_column};

const BIN: &str = env!("CARGO_BIN_EXE_voxfab");

/// A pad on silicon under a bonded glass lid, with net probes and a stress probe: every
/// kind of metric column, on an 8x8x12 grid of 2 µm voxels.
const SCENE: &str = r#"title = "sweep test: a pad on silicon under a bonded glass lid"

[grid]
size = [16.0, 16.0, 24.0]
voxel = 2.0

[masks.pad]
rect = [4.0, 4.0, 12.0, 12.0]

[probes.pad_a]
at = [5.0, 5.0, 5.0]
net = "pad"
[probes.pad_b]
at = [11.0, 11.0, 5.0]
net = "pad"

[stress_probes.pad]
box = [4.0, 4.0, 4.0, 12.0, 12.0, 8.0]

[[step]]
name = "base"
op = "substrate"
material = "si"
thickness = 4.0

[[step]]
name = "pad"
op = "deposit"
mode = "directional"
material = "cu"
thickness = 2.0
mask = "pad"

[[step]]
name = "lid"
part = "lid"
op = "substrate"
material = "glass"
thickness = 4.0

[[step]]
name = "bond"
op = "bond"
place = "lid"
method = "adhesive"
thickness = 2.0

[[step]]
name = "cool"
op = "stress"
delta_t = -100.0
coarsen = 2
tol = 1e-6
max_iterations = 200
"#;

/// A fresh directory with the scene in it; removed on drop.
struct Work(PathBuf);

impl Work {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("voxfab-sweep-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("scene.toml"), SCENE).unwrap();
        Self(dir)
    }
    fn scene(&self) -> PathBuf {
        self.0.join("scene.toml")
    }
    fn join(&self, p: &str) -> PathBuf {
        self.0.join(p)
    }
}

impl Drop for Work {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn voxfab() -> Command {
    let mut c = Command::new(BIN);
    c.env(
        "XDG_RUNTIME_DIR",
        std::env::var_os("XDG_RUNTIME_DIR").unwrap_or_else(|| "/tmp/voxfab-xdg".into()),
    );
    c
}

fn sweep(scene: &Path, out: &Path, args: &[&str]) -> Output {
    voxfab()
        .arg("sweep")
        .arg(scene)
        .args(args)
        .arg("--out")
        .arg(out)
        .output()
        .unwrap()
}

fn table(dir: &Path) -> Table {
    Table::from_csv(&std::fs::read_to_string(dir.join("results.csv")).unwrap()).unwrap()
}

fn finished(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let Ok(rd) = std::fs::read_dir(dir.join("results")) else {
        return BTreeMap::new();
    };
    rd.filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().ends_with(".json"))
        .map(|e| {
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn local_sweep_rows_equal_single_runs() {
    let w = Work::new("local");
    let out = w.join("sweep");
    let o = sweep(
        &w.scene(),
        &out,
        &[
            "--vary",
            "step.pad.thickness=2,3,4",
            "--plot",
            "stress.cool.probes.pad.mean_mpa",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    // 3 and 4 µm both round to 2 voxels of 2 µm: flagged before anything runs.
    assert!(
        stderr(&o).contains("variants 1 2 voxelise identically"),
        "{}",
        stderr(&o)
    );
    let t = table(&out);
    assert_eq!(t.rows.len(), 3);
    for (row, (value, resolved)) in [("2", "2.0"), ("3", "4.0"), ("4", "4.0")]
        .iter()
        .enumerate()
    {
        assert_eq!(t.cell(row, "status"), Some("ok"));
        assert_eq!(t.cell(row, "step.pad.thickness"), Some(*value));
        assert_eq!(
            t.cell(row, "step.pad.thickness@resolved_um"),
            Some(*resolved)
        );
    }
    assert_eq!(t.cell(0, "same_resolution_as"), Some(""));
    assert_eq!(t.cell(1, "same_resolution_as"), Some("2"));
    assert_eq!(t.cell(2, "same_voxels_as"), Some("1"));
    assert_ne!(t.cell(0, "voxel_hash"), t.cell(1, "voxel_hash"));
    // Volumes, nets, stress and solve figures are columns.
    assert_eq!(t.cell(0, "materials.cu.voxels"), Some("16"));
    assert_eq!(t.cell(1, "materials.cu.voxels"), Some("32"));
    assert_eq!(t.cell(0, "connectivity.opens.count"), Some("0"));
    assert_eq!(t.cell(0, "stress.cool.converged"), Some("true"));
    assert!(t.column("stress.cool.iterations").is_some());
    let png = image::open(out.join("plot_stress_cool_probes_pad_mean_mpa.png")).unwrap();
    assert_eq!((png.width(), png.height()), (1000, 650));

    // Each row carries exactly a single `voxfab run`'s metrics (timings aside).
    for (row, value) in ["2", "3", "4"].iter().enumerate() {
        let single = w.join(&format!("single{row}"));
        let o = voxfab()
            .arg("run")
            .arg(w.scene())
            .args([
                "--set",
                &format!("step.pad.thickness={value}"),
                "--no-frames",
            ])
            .arg("--out")
            .arg(&single)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", stderr(&o));
        let metrics: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(single.join("metrics.json")).unwrap())
                .unwrap();
        let mut cells = Vec::new();
        flatten(&metrics, "", &mut cells);
        assert!(cells.len() > 50, "{}", cells.len());
        for (col, want) in cells.iter().filter(|(c, _)| !is_timing_column(c)) {
            assert_eq!(
                t.cell(row, col),
                Some(want.as_str()),
                "variant {row}, column {col}"
            );
        }
    }
}

#[test]
fn a_killed_sweep_resumes_without_recomputing() {
    let w = Work::new("resume");
    let out = w.join("sweep");
    let n = 24;
    let args = |out: &Path| {
        let mut c = voxfab();
        c.arg("sweep")
            .arg(w.scene())
            .args(["--vary", &format!("step.pad.thickness=2:6:{n}")])
            .arg("--out")
            .arg(out)
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        c
    };
    let mut child = args(&out).spawn().unwrap();
    let start = Instant::now();
    while finished(&out).is_empty() {
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "no variant finished"
        );
        if child.try_wait().unwrap().is_some() {
            panic!("the sweep ended before it could be killed");
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let before = finished(&out);
    assert!(
        !before.is_empty() && before.len() < n,
        "killed mid-sweep: {} of {n} finished",
        before.len()
    );
    assert!(!out.join("results.csv").exists());

    let o = args(&out).stderr(Stdio::piped()).output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains(&format!("skipped {} finished earlier", before.len())),
        "{}",
        stderr(&o)
    );
    let after = finished(&out);
    assert_eq!(after.len(), n);
    for (name, bytes) in &before {
        assert_eq!(&after[name], bytes, "{name} was recomputed");
    }
    let t = table(&out);
    assert_eq!(t.rows.len(), n);
    assert!((0..n).all(|r| t.cell(r, "status") == Some("ok")));
}

#[test]
fn failed_and_refused_variants_are_recorded_and_the_rest_run() {
    let w = Work::new("failed");
    let out = w.join("sweep");
    // A 30 µm lid stacks past the 24 µm grid (the bond fails at run time); -1 µm is
    // refused by the scene check.
    let o = sweep(
        &w.scene(),
        &out,
        &["--vary", "step.lid.thickness=4,30,-1", "--drop-vti"],
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let run0 = out.join("runs/v00000");
    assert!(run0.join("metrics.json").exists() && !run0.join("result.vti").exists());
    let err = stderr(&o);
    assert!(
        err.contains("variant 2 (step.lid.thickness=-1) refused")
            && err.contains("thickness must be > 0"),
        "{err}"
    );
    let t = table(&out);
    assert_eq!(t.cell(0, "status"), Some("ok"));
    assert_eq!(t.cell(1, "status"), Some("failed"));
    assert!(
        t.cell(1, "error").unwrap().contains("bonded stack reaches"),
        "{t:?}"
    );
    assert_eq!(t.cell(2, "status"), Some("invalid"));
    let scene = w.scene().display().to_string();
    let e = t.cell(2, "error").unwrap();
    assert!(
        e.starts_with(&format!("{scene}:39:")) && e.contains("--set step.lid.thickness"),
        "{e}"
    );
    assert!(!t.cell(0, "materials.glass.voxels").unwrap().is_empty());

    // A rerun keeps the failed record; --retry-failed runs it again.
    let o = sweep(&w.scene(), &out, &["--vary", "step.lid.thickness=4,30,-1"]);
    assert!(stderr(&o).contains("ran 0 variants"), "{}", stderr(&o));
    let o = sweep(
        &w.scene(),
        &out,
        &["--vary", "step.lid.thickness=4,30,-1", "--retry-failed"],
    );
    assert!(stderr(&o).contains("ran 1 variants"), "{}", stderr(&o));
    // Another sweep into the same directory is refused, nothing lost.
    let o = sweep(&w.scene(), &out, &["--vary", "step.lid.thickness=4,6"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("holds a different sweep"),
        "{}",
        stderr(&o)
    );
    assert_eq!(finished(&out).len(), 3);
}

#[test]
fn bad_vary_arguments_name_the_argument() {
    let w = Work::new("bad");
    for (args, needle) in [
        (
            vec!["--vary", "step.pad.thickness=2:x:3"],
            "\"step.pad.thickness=2:x:3\": HI `x`",
        ),
        (
            vec!["--vary", "a=0:1:1000", "--vary", "b=0:1:1000"],
            "1000 x 1000 variants, more than the 100000",
        ),
        (
            vec!["--vary", "step.nope.thickness=1,2"],
            "no `step` entry named `nope`",
        ),
    ] {
        let o = sweep(&w.scene(), &w.join("out"), &args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains(needle), "{args:?}: {}", stderr(&o));
    }
    assert!(!w.join("out").exists());
}

#[test]
fn set_lengths_resolve_to_whole_voxels() {
    let set = [
        "step.bond.thickness=7".to_string(),
        "step.pad.thickness=3.2".into(),
        "step.cool.delta_t=-50".into(),
        "step.base.thickness=30".into(),
    ];
    let s = voxfab::scene::Scene::parse(SCENE, "scene.toml", &set).unwrap();
    let r = |k: &str| {
        s.resolved
            .iter()
            .find(|r| r.key == k)
            .map(|r| (r.voxels, r.um))
    };
    // 7 µm on 2 µm voxels is 3.5 voxels, rounded to 4 = 8 µm; 3.2 µm is 2 voxels.
    assert_eq!(r("step.bond.thickness"), Some((4, 8.0)));
    assert_eq!(r("step.pad.thickness"), Some((2, 4.0)));
    // A substrate past the 24 µm domain is cut at its top.
    assert_eq!(r("step.base.thickness"), Some((12, 24.0)));
    // Not a length: nothing to resolve.
    assert_eq!(r("step.cool.delta_t"), None);
}

fn manifest_values(dir: &Path) -> Vec<Vec<String>> {
    let m = voxfab::sweep::read_manifest(dir).unwrap();
    m.variants.into_iter().map(|v| v.values).collect()
}

#[test]
fn lhs_follows_its_seed_and_the_job_script_its_options() {
    let w = Work::new("lhs");
    let args = |seed: &str| {
        vec![
            "--vary".to_string(),
            "step.pad.thickness=2:6:2".into(),
            "--vary".into(),
            "step.cool.delta_t=-150:-50:2".into(),
            "--lhs".into(),
            "5".into(),
            "--seed".into(),
            seed.into(),
            "--slurm".into(),
            "--dry-run".into(),
        ]
    };
    let run = |dir: &str, seed: &str, extra: &[&str]| {
        let mut a = args(seed);
        a.extend(extra.iter().map(|s| s.to_string()));
        let a: Vec<&str> = a.iter().map(String::as_str).collect();
        let o = sweep(&w.scene(), &w.join(dir), &a);
        assert!(o.status.success(), "{}", stderr(&o));
        manifest_values(&w.join(dir))
    };
    let a = run("a", "7", &[]);
    let b = run(
        "b",
        "7",
        &[
            "--partition",
            "gpu",
            "--time",
            "00:10:00",
            "--account",
            "pkg",
        ],
    );
    let c = run("c", "8", &["--no-gpu", "--drop-vti"]);
    assert_eq!(a, b);
    assert_ne!(a, c);
    assert_eq!(a.len(), 5);
    // One value per fifth of each range.
    let mut strata: Vec<usize> = a
        .iter()
        .map(|v| ((v[0].parse::<f64>().unwrap() - 2.0) / 4.0 * 5.0) as usize)
        .collect();
    strata.sort_unstable();
    assert_eq!(strata, [0, 1, 2, 3, 4]);
    let script = |d: &str| std::fs::read_to_string(w.join(d).join("sweep.sbatch")).unwrap();
    let (sa, sb, sc) = (script("a"), script("b"), script("c"));
    assert!(
        sa.contains("#SBATCH --array=0-4\n") && sa.contains("#SBATCH --gres=gpu:1\n"),
        "{sa}"
    );
    assert!(
        sa.contains("sweep run") && sa.contains("--task \"$SLURM_ARRAY_TASK_ID\""),
        "{sa}"
    );
    assert!(!sa.contains("--partition"));
    for line in ["--partition=gpu", "--time=00:10:00", "--account=pkg"] {
        assert!(sb.contains(&format!("#SBATCH {line}\n")), "{sb}");
    }
    assert!(!sc.contains("--gres"), "{sc}");
    assert!(
        sc.contains("--drop-vti\n") && !sa.contains("--drop-vti"),
        "{sc}"
    );
    // Dry runs submit nothing and run nothing.
    assert!(finished(&w.join("a")).is_empty());
    assert!(!w.join("a").join("slurm_job").exists());
}

// --- a real one-node Slurm cluster ------------------------------------------------------

fn find_bin(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/usr/bin", "/sbin"].map(PathBuf::from))
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("0.0.0.0:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// munged, slurmctld and slurmd started for this test on a private config, socket and
/// state directory; stopped (and the directory removed) on drop, also on failure.
struct Cluster {
    dir: PathBuf,
    conf: PathBuf,
    munged: PathBuf,
    socket: PathBuf,
}

impl Cluster {
    fn pid(&self, name: &str) -> Option<String> {
        std::fs::read_to_string(self.dir.join(name))
            .ok()
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty() && s.chars().all(|c| c.is_ascii_digit()))
    }

    fn log(&self) -> String {
        ["log/slurmctld.log", "log/slurmd.log"]
            .iter()
            .map(|f| {
                let t = std::fs::read_to_string(self.dir.join(f)).unwrap_or_default();
                let tail: Vec<&str> = t.lines().rev().take(15).collect();
                format!(
                    "--- {f}\n{}",
                    tail.into_iter().rev().collect::<Vec<_>>().join("\n")
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    fn slurm(&self, bin: &str) -> Command {
        let mut c = Command::new(find_bin(bin).unwrap_or_else(|| bin.into()));
        c.env("SLURM_CONF", &self.conf);
        c
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let mut pids = Vec::new();
        for f in ["slurmd.pid", "slurmctld.pid"] {
            if let Some(p) = self.pid(f) {
                let _ = Command::new("kill").arg(&p).status();
                pids.push(p);
            }
        }
        let _ = Command::new(&self.munged)
            .arg("--stop")
            .arg(format!("--socket={}", self.socket.display()))
            .stderr(Stdio::null())
            .status();
        let t = Instant::now();
        while pids
            .iter()
            .any(|p| Path::new(&format!("/proc/{p}")).exists())
            && t.elapsed() < Duration::from_secs(10)
        {
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn mode(p: &Path, m: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(m)).unwrap();
}

fn start_cluster() -> Result<Cluster, String> {
    let bins: Vec<Option<PathBuf>> = ["munged", "slurmctld", "slurmd", "sbatch", "squeue", "sinfo"]
        .iter()
        .map(|b| find_bin(b))
        .collect();
    if bins.iter().any(Option::is_none) {
        return Err(
            "slurm-wlm and munge are not installed (munged, slurmctld, slurmd, sbatch)".into(),
        );
    }
    let id = Command::new("id").arg("-u").output().unwrap();
    if String::from_utf8_lossy(&id.stdout).trim() != "0" {
        return Err("the one-node cluster needs root (slurmd runs jobs as their user)".into());
    }
    let dir = std::env::temp_dir().join(format!("voxfab-slurm-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    for d in ["", "munge", "munge-key", "state", "spool", "log"] {
        std::fs::create_dir_all(dir.join(d)).unwrap();
    }
    // munged wants its socket directory (and those above) reachable by all, its key
    // private.
    mode(&dir, 0o755);
    mode(&dir.join("munge"), 0o755);
    mode(&dir.join("munge-key"), 0o700);
    let key_path = dir.join("munge-key/munge.key");
    let mut key = vec![0u8; 1024];
    {
        use std::io::Read;
        std::fs::File::open("/dev/urandom")
            .unwrap()
            .read_exact(&mut key)
            .unwrap();
    }
    std::fs::write(&key_path, &key).unwrap();
    mode(&key_path, 0o600);
    let socket = dir.join("munge/munge.sock");
    let cluster = Cluster {
        conf: dir.join("slurm.conf"),
        munged: bins[0].clone().unwrap(),
        socket: socket.clone(),
        dir: dir.clone(),
    };
    let o = Command::new(&cluster.munged)
        .arg(format!("--socket={}", socket.display()))
        .arg(format!("--key-file={}", key_path.display()))
        .arg(format!(
            "--log-file={}",
            dir.join("munge-key/munged.log").display()
        ))
        .arg(format!(
            "--pid-file={}",
            dir.join("munge/munged.pid").display()
        ))
        .arg(format!(
            "--seed-file={}",
            dir.join("munge-key/munged.seed").display()
        ))
        .output()
        .unwrap();
    if !o.status.success() {
        return Err(format!("munged did not start: {}", stderr(&o)));
    }
    let host = Command::new("hostname").arg("-s").output().unwrap();
    let host = String::from_utf8_lossy(&host.stdout).trim().to_string();
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    let (ctld, slurmd) = (free_port(), free_port());
    let d = dir.display();
    let conf = format!(
        "ClusterName=voxfabtest\n\
         SlurmctldHost={host}\n\
         SlurmctldPort={ctld}\n\
         SlurmdPort={slurmd}\n\
         SlurmUser=root\n\
         SlurmdUser=root\n\
         AuthType=auth/munge\n\
         CredType=cred/munge\n\
         AuthInfo=socket={socket}\n\
         ProctrackType=proctrack/linuxproc\n\
         TaskPlugin=task/none\n\
         StateSaveLocation={d}/state\n\
         SlurmdSpoolDir={d}/spool\n\
         SlurmctldPidFile={d}/slurmctld.pid\n\
         SlurmdPidFile={d}/slurmd.pid\n\
         SlurmctldLogFile={d}/log/slurmctld.log\n\
         SlurmdLogFile={d}/log/slurmd.log\n\
         SchedulerType=sched/backfill\n\
         SelectType=select/cons_tres\n\
         SelectTypeParameters=CR_Core\n\
         ReturnToService=2\n\
         MpiDefault=none\n\
         JobCompType=jobcomp/none\n\
         JobAcctGatherType=jobacct_gather/none\n\
         AccountingStorageType=accounting_storage/none\n\
         NodeName={host} CPUs={cpus} State=UNKNOWN\n\
         PartitionName=voxfab Nodes={host} Default=YES MaxTime=INFINITE State=UP\n",
        socket = socket.display()
    );
    std::fs::write(&cluster.conf, conf).unwrap();
    for (daemon, args) in [("slurmctld", vec!["-c", "-i"]), ("slurmd", vec![])] {
        let o = cluster.slurm(daemon).args(args).output().unwrap();
        if !o.status.success() {
            return Err(format!(
                "{daemon} did not start: {}\n{}",
                stderr(&o),
                cluster.log()
            ));
        }
    }
    let t = Instant::now();
    loop {
        let o = cluster
            .slurm("sinfo")
            .args(["-h", "-o", "%t"])
            .output()
            .unwrap();
        if String::from_utf8_lossy(&o.stdout).trim() == "idle" {
            break;
        }
        if t.elapsed() > Duration::from_secs(60) {
            return Err(format!(
                "the node never came up idle ({:?})\n{}",
                String::from_utf8_lossy(&o.stdout),
                cluster.log()
            ));
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    Ok(cluster)
}

#[test]
fn a_slurm_job_array_gives_the_local_results() {
    let cluster = match start_cluster() {
        Ok(c) => c,
        Err(why) if std::env::var_os("CI").is_none() => {
            eprintln!("skipping the Slurm test: {why}");
            return;
        }
        Err(why) => panic!("CI is set, so the Slurm test must run: {why}"),
    };
    let w = Work::new("slurm");
    let vary = ["--vary", "step.pad.thickness=2,3,4"];
    let t0 = Instant::now();
    let o = sweep(&w.scene(), &w.join("local"), &vary);
    assert!(o.status.success(), "{}", stderr(&o));
    let local_s = t0.elapsed().as_secs_f64();

    let dir = w.join("slurm");
    let t0 = Instant::now();
    let o = voxfab()
        .arg("sweep")
        .arg(w.scene())
        .args(vary)
        .args(["--slurm", "--no-gpu", "--voxfab", BIN, "--time", "00:05:00"])
        .arg("--out")
        .arg(&dir)
        .env("SLURM_CONF", &cluster.conf)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}\n{}", stderr(&o), cluster.log());
    let job = String::from_utf8_lossy(&o.stdout).trim().to_string();
    assert!(
        !job.is_empty() && job.chars().all(|c| c.is_ascii_digit()),
        "job id {job:?}"
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("slurm_job"))
            .unwrap()
            .trim(),
        job
    );
    loop {
        let q = cluster
            .slurm("squeue")
            .args(["-h", "-j", &job])
            .output()
            .unwrap();
        if q.status.success() && q.stdout.is_empty() {
            break;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(300),
            "the job array did not finish in 300 s: {}\n{}",
            String::from_utf8_lossy(&q.stdout),
            cluster.log()
        );
        std::thread::sleep(Duration::from_millis(250));
    }
    let slurm_s = t0.elapsed().as_secs_f64();
    let o = voxfab()
        .args(["sweep", "collect"])
        .arg(&dir)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    eprintln!("sweep of 3 variants: local {local_s:.2} s, Slurm job array {slurm_s:.2} s");

    let (a, b) = (table(&w.join("local")), table(&dir));
    let logs = || {
        std::fs::read_dir(dir.join("logs"))
            .map(|rd| {
                rd.filter_map(Result::ok)
                    .map(|e| std::fs::read_to_string(e.path()).unwrap_or_default())
                    .collect::<Vec<_>>()
                    .join("\n")
            })
            .unwrap_or_default()
    };
    assert_eq!(a.columns, b.columns, "{}", logs());
    assert_eq!(b.rows.len(), 3);
    for r in 0..3 {
        assert_eq!(b.cell(r, "status"), Some("ok"), "{}", logs());
        for (c, col) in a.columns.iter().enumerate() {
            if !is_timing_column(col) {
                assert_eq!(a.rows[r][c], b.rows[r][c], "variant {r}, column {col}");
            }
        }
    }
}
