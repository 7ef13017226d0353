//! A private PostgreSQL 15 per test: its own data directory (owned by the `postgres` system
//! user, as initdb refuses root), its own free port on 127.0.0.1, trust authentication for
//! loopback only, stopped (fast shutdown) and removed on drop.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::{Context, Result, bail};

/// Debian's PostgreSQL 15 programs.
const BIN: &str = "/usr/lib/postgresql/15/bin";

/// A running private PostgreSQL.
pub struct Postgres {
    dir: tempfile::TempDir,
    port: u16,
    child: Option<Child>,
}

impl Postgres {
    /// initdb + start; returns once it accepts connections (`pg_isready`).
    pub fn start() -> Result<Postgres> {
        Postgres::start_with(false)
    }

    /// [`Postgres::start`] with TLS required on 127.0.0.1 (`hostssl` only; a plain connection
    /// is rejected by `pg_hba.conf`), its certificate for `localhost`/`127.0.0.1` issued by a
    /// throw-away CA whose file is [`Postgres::ca_file`].
    pub fn start_tls() -> Result<Postgres> {
        Postgres::start_with(true)
    }

    /// The CA of a [`Postgres::start_tls`] server's certificate.
    pub fn ca_file(&self) -> PathBuf {
        self.dir.path().join("tls/ca.pem")
    }

    fn start_with(tls: bool) -> Result<Postgres> {
        if !Path::new(BIN).join("postgres").is_file() {
            bail!("PostgreSQL 15 is missing: apt-get install postgresql-15 (scripts/setup does)");
        }
        let dir = tempfile::Builder::new().prefix("pushmail-pg").tempdir()?;
        let data = dir.path().join("data");
        std::fs::create_dir(&data)?;
        let as_root = running_as_root();
        if as_root {
            chown_postgres(dir.path())?;
            chown_postgres(&data)?;
        }
        let out = postgres_cmd(as_root, &Path::new(BIN).join("initdb"))
            .args(["-D"])
            .arg(&data)
            .args([
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C.UTF-8",
                "--username=postgres",
                "--no-sync",
            ])
            .stdout(Stdio::null())
            .output()
            .context("running initdb")?;
        if !out.status.success() {
            bail!("initdb failed: {}", String::from_utf8_lossy(&out.stderr));
        }
        let mut tls_args: Vec<String> = Vec::new();
        if tls {
            let files = crate::tls::make_tls(&dir.path().join("tls"))?;
            // Where [`Postgres::ca_file`] finds it, whatever the test CA calls its file.
            if files.ca != dir.path().join("tls/ca.pem") {
                std::fs::copy(&files.ca, dir.path().join("tls/ca.pem"))?;
            }
            let (cert, key) = (data.join("server.crt"), data.join("server.key"));
            std::fs::copy(&files.cert, &cert)?;
            std::fs::copy(&files.key, &key)?;
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600))?;
            if as_root {
                chown_postgres(&cert)?;
                chown_postgres(&key)?;
            }
            std::fs::write(
                data.join("pg_hba.conf"),
                "local all all trust\n\
                 hostssl all all 127.0.0.1/32 trust\n\
                 hostnossl all all 127.0.0.1/32 reject\n",
            )?;
            tls_args = [
                "ssl=on",
                "ssl_cert_file=server.crt",
                "ssl_key_file=server.key",
            ]
            .iter()
            .flat_map(|a| ["-c".to_owned(), (*a).to_owned()])
            .collect();
        }
        let port = crate::free_port();
        let log = std::fs::File::create(dir.path().join("postgres.log"))?;
        if as_root {
            chown_postgres(&dir.path().join("postgres.log"))?;
        }
        let child = postgres_cmd(as_root, &Path::new(BIN).join("postgres"))
            .arg("-D")
            .arg(&data)
            .args(["-p", &port.to_string()])
            .args(["-c", "listen_addresses=127.0.0.1"])
            .arg("-c")
            .arg(format!("unix_socket_directories={}", dir.path().display()))
            .args(["-c", "fsync=off", "-c", "max_connections=300"])
            .args(["-c", "shared_buffers=64MB"])
            .args(&tls_args)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .context("starting postgres")?;
        let mut pg = Postgres {
            dir,
            port,
            child: Some(child),
        };
        let ready = crate::wait_until(Duration::from_secs(30), || {
            Ok(Command::new(Path::new(BIN).join("pg_isready"))
                .args(["-h", "127.0.0.1", "-p", &port.to_string(), "-q"])
                .status()?
                .success())
        })?;
        if !ready {
            let log = pg.log();
            pg.stop();
            bail!("PostgreSQL did not start; its log:\n{log}");
        }
        Ok(pg)
    }

    /// A new empty database; returns its connection string (key=value form).
    pub fn create_database(&self, name: &str) -> Result<String> {
        self.psql("postgres", &format!("CREATE DATABASE \"{name}\""))?;
        Ok(self.conninfo(name))
    }

    /// The connection string of database `name`.
    pub fn conninfo(&self, name: &str) -> String {
        format!(
            "host=127.0.0.1 port={} user=postgres dbname={name}",
            self.port
        )
    }

    /// Runs `sql` with psql (tab-separated, unaligned, no headers) and returns its output.
    pub fn psql(&self, db: &str, sql: &str) -> Result<String> {
        let out = Command::new("/usr/bin/psql")
            .args(["-h", "127.0.0.1", "-p", &self.port.to_string()])
            .args([
                "-U", "postgres", "-d", db, "-X", "-q", "-A", "-t", "-F", "\t",
            ])
            .args(["-v", "ON_ERROR_STOP=1", "-c", sql])
            .output()
            .context("running psql")?;
        if !out.status.success() {
            bail!("psql `{sql}`: {}", String::from_utf8_lossy(&out.stderr));
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// The server's port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The server's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("postgres.log")).unwrap_or_default()
    }

    /// The data directory's parent (log, socket).
    pub fn dir(&self) -> PathBuf {
        self.dir.path().to_owned()
    }

    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            // SIGINT to the postmaster (its pid is the first line of postmaster.pid): fast
            // shutdown, clients disconnected. `runuser`, our child, does not pass it on.
            let pid_file = self.dir.path().join("data/postmaster.pid");
            let pid = std::fs::read_to_string(pid_file)
                .ok()
                .and_then(|t| t.lines().next().map(str::to_owned))
                .unwrap_or_else(|| child.id().to_string());
            let _ = Command::new("kill").args(["-INT", &pid]).status();
            for _ in 0..250 {
                if let Ok(Some(_)) = child.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        self.stop();
    }
}

fn running_as_root() -> bool {
    // `id -u` rather than libc::geteuid: the crate denies unsafe code.
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

fn chown_postgres(path: &Path) -> Result<()> {
    let ok = Command::new("chown")
        .arg("postgres:postgres")
        .arg(path)
        .status()?
        .success();
    if !ok {
        bail!("cannot chown {} to postgres", path.display());
    }
    Ok(())
}

/// Runs `program` as the `postgres` user when we are root (initdb and postgres refuse root).
fn postgres_cmd(as_root: bool, program: &Path) -> Command {
    if as_root {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(program);
        c
    } else {
        Command::new(program)
    }
}
