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

#[cfg(test)]
mod tests {
    // Tests may unwrap: a panic here is a failed test with a clear location.
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use std::fs;
    use std::os::unix::fs::PermissionsExt;
    use std::path::Path;

    use crate::config::test_support::*;
    use crate::config::*;

    fn mode(path: &Path) -> u32 {
        fs::metadata(path).unwrap().permissions().mode() & 0o7777
    }

    #[test]
    fn load_resolves_ca_file_next_to_the_file_it_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("custom.toml");
        fs::write(
            &path,
            "[[accounts]]\nid = \"a\"\nhost = \"h.example\"\nusername = \"u\"\n\
             ca_file = \"ca.pem\"\n",
        )
        .unwrap();
        let config = Config::load(&path).unwrap();
        assert_eq!(
            config.accounts[0].ca_file.as_deref(),
            Some(dir.path().join("ca.pem").as_path())
        );
    }

    // --- files -------------------------------------------------------------------------------

    #[test]
    fn a_missing_file_is_a_first_run() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(
            Config::load(&dir.path().join("config.toml")).unwrap(),
            Config::default()
        );
        assert_eq!(
            Config::load(&dir.path().join("no/such/dir/config.toml")).unwrap(),
            Config::default()
        );
    }

    #[test]
    fn load_reports_errors_with_the_real_path() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        fs::write(&path, format!("{VALID_ACCOUNT}colour = 1\n")).unwrap();
        let err = Config::load(&path).unwrap_err();
        assert!(
            err.to_string()
                .starts_with(&format!("{} line 5: ", path.display())),
            "{err}"
        );
    }

    #[test]
    fn a_file_that_is_not_utf8_names_the_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        fs::write(&path, b"# ok\n# bad \xff here\n").unwrap();
        match Config::load(&path) {
            Err(ConfigError::Parse { line, .. }) => assert_eq!(line, 2),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_file_others_may_write_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        fs::write(&path, VALID_ACCOUNT).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o666)).unwrap();
        match Config::load(&path) {
            Err(ConfigError::Io { source, .. }) => {
                assert_eq!(source.kind(), std::io::ErrorKind::PermissionDenied);
                assert!(source.to_string().contains("chmod o-w"), "{source}");
            }
            other => panic!("{other:?}"),
        }
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        Config::load(&path).unwrap();

        fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o777)).unwrap();
        assert!(matches!(Config::load(&path), Err(ConfigError::Io { .. })));
        // A sticky directory like /tmp is fine: others cannot replace our file there.
        fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o1777)).unwrap();
        Config::load(&path).unwrap();
    }

    #[test]
    fn save_creates_a_private_directory_and_file() {
        let dir = tempfile::tempdir().unwrap();
        let config_dir = dir.path().join("xdg/pushmail");
        let path = config_dir.join("config.toml");
        let config = config_of(vec![full_account()]);
        config.save(&path).unwrap();

        assert_eq!(mode(&config_dir), 0o700);
        assert_eq!(mode(&dir.path().join("xdg")), 0o700);
        assert_eq!(mode(&path), 0o600);
        assert_eq!(Config::load(&path).unwrap(), config);
        assert_eq!(
            fs::read_dir(&config_dir).unwrap().count(),
            1,
            "temp file left behind"
        );
    }

    #[test]
    fn save_replaces_an_existing_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        fs::write(&path, "# old\n").unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        let config = config_of(vec![minimal_account("work")]);
        config.save(&path).unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), config.to_toml_string());
        assert_eq!(mode(&path), 0o600);
        assert_eq!(
            fs::read_dir(dir.path()).unwrap().count(),
            1,
            "temp file left behind"
        );
    }

    #[test]
    fn a_failed_save_keeps_the_old_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        let old = config_of(vec![minimal_account("old")]);
        old.save(&path).unwrap();
        let before = fs::read(&path).unwrap();

        // An invalid config is refused before anything is written.
        let mut account = minimal_account("new");
        account.folders.clear();
        assert!(matches!(
            config_of(vec![account]).save(&path),
            Err(ConfigError::Invalid { .. })
        ));
        assert_eq!(fs::read(&path).unwrap(), before);

        // Writing fails: the directory is read-only. (Root ignores permissions, so this part
        // only proves something when it can: check that the directory really is read-only.)
        fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o500)).unwrap();
        let privileged = fs::write(dir.path().join("probe"), b"").is_ok();
        if !privileged {
            let err = config_of(vec![minimal_account("new")])
                .save(&path)
                .unwrap_err();
            assert!(matches!(err, ConfigError::Io { .. }), "{err:?}");
            assert_eq!(fs::read(&path).unwrap(), before);
        }
        fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o700)).unwrap();
        assert_eq!(Config::load(&path).unwrap(), old);
    }

    #[test]
    fn a_failed_rename_leaves_no_partial_or_temp_file() {
        // The target is a non-empty directory: the temp file is written, the rename fails
        // (even for root), and nothing but the directory remains.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        fs::create_dir(&path).unwrap();
        fs::write(path.join("keep"), b"x").unwrap();
        let err = config_of(vec![minimal_account("new")])
            .save(&path)
            .unwrap_err();
        assert!(matches!(err, ConfigError::Io { .. }), "{err:?}");
        assert_eq!(fs::read(path.join("keep")).unwrap(), b"x");
        assert_eq!(
            fs::read_dir(dir.path()).unwrap().count(),
            1,
            "temp file left behind"
        );
    }

    #[test]
    fn save_through_a_symlink_updates_the_target() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("dotfiles/pushmail.toml");
        fs::create_dir_all(real.parent().unwrap()).unwrap();
        fs::write(&real, "# old\n").unwrap();
        let link = dir.path().join("config.toml");
        std::os::unix::fs::symlink("dotfiles/pushmail.toml", &link).unwrap();

        let config = config_of(vec![minimal_account("work")]);
        config.save(&link).unwrap();
        assert!(
            fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(Config::load(&real).unwrap(), config);
    }

    #[test]
    fn the_default_path_follows_xdg() {
        let path = |xdg: Option<&str>, home: Option<&str>| {
            store::default_path_from(xdg.map(Into::into), home.map(Into::into))
        };
        assert_eq!(
            path(Some("/x/conf"), Some("/home/ana")).unwrap(),
            Path::new("/x/conf/pushmail/config.toml")
        );
        // The XDG spec says to ignore relative and empty values.
        for xdg in [None, Some(""), Some("relative")] {
            assert_eq!(
                path(xdg, Some("/home/ana")).unwrap(),
                Path::new("/home/ana/.config/pushmail/config.toml")
            );
        }
        assert!(matches!(path(None, None), Err(ConfigError::Io { .. })));
        assert!(Config::default_path().is_ok() || std::env::var_os("HOME").is_none());
    }
}
