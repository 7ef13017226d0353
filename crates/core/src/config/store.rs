//! Where the file lives and how it is read and written: permission checks on load, atomic
//! replacement on save.

use std::ffi::OsString;
use std::fs::{self, DirBuilder, File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use super::{Config, ConfigError, FILE_NAME, file};

/// Mode of a directory created by [`write_atomically`]: the config names programs Pushmail
/// runs, so only its owner may list or change the directory.
const DIR_MODE: u32 = 0o700;

/// Mode of the file written by [`write_atomically`]. It holds no secret, but it does say which
/// program produces the password and which servers the user has accounts on.
const FILE_MODE: u32 = 0o600;

/// "Others may write" bit.
const OTHER_WRITE: u32 = 0o002;

/// Sticky bit: in a sticky directory (like /tmp) others cannot replace our file.
const STICKY: u32 = 0o1000;

/// Symlink hops followed before giving up, as Linux's own limit (`ELOOP` after 40).
const MAX_SYMLINK_HOPS: usize = 40;

fn io_error(path: &Path, source: io::Error) -> ConfigError {
    ConfigError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// [`Config::default_path`] with the environment passed in, so it can be tested without
/// touching the process environment.
pub(super) fn default_path_from(
    xdg_config_home: Option<OsString>,
    home: Option<OsString>,
) -> Result<PathBuf, ConfigError> {
    let usable =
        |value: Option<OsString>| value.map(PathBuf::from).filter(|path| path.is_absolute());
    let base = match (usable(xdg_config_home), usable(home)) {
        (Some(xdg), _) => xdg,
        (None, Some(home)) => home.join(".config"),
        (None, None) => {
            return Err(io_error(
                Path::new("$HOME/.config/pushmail/config.toml"),
                io::Error::new(
                    io::ErrorKind::NotFound,
                    "neither XDG_CONFIG_HOME nor HOME is set to an absolute path; \
                     pass --config FILE",
                ),
            ));
        }
    };
    Ok(base.join("pushmail").join(FILE_NAME))
}

pub(super) fn load(path: &Path) -> Result<Config, ConfigError> {
    let mut file = match File::open(path) {
        Ok(file) => file,
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(Config::default()),
        Err(err) => return Err(io_error(path, err)),
    };
    // Checked on the open handle, so the file cannot be swapped between check and read.
    let metadata = file.metadata().map_err(|err| io_error(path, err))?;
    if metadata.is_dir() {
        return Err(io_error(
            path,
            io::Error::new(
                io::ErrorKind::InvalidInput,
                "this is a directory; --config needs the path of a file",
            ),
        ));
    }
    refuse_if_others_may_write(path, metadata.mode(), false)?;
    let absolute = std::path::absolute(path).map_err(|err| io_error(path, err))?;
    let dir = absolute.parent().unwrap_or(Path::new("/"));
    let dir_mode = fs::metadata(dir).map_err(|err| io_error(dir, err))?.mode();
    refuse_if_others_may_write(dir, dir_mode, true)?;

    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes)
        .map_err(|err| io_error(path, err))?;
    let text = match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(err) => {
            let valid = err.utf8_error().valid_up_to();
            let valid_text = String::from_utf8_lossy(&err.as_bytes()[..valid]);
            return Err(file::parse_error(
                &valid_text,
                path,
                valid,
                None,
                "the file is not UTF-8 text; save it as UTF-8".to_owned(),
            ));
        }
    };
    let config = file::parse(&text, path, dir)?;
    config.validate()?;
    Ok(config)
}

