//! The ONNX Runtime environment: loading the shared library, listing execution providers, and
//! building sessions with the configured device and thread count.
//!
//! The library is loaded at run time (`ort`'s `load-dynamic`) from the file `make setup` extracts
//! from the PyPI `onnxruntime` wheel, so the binary builds without ONNX Runtime and a node can be
//! pointed at a CUDA build (`onnxruntime-gpu`) without recompiling.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::OnceLock;

use ort::ep::{self, ExecutionProvider};
use ort::session::Session;
use ort::session::builder::GraphOptimizationLevel;
use serde::Deserialize;

use crate::error::{Error, Result};
use crate::plate::LocaliserKind;

/// The ONNX Runtime version `make setup` installs; the default library path depends on it.
pub const PINNED_ORT_VERSION: &str = "1.32.0";

/// Where `make setup` puts the library, relative to the cache directory.
pub fn default_library_in(cache_dir: &Path) -> PathBuf {
    cache_dir.join("onnxruntime").join(PINNED_ORT_VERSION).join(format!("libonnxruntime.so.{PINNED_ORT_VERSION}"))
}

/// For tests and benches: the cache directory `make setup` filled (`$RAQIB_CACHE_DIR`, else
/// `<workspace>/.cache`), or `None` after printing a `SKIPPED` line when the runtime or models
/// are missing. With `RAQIB_REQUIRE_RUNTIME=1` (set by `make test`) a missing setup panics
/// instead, so CI cannot silently skip.
pub fn installed_cache_or_skip(workspace: &Path) -> Option<PathBuf> {
    let cache = std::env::var_os("RAQIB_CACHE_DIR").map(PathBuf::from).unwrap_or_else(|| workspace.join(".cache"));
    if default_library_in(&cache).is_file() && cache.join("models").is_dir() {
        return Some(cache);
    }
    let msg = format!("ONNX Runtime or models not installed under {}: run `make setup`", cache.display());
    assert!(std::env::var("RAQIB_REQUIRE_RUNTIME").as_deref() != Ok("1"), "{msg}");
    eprintln!("SKIPPED: {msg}");
    None
}

/// Which execution provider sessions should use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Device {
    /// CUDA when the loaded library has it and it registers, otherwise CPU (logged).
    #[default]
    Auto,
    /// CPU only.
    Cpu,
    /// CUDA, and fail if it cannot be used.
    Cuda,
}

impl FromStr for Device {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "auto" => Ok(Device::Auto),
            "cpu" => Ok(Device::Cpu),
            "cuda" => Ok(Device::Cuda),
            other => Err(format!("unknown device `{other}` (expected auto, cpu or cuda)")),
        }
    }
}

/// How sessions are built.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionOptions {
    /// Requested device.
    pub device: Device,
    /// Threads inside one operator; 0 lets ONNX Runtime choose (one per core).
    pub intra_threads: usize,
}

impl Default for SessionOptions {
    fn default() -> Self {
        SessionOptions { device: Device::Auto, intra_threads: 0 }
    }
}

/// A loaded ONNX Runtime library with its environment. Create one per process and share it.
pub struct Runtime {
    env: ort::environment::Environment,
    library: PathBuf,
    version: String,
}

/// The library the process loaded first; ONNX Runtime cannot be unloaded or swapped.
static LOADED_FROM: OnceLock<PathBuf> = OnceLock::new();

/// The process-wide runtime (ONNX Runtime allows one environment per process).
static SHARED: OnceLock<Runtime> = OnceLock::new();
static SHARED_INIT: std::sync::Mutex<()> = std::sync::Mutex::new(());

