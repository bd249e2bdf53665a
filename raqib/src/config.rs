//! `raqib.toml`: loading, defaults, environment overrides and validation.
//!
//! Every section has defaults, so an empty file (or none) is a valid configuration. Unknown keys
//! are errors, and every error names the file and the key.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use raqib_pipeline::CameraConfig;
use raqib_server::ServerConfig;
use serde::Deserialize;

/// Name of the config file looked for in the working directory when none is given.
pub const DEFAULT_FILE: &str = "raqib.toml";

/// The whole configuration of a node.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Identity and storage of the node.
    pub node: NodeConfig,
    /// Inference runtime and models.
    pub runtime: raqib_models::RuntimeConfig,
    /// API and console.
    pub server: ServerConfig,
    /// Camera inputs.
    pub cameras: Vec<CameraConfig>,
    /// How long personal data is kept.
    pub retention: raqib_events::retention::RetentionPolicy,
    /// What stored evidence shows.
    pub privacy: PrivacyConfig,
    /// Every analysis policy knob (fuzzy distance, face threshold, key frames, events).
    pub analysis: raqib_core::AnalysisPolicy,
    /// `[alerts]`: verification deadlines, rejection reasons, repeat suppression.
    pub alerts: raqib_events::handling::HandlingPolicy,
    /// Free-space bounds of the data directory.
    pub disk: raqib_core::disk::DiskPolicy,
    /// `[hub]`: the national hub this node publishes to and takes the national watchlist from
    /// (absent: the node stands alone).
    pub hub: Option<raqib_hub::node::HubLinkConfig>,
}

/// `[privacy]`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PrivacyConfig {
    /// Pixelate other plates and every face in the whole frames stored with hits.
    pub redact_snapshots: bool,
}

impl Default for PrivacyConfig {
    fn default() -> Self {
        PrivacyConfig { redact_snapshots: true }
    }
}

/// `[node]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NodeConfig {
    /// Name of this node in events and alerts.
    pub name: String,
    /// Where the node keeps its databases and snapshots (env `RAQIB_DATA_DIR`).
    pub data_dir: PathBuf,
    /// Where downloaded runtime libraries and models live (env `RAQIB_CACHE_DIR`).
    pub cache_dir: PathBuf,
    /// File holding the key that encrypts the databases at rest (SQLCipher; env `RAQIB_DB_KEY`
    /// holds the key itself and wins). None: databases are not encrypted.
    pub db_key_file: Option<PathBuf>,
}

impl Default for NodeConfig {
    fn default() -> Self {
        NodeConfig { name: "raqib".into(), data_dir: "var".into(), cache_dir: ".cache".into(), db_key_file: None }
    }
}

/// Where the configuration came from.
#[derive(Debug, Clone)]
pub enum Origin {
    /// Parsed from this file.
    File(PathBuf),
    /// No file: built-in defaults.
    Defaults,
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Origin::File(p) => write!(f, "{}", p.display()),
            Origin::Defaults => f.write_str("built-in defaults (no raqib.toml)"),
        }
    }
}

/// Paths the node uses, absolute, after overrides.
#[derive(Debug, Clone)]
pub struct Paths {
    /// Databases and snapshots.
    pub data_dir: PathBuf,
    /// Runtime library, models and downloads.
    pub cache_dir: PathBuf,
    /// Model files.
    pub models_dir: PathBuf,
    /// Package archives kept so re-fetching needs no network.
    pub downloads_dir: PathBuf,
    /// The ONNX Runtime shared library.
    pub ort_library: PathBuf,
}

/// Reads one environment variable, treating empty as unset.
fn env_var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

impl Config {
    /// Loads the config: `explicit` if given (must exist), else `$RAQIB_CONFIG`, else `./raqib.toml`
    /// when present, else defaults. Applies environment overrides, then validates.
    pub fn load(explicit: Option<&Path>) -> anyhow::Result<(Config, Origin)> {
        let chosen = explicit.map(Path::to_path_buf).or_else(|| env_var("RAQIB_CONFIG").map(PathBuf::from));
        let (mut config, origin) = match chosen {
            Some(path) => (Self::from_file(&path)?, Origin::File(path)),
            None if Path::new(DEFAULT_FILE).is_file() => {
                (Self::from_file(Path::new(DEFAULT_FILE))?, Origin::File(DEFAULT_FILE.into()))
            }
            None => (Config::default(), Origin::Defaults),
        };
        config.apply_env()?;
        config.validate().with_context(|| format!("invalid configuration in {origin}"))?;
        Ok((config, origin))
    }