/// The config names programs Pushmail runs (`password_command`), so a file or directory that
/// other users may write would let them run code as this user. OpenSSH refuses its config
/// for the same reason.
fn refuse_if_others_may_write(path: &Path, mode: u32, is_dir: bool) -> Result<(), ConfigError> {
    let others_may_write = mode & OTHER_WRITE != 0 && !(is_dir && mode & STICKY != 0);
    if !others_may_write {
        return Ok(());
    }
    let what = if is_dir { "directory" } else { "file" };
    Err(io_error(
        path,
        io::Error::new(
            io::ErrorKind::PermissionDenied,
            format!(
                "the {what} is writable by other users, who could make Pushmail run any \
                 program through password_command; run `chmod o-w {}`",
                path.display()
            ),
        ),
    ))
}

/// Replaces `path` with `bytes` so that a crash or error at any point leaves either the old
/// content or the new one: temp file in the same directory (a rename is only atomic within one
/// file system), created 0600 with `O_EXCL`, written, fsynced, renamed over the target, then
/// the directory fsynced so the rename itself survives a power cut.
pub(super) fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), ConfigError> {
    let target = follow_symlinks(path)?;
    let Some(file_name) = target.file_name() else {
        return Err(io_error(
            path,
            io::Error::new(
                io::ErrorKind::InvalidInput,
                "the config path must name a file",
            ),
        ));
    };
    let dir = match target.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    };
    DirBuilder::new()
        .recursive(true)
        .mode(DIR_MODE)
        .create(&dir)
        .map_err(|err| io_error(&dir, err))?;

    let (temp_path, mut temp) = create_temp_file(&dir, &file_name.to_string_lossy())?;
    let written = temp.write_all(bytes).and_then(|()| temp.sync_all());
    drop(temp);
    if let Err(err) = written {
        remove_temp_file(&temp_path);
        return Err(io_error(&temp_path, err));
    }
    if let Err(err) = fs::rename(&temp_path, &target) {
        remove_temp_file(&temp_path);
        return Err(io_error(&target, err));
    }
    File::open(&dir)
        .and_then(|dir| dir.sync_all())
        .map_err(|err| io_error(&dir, err))
}

/// The file a chain of symlinks ends at (which may not exist yet), so saving through a link
/// kept by a dotfile manager updates the real file instead of replacing the link.
fn follow_symlinks(path: &Path) -> Result<PathBuf, ConfigError> {
    let mut current = path.to_path_buf();
    for _ in 0..MAX_SYMLINK_HOPS {
        match fs::symlink_metadata(&current) {
            Ok(metadata) if metadata.file_type().is_symlink() => {
                let link = fs::read_link(&current).map_err(|err| io_error(&current, err))?;
                current = match current.parent() {
                    Some(parent) => parent.join(link),
                    None => link,
                };
            }
            Ok(_) => return Ok(current),
            Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(current),
            Err(err) => return Err(io_error(&current, err)),
        }
    }
    Err(io_error(
        path,
        io::Error::new(
            io::ErrorKind::InvalidInput,
            "too many levels of symbolic links",
        ),
    ))
}

/// A new, empty, hidden file next to the target. `create_new` (`O_EXCL`) never opens an
/// existing file or follows a planted symlink.
fn create_temp_file(dir: &Path, file_name: &str) -> Result<(PathBuf, File), ConfigError> {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.subsec_nanos());
    let mut last_error = None;
    for attempt in 0..16u32 {
        let name = format!(
            ".{file_name}.{}.{nanos:09}.{attempt}.tmp",
            std::process::id()
        );
        let temp_path = dir.join(name);
        match OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(FILE_MODE)
            .open(&temp_path)
        {
            Ok(file) => return Ok((temp_path, file)),
            Err(err) if err.kind() == io::ErrorKind::AlreadyExists => last_error = Some(err),
            Err(err) => return Err(io_error(&temp_path, err)),
        }
    }
    Err(io_error(
        dir,
        last_error.unwrap_or_else(|| io::Error::other("could not create a temporary file")),
    ))
}

fn remove_temp_file(temp_path: &Path) {
    if let Err(err) = fs::remove_file(temp_path) {
        tracing::warn!(
            path = %temp_path.display(),
            "Could not remove temporary config file: {err:#}"
        );
    }
}