impl Runtime {
    /// Loads ONNX Runtime from `library` and creates the environment; only [`Runtime::shared`]
    /// calls it, since a process may hold one environment.
    ///
    /// Fails with [`Error::RuntimeLoad`] if the file is missing, is not ONNX Runtime, is older
    /// than the API this build needs, or if another library was already loaded in this process
    /// (`ort` keeps the first library even when building the environment then failed).
    fn load(library: &Path) -> Result<Self> {
        let fail = |reason: String| Error::RuntimeLoad { path: library.to_path_buf(), reason };
        if !library.is_file() {
            return Err(fail("no such file".into()));
        }
        let library = library.canonicalize().map_err(|e| fail(e.to_string()))?;
        if let Some(prev) = LOADED_FROM.get()
            && *prev != library
        {
            return Err(fail(format!("this process already loaded {}", prev.display())));
        }
        let builder = ort::init_from(&library).map_err(|e| fail(e.to_string()))?;
        let _ = LOADED_FROM.set(library.clone());
        // One intra-op thread pool (one thread per core) shared by every session. With a pool
        // per session, the threads of the model that just ran keep spinning while the next model
        // runs and take its cores: on 2 cores the text detector ran ~35 % slower inside the
        // pipeline (detector → recogniser → detector …) than alone.
        let pool = ort::environment::GlobalThreadPoolOptions::default().with_intra_threads(0)?.with_inter_threads(1)?;
        let env = builder.with_name("raqib").with_telemetry(false).with_global_thread_pool(pool).build()?;
        let version = library_version(&library).unwrap_or_else(|| "unknown".to_owned());
        tracing::debug!(library = %library.display(), %version, "ONNX Runtime loaded");
        Ok(Runtime { env, library, version })
    }

    /// The process-wide runtime: loaded from `library` on first use, the same one afterwards.
    /// Asking for another library once one is loaded is an error.
    pub fn shared(library: &Path) -> Result<&'static Runtime> {
        let _guard = SHARED_INIT.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(rt) = SHARED.get() {
            let wanted = library.canonicalize().unwrap_or_else(|_| library.to_path_buf());
            if wanted != rt.library {
                return Err(Error::RuntimeLoad {
                    path: library.to_path_buf(),
                    reason: format!("this process already uses {}", rt.library.display()),
                });
            }
            return Ok(rt);
        }
        let rt = Runtime::load(library)?;
        Ok(SHARED.get_or_init(|| rt))
    }

    /// The library file in use.
    pub fn library(&self) -> &Path {
        &self.library
    }

    /// ONNX Runtime version, e.g. `1.32.0`.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// Execution providers compiled into the loaded library that raqib can use, CPU first.
    pub fn available_providers(&self) -> Vec<&'static str> {
        let mut v = vec!["CPU"];
        if ep::CUDA::is_available().unwrap_or(false) {
            v.push("CUDA");
        }
        v
    }

    /// Builds a session for the model at `path`.
    ///
    /// With [`Device::Auto`], CUDA is tried when available and CPU used otherwise; the provider
    /// actually used is returned in [`LoadedModel::provider`] and logged.
    pub fn session(&self, path: &Path, opts: &SessionOptions) -> Result<LoadedModel> {
        let cuda_wanted = match opts.device {
            Device::Cpu => false,
            Device::Cuda => true,
            Device::Auto => ep::CUDA::is_available().unwrap_or(false),
        };
        let mut builder = Session::builder(&self.env)?
            .with_optimization_level(GraphOptimizationLevel::All)
            .map_err(ort::Error::from)?;
        if opts.intra_threads > 0 {
            // An explicit thread count means a pool of its own instead of the shared one.
            builder = builder.with_independent_thread_pool().map_err(ort::Error::from)?;
            builder = builder.with_intra_threads(opts.intra_threads).map_err(ort::Error::from)?;
        }
        let mut provider = "CPU";
        if cuda_wanted {
            let cuda = ep::CUDA::default().build().error_on_failure();
            match builder.with_execution_providers([cuda]) {
                Ok(b) => {
                    builder = b;
                    provider = "CUDA";
                }
                Err(e) if opts.device == Device::Auto => {
                    tracing::warn!(error = %e, "CUDA execution provider unavailable, using CPU");
                    builder = e.recover();
                }
                Err(e) => return Err(ort::Error::from(e).into()),
            }
        }
        let session = builder.commit_from_file(path)?;
        tracing::info!(model = %path.display(), provider, "session ready");
        Ok(LoadedModel { session, provider })
    }
}

/// A session and the execution provider it runs on.
pub struct LoadedModel {
    /// The ONNX Runtime session, built once and reused for every call.
    pub session: Session,
    /// `"CPU"` or `"CUDA"`.
    pub provider: &'static str,
}

