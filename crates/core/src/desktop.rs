//! Desktop integration shared by the tray and the settings window: the XDG autostart entry
//! ("start at login") and reading `.desktop` files to launch the user's mail client.
//!
//! Pure functions take their directories as arguments and are tested; the few functions that
//! read the environment (`XDG_*`, `HOME`) say so and are thin wrappers for front ends.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// The application id: the tray's D-Bus name, its desktop-entry id (the launcher installed as
/// `/usr/share/applications/io.github.pushmail.Pushmail.desktop`, the notification
/// `desktop-entry` hint), its icon name and its AppStream id. Reverse-DNS, so it stays unique
/// across distributions, Flatpak and the portals, which all key on it.
pub const APP_ID: &str = "io.github.pushmail.Pushmail";

/// File name of the autostart entry and of the installed launcher: `{APP_ID}.desktop`.
pub const DESKTOP_FILE: &str = "io.github.pushmail.Pushmail.desktop";

/// The tray binary the autostart entry starts.
pub const TRAY_BINARY: &str = "pushmail";

/// `$XDG_CONFIG_HOME/autostart/io.github.pushmail.Pushmail.desktop` (or `$HOME/.config/autostart/…` when
/// `XDG_CONFIG_HOME` is unset, empty or relative). `None` without a usable home.
pub fn autostart_path_from(
    xdg_config_home: Option<std::ffi::OsString>,
    home: Option<std::ffi::OsString>,
) -> Option<PathBuf> {
    let base = xdg_config_home
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| {
            home.map(PathBuf::from)
                .filter(|p| p.is_absolute())
                .map(|h| h.join(".config"))
        })?;
    Some(base.join("autostart").join(DESKTOP_FILE))
}

/// [`autostart_path_from`] with the process environment.
pub fn autostart_path() -> Option<PathBuf> {
    autostart_path_from(
        std::env::var_os("XDG_CONFIG_HOME"),
        std::env::var_os("HOME"),
    )
}

/// The text of the autostart entry that runs `exec` (an absolute path, or a name on `PATH`).
pub fn autostart_entry(exec: &Path) -> String {
    format!(
        "[Desktop Entry]\n\
         Type=Application\n\
         Name=Pushmail\n\
         Comment=Real-time mail notifications\n\
         Exec={}\n\
         Icon={}\n\
         Terminal=false\n\
         X-GNOME-Autostart-enabled=true\n\
         NoDisplay=true\n",
        quote_exec_arg(&exec.to_string_lossy()),
        APP_ID
    )
}

/// Writes (`enabled`) or removes the autostart entry at `path`. Removing a missing entry is
/// not an error. The file is written whole to a temporary name and renamed, so a session
/// starting at that moment never sees half an entry.
pub fn set_autostart_at(path: &Path, enabled: bool, exec: &Path) -> io::Result<()> {
    if !enabled {
        return match fs::remove_file(path) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            other => other,
        };
    }
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir)?;
    }
    let tmp = path.with_extension("desktop.new");
    fs::write(&tmp, autostart_entry(exec))?;
    fs::rename(&tmp, path)
}

/// Turns "start at login" on or off for the current user (reads the environment). The entry
/// runs the `pushmail` binary next to the running executable when there is one (both binaries
/// are installed side by side), else `pushmail` from `PATH`.
pub fn set_autostart(enabled: bool) -> io::Result<()> {
    let path = autostart_path().ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::NotFound,
            "neither XDG_CONFIG_HOME nor HOME is set",
        )
    })?;
    set_autostart_at(&path, enabled, &tray_executable())
}

/// Whether the autostart entry exists (reads the environment).
pub fn autostart_enabled() -> bool {
    autostart_path().is_some_and(|p| p.is_file())
}

fn tray_executable() -> PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|dir| dir.join(TRAY_BINARY)))
        .filter(|p| p.is_file())
        .unwrap_or_else(|| PathBuf::from(TRAY_BINARY))
}

/// The keys of a `.desktop` file's `[Desktop Entry]` group that launching needs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DesktopEntry {
    pub name: Option<String>,
    pub exec: Option<String>,
    pub icon: Option<String>,
    pub terminal: bool,
}