    /// Parses a file, naming the file, line and key on error.
    pub fn from_file(path: &Path) -> anyhow::Result<Config> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("cannot read config file {}", path.display()))?;
        Self::parse(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
    }

    /// Parses TOML text. Errors read `line N: key `a.b`: message`.
    pub fn parse(text: &str) -> Result<Config, String> {
        let de = toml::Deserializer::parse(text).map_err(|e| describe_toml_error(text, &e, None))?;
        serde_path_to_error::deserialize(de).map_err(|e| {
            let key = e.path().to_string();
            describe_toml_error(text, e.inner(), Some(key))
        })
    }

    /// Applies `RAQIB_DATA_DIR`, `RAQIB_CACHE_DIR`, `RAQIB_MODELS_DIR`, `ORT_DYLIB_PATH`, `RAQIB_DEVICE`.
    fn apply_env(&mut self) -> anyhow::Result<()> {
        if let Some(v) = env_var("RAQIB_DATA_DIR") {
            self.node.data_dir = v.into();
        }
        if let Some(v) = env_var("RAQIB_CACHE_DIR") {
            self.node.cache_dir = v.into();
        }
        if let Some(v) = env_var("RAQIB_MODELS_DIR") {
            self.runtime.models_dir = Some(v.into());
        }
        if let Some(v) = env_var("ORT_DYLIB_PATH") {
            self.runtime.ort_library = Some(v.into());
        }
        if let Some(v) = env_var("RAQIB_DEVICE") {
            self.runtime.device = v.parse().map_err(|e| anyhow::anyhow!("RAQIB_DEVICE: {e}"))?;
        }
        Ok(())
    }

    /// Checks values that parse but are wrong; the error names the key.
    pub fn validate(&self) -> anyhow::Result<()> {
        if self.node.name.trim().is_empty() {
            bail!("node.name: must not be empty");
        }
        self.runtime.validate()?;
        self.server.validate()?;
        self.analysis.validate()?;
        raqib_pipeline::camera::validate_cameras(&self.cameras)?;
        self.retention.validate()?;
        self.alerts.validate()?;
        if let Some(h) = &self.hub {
            h.validate()?;
        }
        self.disk.validate().map_err(anyhow::Error::msg)?;
        Ok(())
    }

    /// Applies command-line overrides of `[analysis]` (`--full-frame-ms`, `--max-distance`),
    /// checked against the same bounds.
    pub fn override_analysis(&mut self, full_frame_ms: Option<u64>, max_distance: Option<f32>) -> anyhow::Result<()> {
        let o = raqib_core::Overrides {
            full_frame_interval_ms: full_frame_ms,
            plate_max_distance: max_distance,
            face_match_threshold: None,
        };
        self.analysis = self.analysis.with(o).context("a command-line option is out of bounds")?;
        Ok(())
    }

    /// Sets this process's database key from `RAQIB_DB_KEY` or `node.db_key_file` (relative to
    /// `base`), when either is given.
    pub fn apply_db_key(&self, base: &Path) -> anyhow::Result<()> {
        let key = match (std::env::var("RAQIB_DB_KEY").ok().filter(|k| !k.is_empty()), &self.node.db_key_file) {
            (Some(k), _) => k,
            (None, Some(file)) => {
                let file = if file.is_absolute() { file.clone() } else { base.join(file) };
                std::fs::read_to_string(&file)
                    .with_context(|| format!("node.db_key_file: reading {}", file.display()))?
                    .lines()
                    .next()
                    .unwrap_or_default()
                    .to_owned()
            }
            (None, None) => return Ok(()),
        };
        raqib_core::db_key::set(&key).map_err(|e| anyhow::anyhow!("node.db_key_file / RAQIB_DB_KEY: {e}"))
    }

    /// Resolves the paths the node uses. Relative paths are taken from `base` (the config file's
    /// directory, or the working directory).
    pub fn paths(&self, base: &Path) -> Paths {
        let abs = |p: &Path| if p.is_absolute() { p.to_path_buf() } else { base.join(p) };
        let cache_dir = abs(&self.node.cache_dir);
        let models_dir = self.runtime.models_dir.as_deref().map(abs).unwrap_or_else(|| cache_dir.join("models"));
        let ort_library = self
            .runtime
            .ort_library
            .as_deref()
            .map(abs)
            .unwrap_or_else(|| raqib_models::runtime::default_library_in(&cache_dir));
        Paths {
            data_dir: abs(&self.node.data_dir),
            downloads_dir: cache_dir.join("downloads"),
            models_dir,
            ort_library,
            cache_dir,
        }
    }
}