impl LoadedModel {
    /// One line per input and output: name and shape (`-1` for dynamic axes).
    pub fn describe_io(&self) -> Vec<String> {
        let fmt = |kind: &str, o: &ort::value::Outlet| {
            let shape = o
                .dtype()
                .tensor_shape()
                .map(|s| format!("{:?}", s.iter().collect::<Vec<_>>()))
                .unwrap_or_else(|| "?".into());
            format!("{kind} {} {shape}", o.name())
        };
        let ins = self.session.inputs().iter().map(|o| fmt("in", o));
        let outs = self.session.outputs().iter().map(|o| fmt("out", o));
        ins.chain(outs).collect()
    }
}

/// Asks the library itself for its version: `OrtGetApiBase()->GetVersionString()`.
///
/// (`ort::info()` is no help: release wheels report `git-branch=HEAD`.)
fn library_version(path: &Path) -> Option<String> {
    // SAFETY: `path` was just loaded by `ort` as ONNX Runtime, so opening it again returns the
    // same, already initialised library; `OrtGetApiBase` and `GetVersionString` have exactly
    // these C signatures in every ONNX Runtime release, and the returned string is static.
    unsafe {
        let lib = libloading::Library::new(path).ok()?;
        let get_base: libloading::Symbol<unsafe extern "C" fn() -> *const ort::sys::OrtApiBase> =
            lib.get(b"OrtGetApiBase").ok()?;
        let base = get_base();
        if base.is_null() {
            return None;
        }
        let version = ((*base).GetVersionString)();
        if version.is_null() {
            return None;
        }
        Some(std::ffi::CStr::from_ptr(version).to_string_lossy().into_owned())
    }
}

/// `[runtime]` of `raqib.toml`: where ONNX Runtime and the models are, the device, threads, and
/// which localiser finds plates in video and in still photos.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RuntimeConfig {
    /// `libonnxruntime.so` to load (env `ORT_DYLIB_PATH`); default: the one `make setup` installs
    /// under the cache directory.
    pub ort_library: Option<PathBuf>,
    /// Directory holding the model files (env `RAQIB_MODELS_DIR`); default `<cache_dir>/models`.
    pub models_dir: Option<PathBuf>,
    /// `auto`, `cpu` or `cuda` (env `RAQIB_DEVICE`).
    pub device: Device,
    /// Threads per inference operator; 0 = one per core.
    pub intra_threads: usize,
    /// What finds plates in video frames (`raqib run`, `replay`, `bench video`): `detector` (the
    /// project's plate detector, default), `text` (the general text detector; slower) or `both`.
    pub plate_localiser: LocaliserKind,
    /// What finds plates in still photos (`raqib read`, `raqib eval plates`, the frames stored
    /// with hits when they are redacted): `both` by default (close-ups, where the plate fills the
    /// picture, are found by the text detector; whole scenes by the plate detector).
    pub still_localiser: LocaliserKind,
}

impl Default for RuntimeConfig {
    fn default() -> Self {
        RuntimeConfig {
            ort_library: None,
            models_dir: None,
            device: Device::default(),
            intra_threads: 0,
            plate_localiser: LocaliserKind::Detector,
            still_localiser: LocaliserKind::Both,
        }
    }
}

impl RuntimeConfig {
    /// Checks the values that parse but are wrong; the error names the key.
    pub fn validate(&self) -> Result<()> {
        if self.intra_threads > 256 {
            return Err(Error::InvalidConfig {
                key: "intra_threads",
                message: format!("{} is more than 256", self.intra_threads),
            });
        }
        Ok(())
    }

    /// How sessions are built for this node.
    pub fn session_options(&self) -> SessionOptions {
        SessionOptions { device: self.device, intra_threads: self.intra_threads }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_from_str() {
        assert_eq!("cuda".parse::<Device>(), Ok(Device::Cuda));
        assert!("gpu".parse::<Device>().unwrap_err().contains("auto, cpu or cuda"));
    }

    #[test]
    fn missing_library_error_says_how_to_fix() {
        let err = Runtime::shared(Path::new("/nonexistent/libonnxruntime.so")).err().unwrap().to_string();
        assert!(err.contains("make setup") && err.contains("ORT_DYLIB_PATH"), "{err}");
    }
}