/// Reads the `[Desktop Entry]` group (unlocalised keys only; other groups such as actions
/// are ignored).
pub fn parse_desktop_entry(text: &str) -> DesktopEntry {
    let mut entry = DesktopEntry::default();
    let mut in_main = false;
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if line.starts_with('[') {
            in_main = line == "[Desktop Entry]";
            continue;
        }
        if !in_main {
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let value = unescape_string(value.trim_start());
        match key.trim_end() {
            "Name" => entry.name = Some(value),
            "Exec" => entry.exec = Some(value),
            "Icon" => entry.icon = Some(value),
            "Terminal" => entry.terminal = value == "true",
            _ => {}
        }
    }
    entry
}

/// The desktop-entry "string" escapes: `\s \n \t \r \\`.
fn unescape_string(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('s') => out.push(' '),
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some('\\') => out.push('\\'),
            // Not a string escape: keep it for the Exec quoting rules.
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    out
}

/// Why an `Exec` line cannot be run.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum ExecError {
    #[error("the desktop entry has no Exec line")]
    Missing,
    #[error("the Exec line has an unterminated quote")]
    UnterminatedQuote,
    #[error("the Exec line is empty")]
    Empty,
}

/// The argv of an entry's `Exec` line with **no file or URL arguments**: `%f %F %u %U` (and
/// the deprecated `%d %D %n %N %v %m`) are removed, so a mail client opens its main window
/// rather than a compose window. `%i` becomes `--icon ICON`, `%c` the name, `%k` the file's
/// path, `%%` a percent sign. The result is run directly, never through a shell.
pub fn exec_argv(entry: &DesktopEntry, file: &Path) -> Result<Vec<String>, ExecError> {
    let exec = entry.exec.as_deref().ok_or(ExecError::Missing)?;
    let mut argv = Vec::new();
    for (word, quoted) in split_exec(exec)? {
        // A lone field code expands to zero or more whole arguments.
        match word.as_str() {
            "%f" | "%F" | "%u" | "%U" | "%d" | "%D" | "%n" | "%N" | "%v" | "%m" if !quoted => {
                continue;
            }
            "%i" if !quoted => {
                if let Some(icon) = &entry.icon {
                    argv.push("--icon".to_owned());
                    argv.push(icon.clone());
                }
                continue;
            }
            _ => {}
        }
        argv.push(expand_codes(&word, entry, file));
    }
    if argv.is_empty() {
        return Err(ExecError::Empty);
    }
    Ok(argv)
}

/// Field codes inside a larger argument.
fn expand_codes(word: &str, entry: &DesktopEntry, file: &Path) -> String {
    let mut out = String::with_capacity(word.len());
    let mut chars = word.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('%') => out.push('%'),
            Some('c') => out.push_str(entry.name.as_deref().unwrap_or("")),
            Some('k') => out.push_str(&file.to_string_lossy()),
            // File/URL codes and unknown ones expand to nothing.
            _ => {}
        }
    }
    out
}

/// Splits an Exec value into words: spaces separate, double quotes group, and inside quotes
/// `\" \` \$ \\` are escapes. Returns each word and whether it was quoted.
fn split_exec(exec: &str) -> Result<Vec<(String, bool)>, ExecError> {
    let mut words = Vec::new();
    let mut chars = exec.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| *c == ' ' || *c == '\t') {
            chars.next();
        }
        let Some(&first) = chars.peek() else { break };
        let mut word = String::new();
        let mut quoted = false;
        if first == '"' {
            quoted = true;
            chars.next();
            loop {
                match chars.next() {
                    None => return Err(ExecError::UnterminatedQuote),
                    Some('"') => break,
                    Some('\\') => match chars.next() {
                        Some(c @ ('"' | '`' | '$' | '\\')) => word.push(c),
                        Some(c) => {
                            word.push('\\');
                            word.push(c);
                        }
                        None => return Err(ExecError::UnterminatedQuote),
                    },
                    Some(c) => word.push(c),
                }
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c == ' ' || c == '\t' {
                    break;
                }
                word.push(c);
                chars.next();
            }
        }
        words.push((word, quoted));
    }
    Ok(words)
}