impl Origin {
    /// The directory relative paths in this config are taken from.
    pub fn base_dir(&self) -> anyhow::Result<PathBuf> {
        let cwd = std::env::current_dir().context("cannot read the working directory")?;
        Ok(match self {
            Origin::File(p) => match p.parent() {
                Some(parent) if !parent.as_os_str().is_empty() => cwd.join(parent),
                _ => cwd,
            },
            Origin::Defaults => cwd,
        })
    }
}

fn describe_toml_error(text: &str, err: &toml::de::Error, key: Option<String>) -> String {
    let line = err.span().map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1);
    let mut out = String::new();
    if let Some(line) = line {
        out.push_str(&format!("line {line}: "));
    }
    if let Some(key) = key.filter(|k| !k.is_empty() && k != ".") {
        out.push_str(&format!("key `{key}`: "));
    }
    out.push_str(err.message().trim());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alerts_section_parses_with_defaults_and_names_a_bad_key() {
        let c = Config::parse("[alerts]\nrepeat_window_s = 60\n[alerts.deadline_minutes]\ncritical = 5\n").unwrap();
        assert_eq!(c.alerts.repeat_window_s, 60);
        assert!((c.alerts.deadline_minutes.critical - 5.0).abs() < 1e-9);
        assert!((c.alerts.deadline_minutes.high - 30.0).abs() < 1e-9, "the others keep their defaults");
        let err = Config::parse("[alerts.deadline_minutes]\nlow = 0\n").unwrap().validate().unwrap_err();
        assert!(format!("{err:#}").contains("alerts.deadline_minutes.low"), "{err:#}");
        let err = Config::parse("[alerts]\nrepeat_windows = 1\n").unwrap_err();
        assert!(err.contains("repeat_windows"), "{err}");
    }

    #[test]
    fn empty_file_gives_defaults() {
        let c = Config::parse("").unwrap();
        assert_eq!(c.node.name, "raqib");
        assert_eq!(c.runtime.device, raqib_models::Device::Auto);
        assert!(c.server.bind.ip().is_loopback());
        assert!(c.validate().is_ok());
    }

    #[test]
    fn example_config_is_valid() {
        let text = include_str!("../../config/raqib.example.toml");
        let c = Config::parse(text).unwrap();
        c.validate().unwrap();
        assert!(!c.cameras.is_empty());
    }

    #[test]
    fn unknown_key_is_named_with_its_line() {
        let err = Config::parse("[node]\nname = \"n\"\n\n[runtime]\ndevcie = \"cpu\"\n").unwrap_err();
        assert!(err.contains("devcie") && err.contains("line 5"), "{err}");
    }

    #[test]
    fn bad_value_names_the_key() {
        let err = Config::parse("[runtime]\ndevice = \"gpu\"\n").unwrap_err();
        assert!(err.contains("runtime.device") && err.contains("gpu"), "{err}");
        let err = Config::parse("[server]\nbind = \"localhost\"\n").unwrap_err();
        assert!(err.contains("server.bind"), "{err}");
    }

    #[test]
    fn the_plate_localiser_is_the_detector_unless_the_text_detector_is_asked_for() {
        use raqib_models::plate::LocaliserKind;
        assert_eq!(Config::parse("").unwrap().runtime.plate_localiser, LocaliserKind::Detector);
        let c = Config::parse("[runtime]\nplate_localiser = \"text\"\n").unwrap();
        assert_eq!(c.runtime.plate_localiser, LocaliserKind::Text);
        let err = Config::parse("[runtime]\nplate_localiser = \"yolo\"\n").unwrap_err();
        assert!(err.contains("runtime.plate_localiser") && err.contains("yolo"), "{err}");
        assert_eq!(Config::parse("").unwrap().runtime.still_localiser, LocaliserKind::Both);
    }

    #[test]
    fn rtsp_options_parse_and_a_bad_transport_names_the_key() {
        let c = Config::parse(
            "[[cameras]]\nid = \"a\"\nurl = \"rtsp://x\"\nrtsp_transport = \"udp\"\nrtsp_latency_ms = 800\n",
        )
        .unwrap();
        c.validate().unwrap();
        assert_eq!(c.cameras[0].rtsp().transport.protocols(), "udp");
        assert_eq!(c.cameras[0].rtsp().latency_ms, 800);
        let c = Config::parse("[[cameras]]\nid = \"a\"\nurl = \"rtsp://x\"\n").unwrap();
        assert_eq!(c.cameras[0].rtsp().transport.protocols(), "tcp", "TCP unless asked");
        let err =
            Config::parse("[[cameras]]\nid = \"a\"\nurl = \"rtsp://x\"\nrtsp_transport = \"quic\"\n").unwrap_err();
        assert!(err.contains("rtsp_transport") && err.contains("quic"), "{err}");
    }

    #[test]
    fn semantic_errors_name_the_key() {
        let c = Config::parse("[[cameras]]\nid = \"a\"\nurl = \"rtsp://x\"\nanalysis_fps = -1\n").unwrap();
        let err = c.validate().unwrap_err().to_string();
        assert!(err.starts_with("cameras[0].analysis_fps"), "{err}");
    }

    #[test]
    fn the_analysis_section_has_defaults_bounds_and_overrides() {
        let c = Config::parse("").unwrap();
        assert_eq!(c.analysis, raqib_core::AnalysisPolicy::default());
        let c = Config::parse("[analysis]\nplate_max_distance = 5\n").unwrap();
        let err = format!("{:#}", c.validate().unwrap_err());
        assert!(err.contains("analysis.plate_max_distance"), "{err}");
        let err = Config::parse("[analysis]\nface_threshold = 0.5\n").unwrap_err();
        assert!(err.contains("face_threshold"), "{err}");
        let mut c = Config::parse("[analysis]\nfull_frame_interval_ms = 600\n").unwrap();
        c.validate().unwrap();
        assert_eq!(c.analysis.full_frame_interval(), std::time::Duration::from_millis(600));
        c.override_analysis(Some(0), Some(2.0)).unwrap();
        assert_eq!((c.analysis.full_frame_interval_ms, c.analysis.plate_max_distance), (0, 2.0));
        let err = format!("{:#}", c.override_analysis(None, Some(-1.0)).unwrap_err());
        assert!(err.contains("analysis.plate_max_distance"), "{err}");
    }

    #[test]
    fn sinks_parse_and_bad_ones_name_the_key() {
        let text = "[[server.webhooks]]\nname = \"cc\"\nurl = \"https://h/x\"\nsecret_env = \"S\"\n\n[server.mqtt]\nhost = \"b\"\n";
        let c = Config::parse(text).unwrap();
        c.validate().unwrap();
        assert_eq!(c.server.webhooks[0].timeout_ms, 5000);
        assert_eq!(c.server.mqtt.as_ref().unwrap().port, 1883);
        let err = Config::parse("[[server.webhooks]]\nname = \"cc\"\nurl = \"https://h/x\"\nsecret = \"inline\"\n")
            .unwrap_err();
        assert!(err.contains("secret"), "secrets are not accepted inline: {err}");
        let c = Config::parse("[[server.webhooks]]\nname = \"cc\"\nurl = \"h/x\"\nsecret_env = \"S\"\n").unwrap();
        assert!(c.validate().unwrap_err().to_string().contains("server.webhooks.url"));
    }

    #[test]
    fn paths_resolve_against_base() {
        let c = Config::parse("[node]\ndata_dir = \"/srv/raqib\"\n").unwrap();
        let p = c.paths(Path::new("/opt/node"));
        assert_eq!(p.data_dir, Path::new("/srv/raqib"));
        assert_eq!(p.models_dir, Path::new("/opt/node/.cache/models"));
        assert!(p.ort_library.starts_with("/opt/node/.cache/onnxruntime"));
    }
}