/// Quotes one argument for an `Exec` line when it needs it.
fn quote_exec_arg(arg: &str) -> String {
    let plain = !arg.is_empty()
        && arg
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-+,:@".contains(c));
    if plain {
        return arg.to_owned();
    }
    let mut out = String::from("\"");
    for c in arg.chars() {
        if matches!(c, '"' | '`' | '$' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    // The string-level escape for backslashes comes on top of the Exec-level one.
    out.replace('\\', "\\\\")
}

/// The directories searched for `applications/*.desktop`, most important first:
/// `$XDG_DATA_HOME` (default `$HOME/.local/share`), then `$XDG_DATA_DIRS` (default
/// `/usr/local/share:/usr/share`).
pub fn data_dirs_from(
    xdg_data_home: Option<std::ffi::OsString>,
    home: Option<std::ffi::OsString>,
    xdg_data_dirs: Option<std::ffi::OsString>,
) -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    let data_home = xdg_data_home
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| {
            home.map(PathBuf::from)
                .filter(|p| p.is_absolute())
                .map(|h| h.join(".local/share"))
        });
    dirs.extend(data_home);
    let system = xdg_data_dirs
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| "/usr/local/share:/usr/share".into());
    dirs.extend(
        std::env::split_paths(&system)
            .filter(|p| p.is_absolute())
            .collect::<Vec<_>>(),
    );
    dirs
}

/// [`data_dirs_from`] with the process environment.
pub fn data_dirs() -> Vec<PathBuf> {
    data_dirs_from(
        std::env::var_os("XDG_DATA_HOME"),
        std::env::var_os("HOME"),
        std::env::var_os("XDG_DATA_DIRS"),
    )
}

/// The file for a desktop-file id such as `thunderbird.desktop` or `org.kde.kmail2.desktop`,
/// searching `dirs` in order. Per the spec, `-` in an id may stand for a subdirectory
/// (`kde4-kmail.desktop` → `applications/kde4/kmail.desktop`).
pub fn find_desktop_file(id: &str, dirs: &[PathBuf]) -> Option<PathBuf> {
    if id.is_empty() || id.contains('/') || !id.ends_with(".desktop") {
        return None;
    }
    for dir in dirs {
        let apps = dir.join("applications");
        let direct = apps.join(id);
        if direct.is_file() {
            return Some(direct);
        }
        // Each '-' may be a '/': try the prefixes, shortest first.
        for (i, _) in id.match_indices('-') {
            let candidate = apps.join(&id[..i]).join(&id[i + 1..]);
            if candidate.is_file() {
                return Some(candidate);
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    fn entry(exec: &str) -> DesktopEntry {
        parse_desktop_entry(&format!(
            "[Desktop Entry]\nName=Mail App\nIcon=mail-app\nExec={exec}\n"
        ))
    }

    fn argv(exec: &str) -> Vec<String> {
        exec_argv(&entry(exec), Path::new("/usr/share/applications/m.desktop")).unwrap()
    }

    #[test]
    fn file_and_url_codes_are_removed_so_the_main_window_opens() {
        assert_eq!(argv("thunderbird %u"), ["thunderbird"]);
        assert_eq!(argv("evolution %U"), ["evolution"]);
        assert_eq!(
            argv("/usr/bin/kmail -caption %c %f"),
            ["/usr/bin/kmail", "-caption", "Mail App"]
        );
        assert_eq!(argv("geary --mailto=%u"), ["geary", "--mailto="]);
        assert_eq!(argv("app %F --x %d %D %n %N %v %m"), ["app", "--x"]);
    }

    #[test]
    fn icon_name_path_and_percent() {
        assert_eq!(argv("app %i"), ["app", "--icon", "mail-app"]);
        assert_eq!(
            argv("app %k 100%%"),
            ["app", "/usr/share/applications/m.desktop", "100%"]
        );
    }

    #[test]
    fn quoting_and_escapes_follow_the_spec() {
        // In the file, a literal backslash inside quotes is written \\\\ (string escape, then
        // Exec escape).
        let e = parse_desktop_entry(
            "[Desktop Entry]\nExec=\"/opt/My Mail/mail\" \"a \\\\\"b\\\\\" $c\" \\\\\\\\x %u\n",
        );
        assert_eq!(
            exec_argv(&e, Path::new("/x.desktop")).unwrap(),
            ["/opt/My Mail/mail", "a \"b\" $c", "\\\\x"]
        );
        assert_eq!(
            exec_argv(&entry("\"unterminated"), Path::new("/x")),
            Err(ExecError::UnterminatedQuote)
        );
        assert_eq!(
            exec_argv(&entry("%u"), Path::new("/x")),
            Err(ExecError::Empty)
        );
        assert_eq!(
            exec_argv(&DesktopEntry::default(), Path::new("/x")),
            Err(ExecError::Missing)
        );
    }

    #[test]
    fn only_the_main_group_counts() {
        let e = parse_desktop_entry(
            "# c\n[Desktop Entry]\nName=Mail\nName[de]=Post\nExec=mail %u\nTerminal=false\n\
             [Desktop Action compose]\nExec=mail -compose %u\n",
        );
        assert_eq!(e.name.as_deref(), Some("Mail"));
        assert_eq!(e.exec.as_deref(), Some("mail %u"));
        assert!(!e.terminal);
    }

    #[test]
    fn desktop_files_are_found_in_order_and_in_subdirectories() {
        let a = tempfile::tempdir().unwrap();
        let b = tempfile::tempdir().unwrap();
        fs::create_dir_all(a.path().join("applications")).unwrap();
        fs::create_dir_all(b.path().join("applications/kde4")).unwrap();
        fs::write(a.path().join("applications/mail.desktop"), "a").unwrap();
        fs::write(b.path().join("applications/mail.desktop"), "b").unwrap();
        fs::write(b.path().join("applications/kde4/kmail.desktop"), "k").unwrap();
        let dirs = vec![a.path().to_owned(), b.path().to_owned()];
        assert_eq!(
            find_desktop_file("mail.desktop", &dirs).unwrap(),
            a.path().join("applications/mail.desktop")
        );
        assert_eq!(
            find_desktop_file("kde4-kmail.desktop", &dirs).unwrap(),
            b.path().join("applications/kde4/kmail.desktop")
        );
        assert_eq!(find_desktop_file("../etc.desktop", &dirs), None);
        assert_eq!(find_desktop_file("none.desktop", &dirs), None);
    }

    #[test]
    fn data_dirs_follow_xdg_defaults() {
        assert_eq!(
            data_dirs_from(None, Some("/home/ana".into()), None),
            [
                PathBuf::from("/home/ana/.local/share"),
                PathBuf::from("/usr/local/share"),
                PathBuf::from("/usr/share")
            ]
        );
        assert_eq!(
            data_dirs_from(Some("/d".into()), None, Some("/x:rel:/y".into())),
            [
                PathBuf::from("/d"),
                PathBuf::from("/x"),
                PathBuf::from("/y")
            ]
        );
    }

    #[test]
    fn autostart_entry_is_written_and_removed() {
        let dir = tempfile::tempdir().unwrap();
        let path = autostart_path_from(Some(dir.path().as_os_str().to_owned()), None).unwrap();
        assert_eq!(
            path,
            dir.path()
                .join("autostart/io.github.pushmail.Pushmail.desktop")
        );
        assert_eq!(DESKTOP_FILE, format!("{APP_ID}.desktop"));
        set_autostart_at(&path, true, Path::new("/opt/Push Mail/pushmail")).unwrap();
        let text = fs::read_to_string(&path).unwrap();
        let e = parse_desktop_entry(&text);
        assert_eq!(
            exec_argv(&e, &path).unwrap(),
            ["/opt/Push Mail/pushmail"],
            "{text}"
        );
        assert!(text.contains("X-GNOME-Autostart-enabled=true"));
        set_autostart_at(&path, false, Path::new("pushmail")).unwrap();
        assert!(!path.exists());
        // Removing twice is fine.
        set_autostart_at(&path, false, Path::new("pushmail")).unwrap();
        assert_eq!(autostart_path_from(Some("rel".into()), None), None);
        assert_eq!(
            autostart_path_from(None, Some("/h".into())).unwrap(),
            PathBuf::from("/h/.config/autostart/io.github.pushmail.Pushmail.desktop")
        );
    }
}
